"""The README's two commands side by side, and the docs' examples as written, on the fresh demo.

A temporary copy of the checkout runs `bash scripts/dev.sh` for real (migrate, collectstatic, load_demo,
runserver with its autoreloader) on a free port. Its `.venv` is a small virtualenv of the copy's own that
reuses this interpreter's packages (nothing is downloaded; the repository's `.venv` is never touched).
Then the test command's environment setup runs beside it, and the documented shell examples run verbatim
(only the port of http://127.0.0.1:8000 differs) with curl and jq.
"""

import hashlib
import os
import re
import shutil
import signal
import site
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.drills.services import free_port, port_open, wait_for

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
DOCS_BASE = "http://127.0.0.1:8000"


def _copy_checkout(dest: Path) -> None:
    """Copy what a fresh clone holds (tracked and new, not ignored files) into `dest`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def _shim_venv(root: Path) -> None:
    """Give the copy a `.venv` whose packages are this interpreter's, marked as installed for dev.sh."""
    venv = root / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site_packages,) = (venv / "lib").glob("python3*/site-packages")
    (site_packages / "prmweb-test-packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    # dev.sh skips its install when the stamp of its requirements file exists: read which file from dev.sh itself
    found = re.search(r"\.venv/\.base-installed-\$\(sha256sum (\S+) ", (root / "scripts" / "dev.sh").read_text())
    assert found is not None, "scripts/dev.sh no longer stamps its install as this test expects"
    digest = hashlib.sha256((root / found.group(1)).read_bytes()).hexdigest()[:16]
    (venv / f".base-installed-{digest}").touch()


def _clean_env(**extra: str) -> dict[str, str]:
    """A newcomer's shell: no Django, database, broker or cache settings from this test run."""
    dropped = ("PYTEST", "DJANGO", "DATABASE_URL", "CELERY", "CACHE_URL", "SECRET_KEY", "EXPORT_ROOT", "PIP_")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(dropped)}, **extra}


class DevServer:
    def __init__(self, root: Path, port: int, log: Path) -> None:
        self.root, self.base, self.log_path = root, f"http://127.0.0.1:{port}", log
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            ["bash", "scripts/dev.sh"],
            cwd=root,
            env=_clean_env(PRMWEB_ADDR=f"127.0.0.1:{port}"),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        self._log.close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0  # connection refused: the server is down (e.g. restarting)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    if shutil.which("curl") is None or shutil.which("jq") is None:
        pytest.skip("the documented examples need curl and jq")
    root = tmp_path_factory.mktemp("fresh-clone")
    _copy_checkout(root)
    _shim_venv(root)
    server = DevServer(root, free_port(), tmp_path_factory.mktemp("logs") / "dev.log")
    try:
        port = int(server.base.rsplit(":", 1)[1])
        ready = wait_for(lambda: "== serving" in server.output() and port_open(port), 300, interval=0.5)
        assert ready, server.output()[-3000:]
        assert wait_for(lambda: _status(f"{server.base}/accounts/login/") == 200, 60), server.output()[-3000:]
        yield server
    finally:
        server.stop()


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns) for path in folder.rglob("*")}


def _probe_wheel(folder: Path) -> None:
    """Write a tiny pure-Python wheel, so the test environment's install needs no network."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "prmweb_probe/__init__.py": "VERSION = '1.0'\n",
        "prmweb_probe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: prmweb-probe\nVersion: 1.0\n",
        "prmweb_probe-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{name},,\n" for name in files) + "prmweb_probe-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(folder / "prmweb_probe-1.0-py3-none-any.whl", "w") as wheel:
        for name, text in {**files, "prmweb_probe-1.0.dist-info/RECORD": record}.items():
            wheel.writestr(name, text)


def _poll(url: str, answers: list[int], stop: threading.Event) -> None:
    while not stop.is_set():
        answers.append(_status(url))
        time.sleep(0.2)


def test_the_test_command_sets_up_its_own_environment_while_the_dev_server_keeps_answering(demo, tmp_path):
    root = demo.root
    _probe_wheel(tmp_path / "wheels")
    listed = re.search(r'^reqs="([^"]+)"', (root / "scripts" / "test.sh").read_text(), flags=re.M)
    assert listed is not None, "scripts/test.sh no longer lists its requirements as this test expects"
    requirements = {name: (root / name).read_text() for name in listed.group(1).split()}
    for name in requirements:  # the real files pin ~1.9 GB (torch included): the same steps on one tiny wheel
        (root / name).write_text("prmweb-probe==1.0\n")
    before = _tree(root / ".venv")
    answers: list[int] = []
    stop = threading.Event()
    poller = threading.Thread(target=_poll, args=(f"{demo.base}/accounts/login/", answers, stop))
    poller.start()
    try:
        env = _clean_env(PRMWEB_TEST_ENV_ONLY="1", PIP_NO_INDEX="1", PIP_FIND_LINKS=str(tmp_path / "wheels"))
        setup = subprocess.run(
            ["bash", "scripts/test.sh"], cwd=root, env=env, capture_output=True, text=True, timeout=600
        )
        time.sleep(3)  # the autoreloader looks for changes every second: give it time to react to any
    finally:
        stop.set()
        poller.join()
        for name, text in requirements.items():
            (root / name).write_text(text)

    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "== installing pinned requirements into .venv-test" in setup.stdout
    assert setup.stdout.rstrip().endswith("== .venv-test is ready")
    assert list((root / ".venv-test").glob("lib/python3*/site-packages/prmweb_probe/__init__.py"))
    assert _tree(root / ".venv") == before  # the server's environment is untouched
    assert len(answers) > 10 and set(answers) == {200}, answers  # never refused, never restarted
    log = demo.output()
    assert log.count("Watching for file changes") == 1, log[-3000:]
    assert "changed, reloading" not in log


def _bash_block(doc: str, marker: str) -> str:
    """Return the one ```bash block of docs/<doc> (or of README.md) that contains `marker`."""
    text = (REPO / (doc if doc == "README.md" else f"docs/{doc}")).read_text(encoding="utf-8")
    (block,) = [block for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S) if marker in block]
    return block


def _run_example(demo, block: str) -> subprocess.CompletedProcess[str]:
    script = "set -euo pipefail\n" + block.replace(DOCS_BASE, demo.base)
    return subprocess.run(
        ["bash", "-c", script], cwd=demo.root, env=_clean_env(), capture_output=True, text=True, timeout=300
    )


def test_the_api_example_ingests_a_record_and_reads_it_back_identical(demo):
    result = _run_example(demo, _bash_block("api.md", "drf_create_token demo"))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "identical"
    assert '"slug":"pb-gsm8k"' in lines[0]
    assert lines[1] == '{"username":"annotator1","role":"annotator"}'
    assert re.fullmatch(
        r'\{"created":1,"existing":0,"items":\[\{"index":0,"status":"created","id":\d+,"external_id":"gsm8k-0"\}\]\}',
        lines[2],
    )


def test_the_readme_example_posts_a_response_and_imports_a_batch_file(demo):
    block = _bash_block("README.md", "import_solutions tests/fixtures/batch")
    check = (
        'ID=$(curl -s "http://127.0.0.1:8000/api/v1/datasets/demo/solutions/?external_id=my-first" '
        '-H "Authorization: Token $TOKEN" | jq .results[0].id)\n'
        'curl -s "http://127.0.0.1:8000/api/v1/datasets/demo/solutions/$ID/" -H "Authorization: Token $TOKEN" '
        "| jq -c '{steps: (.steps | length), flagged: [.suggestions[] | select(.method == \"arithmetic\") | .label]}'\n"
    )
    result = _run_example(demo, block + check)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(
        r'\{"created":1,"existing":0,"items":\[\{"index":0,"status":"created","id":\d+,"external_id":"my-first"\}\]\}',
        lines[0],
    )
    assert lines[1] == "Created dataset 'samples' (no members yet: add them with add_member)."
    assert lines[2].startswith("line 2 (custom_id request-7): skipped: the request failed:")
    assert lines[3:] == ["created 2, existing 0, rejected 0, skipped 1", '{"steps":3,"flagged":[1]}']


def test_the_response_example_prints_each_answer_on_its_line_with_the_record_subset(demo):
    """The example runs in the shell of the one before it (its token, API and dataset)."""
    block = _bash_block("api.md", "drf_create_token demo") + _bash_block("api.md", "response.json")
    result = _run_example(demo, block)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-3:] == [
        "identical",
        "same steps",
        '{"segmentation":"paragraphs","step_offsets":[[0,238],[240,446],[448,718],[720,978],[980,1170]]}',
    ]
    ingested = r'\{"created":[01],"existing":[01],"items":\[.*"external_id":"response-math-2"\}\]\}'
    assert re.fullmatch(ingested, lines[-4]), lines


def test_the_metrics_example_prints_only_the_json(demo):
    result = _run_example(demo, _bash_block("annotating.md", "/metrics/"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith('{\n    "dataset": "demo",') and result.stderr == ""


def test_the_exports_api_example_runs_on_the_fresh_demo(demo):
    result = _run_example(demo, _bash_block("exports.md", '"$API/exports/"'))
    assert result.returncode == 0, result.stdout + result.stderr
    listed, detail = result.stdout.splitlines()
    assert re.fullmatch(r'\[\{"id":\d+,"status":"succeeded"\}(,\{"id":\d+,"status":"\w+"\})*\]', listed), listed
    assert detail == '{"status":"succeeded","progress":1,"row_counts":{"train":6,"validation":2,"test":0}}'
    assert (demo.root / "card.md").read_text(encoding="utf-8").startswith("---\n")
    with zipfile.ZipFile(demo.root / "export.zip") as archive:
        assert any(name.endswith("/manifest.json") for name in archive.namelist())


def test_the_export_command_example_runs_on_the_fresh_demo(demo):
    result = _run_example(demo, _bash_block("exports.md", "export_labels --dataset demo --format trl"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.match(r"Export \d+: 8 solutions \(train 6, validation 2, test 0\)\n", result.stdout), result.stdout
    assert (demo.root / "exported" / "demo-trl" / "manifest.json").exists()
    progress, note = result.stderr.splitlines()  # stderr is a pipe: the bar's last line once, then the note
    assert re.fullmatch(r"export: 100%\|█+\| 8/8 \[.*\]", progress), result.stderr
    assert note.startswith("note: no problem fell into test")


def test_the_critique_export_example_fails_on_the_fresh_demo_as_described(demo):
    block = _bash_block("exports.md", "--format critique --critique-source both")
    result = _run_example(demo, block)
    assert result.returncode == 1 and result.stdout == ""
    text = (REPO / "docs" / "exports.md").read_text(encoding="utf-8")
    said = re.search(r"`Export \d+ failed: (8 solution\(s\) matched, .*?Nothing was written\.)`", text, re.S)
    assert said is not None
    assert " ".join(said.group(1).split()) in result.stderr, result.stderr
    assert not list((demo.root / "exports" / "demo").glob("*-critique"))


def test_the_import_example_makes_a_dataset_the_demo_manager_can_use(demo):
    result = _run_example(demo, _bash_block("api.md", "import_solutions tests/fixtures/processbench"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "Created dataset 'pb-gsm8k-file' (manager 'demo').",
        "created 400, existing 0, rejected 0",
    ]
    assert re.fullmatch(r"importing: 100%\|█+\| 400/400 \[.*\]\n", result.stderr), result.stderr


def test_the_add_member_example_runs_on_the_demo_and_again(demo):
    block = _bash_block("api.md", "add_member --dataset demo")
    first = _run_example(demo, block)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.splitlines() == [
        "annotator2 is reviewer of dataset 'demo' (was annotator).",
        "Created user 'nina'.",
        "nina is annotator of dataset 'demo' (added).",
    ]
    again = _run_example(demo, block)
    assert again.stdout.splitlines() == [
        "annotator2 is reviewer of dataset 'demo' (unchanged).",
        "User 'nina' exists; the password is left unchanged.",
        "nina is annotator of dataset 'demo' (unchanged).",
    ]
