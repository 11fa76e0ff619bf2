"""The commands README.md and docs/*.md show run as written from a fresh clone.

Every command in a shell code block, and every inline command span, is read: a `manage.py` command must be
run by the project's interpreter (`.venv/bin/python`, so no activated venv is assumed), name a command that
exists and use only options that command accepts; `bench/` and `scripts/` paths must exist, and a bench
script must accept the options shown. Plain `python`, `celery` or `pip` (whose venv nobody activated) are
refused.
"""

import re
import shlex
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
INLINE = re.compile(r"`([^`]+)`")
CONTROL = {"&&", "||", "|", ";", "(", ")", "&", ";;"}
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
UNVENVED = {"python", "python3", "celery", "pip", "pip3", "lint-imports"}
COMMAND_START = (".venv/bin/", "python", "bash ", "celery", "pip ", "curl ")
QUIET = re.compile(r"^-[a-zA-Z]*s[a-zA-Z]*$")  # -s, -sS, -fsS: curl's progress meter off
KEPT_OUTPUT = {"-o", "-O", "--output", "-w", "--write-out"}


def _simple_commands(line: str) -> list[list[str]]:
    """Split one shell line into simple commands (words), at pipes, `&&`, `;` and `$(`...`)`."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in CONTROL or set(token) <= set("();<>|&"):
            commands.append([])
        else:
            commands[-1].append(token.removeprefix("$(").removesuffix(")"))
    return [words for words in commands if words]


def _logical_lines(block: str) -> list[str]:
    """Return the block's command lines: continuations joined, a quoted string spanning lines kept whole."""
    lines: list[str] = []
    pending = ""
    for line in block.replace("\\\n", " ").splitlines():
        pending = f"{pending}\n{line}" if pending else line
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # a quotation still open: the command goes on
            continue
        if pending.strip():
            lines.append(pending.replace("\n", " "))
        pending = ""
    return lines


def _command_lines(page: Path) -> list[tuple[str, str]]:
    """Return (where, command line) for every shell block line and inline command span of the page."""
    text = page.read_text(encoding="utf-8")
    found: list[tuple[str, str]] = []
    for match in FENCE.finditer(text):
        if match.group(1) in SHELL_LANGUAGES:
            found += [(f"{page.name} block", line) for line in _logical_lines(match.group(2))]
    prose = FENCE.sub("", text)
    for match in INLINE.finditer(prose):
        span = " ".join(match.group(1).split())
        words = [word for word in span.split() if not ENV_ASSIGNMENT.match(word)]
        if len(words) > 1 and (" ".join(words).startswith(COMMAND_START) or "manage.py" in span):
            found.append((f"{page.name} inline", span.replace("[", " ").replace("]", " ")))
    return found


def _curl_problems(line: str) -> list[str]:
    """Return what a newcomer would see wrong running the line's curl commands in a terminal.

    Without `-s`, curl draws a progress meter whenever its output goes to a pipe or file. A JSON answer has no
    trailing newline: printed to the terminal, the next output (or the prompt) would continue its line, so a
    curl whose answer is neither piped, redirected, captured by `$(...)` nor written with `-o` needs `-w "\n"`.
    """
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    problems: list[str] = []
    words: list[str] = []
    for token in [*lexer, None]:
        if token is not None and token not in CONTROL and not set(token) <= set("();<>|&"):
            words.append(token)
            continue
        curl = next((word for word in words if word.removeprefix("$(") == "curl" or word.endswith("=$(curl")), None)
        if curl is not None:
            if not any(QUIET.match(word) for word in words):
                problems.append("curl without -s (its progress meter lands in the output)")
            captured = curl.startswith("$(") or "=$(" in curl
            if not (captured or token in {"|", ">", ">>"} or KEPT_OUTPUT & set(words)):
                problems.append('curl prints its answer without a trailing newline: add -w "\\n"')
        words = []
    return problems


def _options(words: list[str]) -> list[str]:
    return [word.split("=", 1)[0] for word in words if word.startswith("-") and word not in {"-", "--"}]


def _manage_problems(words: list[str], index: int) -> tuple[str | None, list[str]]:
    if index == 0 or words[index - 1] != ".venv/bin/python":
        return None, ["run manage.py with .venv/bin/python"]
    if index + 1 >= len(words):
        return None, ["manage.py without a command"]
    name = words[index + 1]
    commands = get_commands()
    if name not in commands:
        return name, [f"no manage.py command {name!r}"]
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    known = parser._option_string_actions
    return name, [f"{name} has no option {option}" for option in _options(words[index + 2 :]) if option not in known]


def _script_problems(words: list[str]) -> list[str]:
    problems = []
    for index, word in enumerate(words):
        if re.fullmatch(r"bench/[\w./-]+\.py", word):
            path = ROOT / word
            if not path.is_file():
                problems.append(f"{word} does not exist")
                continue
            if index == 0 or words[index - 1] != ".venv/bin/python":
                problems.append(f"run {word} with .venv/bin/python")
            source = path.read_text(encoding="utf-8")
            problems += [f"{word} has no option {o}" for o in _options(words[index + 1 :]) if f'"{o}"' not in source]
        elif re.fullmatch(r"scripts/[\w./-]+\.sh", word) and not (ROOT / word).is_file():
            problems.append(f"{word} does not exist")
    return problems


def _check(line: str) -> tuple[set[str], list[str]]:
    """Return the manage.py commands the line runs and what is wrong with it."""
    named: set[str] = set()
    problems: list[str] = []
    for words in _simple_commands(line):
        words = [word for word in words if word]
        while words and ENV_ASSIGNMENT.match(words[0]):
            words = words[1:]
        if not words:
            continue
        if words[0] in UNVENVED:
            problems.append(f"{words[0]} without .venv/bin/ (no venv is active on a fresh clone)")
        if "manage.py" in words:
            name, found = _manage_problems(words, words.index("manage.py"))
            named |= {name} if name else set()
            problems += found
        problems += _script_problems(words)
    return named, problems + _curl_problems(line)


def test_every_command_shown_runs_as_written():
    problems: list[str] = []
    named: set[str] = set()
    for page in PAGES:
        for where, line in _command_lines(page):
            commands, found = _check(line)
            named |= commands
            problems += [f"{where}: {line.strip()[:90]}: {problem}" for problem in found]
    assert problems == []
    assert {"load_demo", "import_solutions", "export_labels", "score_solutions", "add_member", "migrate"} <= named


@pytest.mark.parametrize(
    "line, problem",
    [
        ("python manage.py migrate", "python without .venv/bin/ (no venv is active on a fresh clone)"),
        (".venv/bin/python manage.py import_solution x", "no manage.py command 'import_solution'"),
        (".venv/bin/python manage.py export_labels --dataset d --formats trl", "export_labels has no option --formats"),
        ("X=1 .venv/bin/python bench/nope.py", "bench/nope.py does not exist"),
        (".venv/bin/python bench/mc_search.py --rollout 8", "bench/mc_search.py has no option --rollout"),
        ("bash scripts/deploy.sh", "scripts/deploy.sh does not exist"),
        ("TOKEN=$(manage.py drf_create_token demo | awk '{print $3}')", "run manage.py with .venv/bin/python"),
        ('curl "$API/datasets/" -H "Auth: T"', "curl without -s (its progress meter lands in the output)"),
        ('curl -s -X POST "$API/x/" -d @r.json', 'curl prints its answer without a trailing newline: add -w "\\n"'),
        ('curl -H "A: b" http://h/api/ | jq .', "curl without -s (its progress meter lands in the output)"),
    ],
)
def test_the_checker_names_what_would_fail(line, problem):
    assert problem in _check(line)[1]


def test_the_checker_accepts_a_correct_command_line():
    line = "A=1 .venv/bin/python manage.py score_solutions --dataset demo --method mc --limit 100 && echo done"
    assert _check(line) == ({"score_solutions"}, [])


@pytest.mark.parametrize(
    "line",
    [
        'curl -s -w "\\n" -X POST "$API/datasets/" -d @r.json',
        'ID=$(curl -s "$API/x/" | jq .id)',
        'curl -s "$API/x/" > detail.json',
        'curl -s -o card.md "$API/x/"',
        'curl -fsS "$API/x/" | jq -c .',
    ],
)
def test_the_checker_accepts_quiet_curls_whose_answer_ends_its_line(line):
    assert _curl_problems(line) == []


def test_the_readme_links_every_docs_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in PAGES[1:]:
        assert f"(docs/{page.name})" in readme, page.name
