"""LLM-as-a-judge critique (ProcessBench protocol) with voting over samples.

The solution is shown as paragraphs tagged `<paragraph_i>` and indexed from 0, in ProcessBench's
critique template, sent as ONE user message through the model's chat template with the generation
prompt added (`code/run_eval.py`); the model critiques the paragraphs and puts the index of the earliest
wrong one (or -1) in `\\boxed{}`. Budget: 8192 new tokens as the reference, capped by the engine at the
context the prompt leaves.

Voting (`voting`):
- `processbench` (default, `run_eval.py` exactly): each sample's answer is the last `\\boxed{...}` (no
  nested braces, as its regular expression); samples without one are dropped; the most common answer
  string wins (ties: the first seen); a winner that `int()` rejects is no label. An integer outside
  -1..steps-1 can match no label either, so it is no label here too.
- `parseable_majority` (the rule before): each sample's verdict is the integer in its last brace-balanced
  `\\boxed{}` within -1..steps-1, anything else is dropped; the majority of verdicts wins; ties go to a
  step over -1 and to the earliest step (`details["tie"]`, `details["tied_labels"]`).
No label → `failed` with the reason; the critiques are kept in `details`.
"""

import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from prmweb.core.critique import CRITIQUE_TEMPLATE_PATH, critique_prompt, parse_verdict
from scoring.engines.base import (
    PROMPT_FORMATS,
    ChatMessage,
    ChatPrompt,
    EngineError,
    Generation,
    GenerationEngine,
    Prompt,
    PromptFormat,
    SamplingParams,
)
from scoring.methods.base import MethodConfigError, MethodResult, SolutionTask

Voting = Literal["processbench", "parseable_majority"]
VOTING_RULES: tuple[str, ...] = ("processbench", "parseable_majority")
DEFAULT_TEMPLATE_PATH = CRITIQUE_TEMPLATE_PATH
PLACEHOLDERS = frozenset({"problem", "tagged_response"})
UNPARSEABLE = "unparseable critique"
NO_STEPS = "solution has no steps"
_RUN_EVAL_BOXED = re.compile(r"\\boxed\{([^}]*)\}")  # code/run_eval.py's extract_answer


def _default_sampling() -> SamplingParams:
    return SamplingParams(n=1, max_tokens=8192, temperature=0.0)


@dataclass(frozen=True)
class JudgeConfig:
    """Settings of one judge run; `sampling.n` is replaced by `samples`.

    `template_path` is a `str.format` template with the fields `{problem}` and `{tagged_response}` (literal
    braces doubled, `\\boxed{{}}`), read and stripped as `run_eval.py` does; default: ProcessBench's
    `critique_template.txt`, copied verbatim to `prmweb/core/prompts/processbench_critique.txt`.
    """

    samples: int = 1
    sampling: SamplingParams = field(default_factory=_default_sampling)
    template_path: str | None = None
    prompt_format: PromptFormat = "chat"
    voting: Voting = "processbench"

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise MethodConfigError("samples", "must be at least 1")
        if self.samples > 1 and self.sampling.temperature <= 0:
            raise MethodConfigError("sampling.temperature", "must be above 0 when voting over several samples")
        if self.prompt_format not in PROMPT_FORMATS:
            raise MethodConfigError("prompt_format", f"must be 'chat' or 'text', not {self.prompt_format!r}")
        if self.voting not in VOTING_RULES:
            raise MethodConfigError("voting", f"must be one of {', '.join(VOTING_RULES)}, not {self.voting!r}")
        if self.template_path is not None and not Path(self.template_path).is_file():
            raise MethodConfigError("template_path", f"no such file: {self.template_path}")

    def load_template(self) -> str:
        """Return the stripped template text, checking that its fields are exactly {problem} and {tagged_response}."""
        template = Path(self.template_path or DEFAULT_TEMPLATE_PATH).read_text(encoding="utf-8").strip()
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        except ValueError as error:
            message = f"not a str.format template ({error}); write literal braces as {{{{ and }}}}"
            raise MethodConfigError("template_path", message) from None
        if fields != PLACEHOLDERS:
            found = ", ".join(f"{{{name}}}" for name in sorted(fields)) or "none"
            raise MethodConfigError(
                "template_path", f"fields must be {{problem}} and {{tagged_response}}, found {found}"
            )
        return template


def critique_text(task: SolutionTask, template: str) -> str:
    """Return the critique prompt text: `template.format(problem=..., tagged_response=...)` as run_eval.py."""
    return critique_prompt(task.question, task.steps, template)


def build_prompt(task: SolutionTask, template: str, prompt_format: PromptFormat = "chat") -> Prompt:
    """Return the judge prompt: ONE user message with the generation prompt added (chat), or the text."""
    text = critique_text(task, template)
    if prompt_format == "text":
        return text
    return ChatPrompt((ChatMessage("user", text),), add_generation_prompt=True)


def run_eval_answer(text: str) -> str | None:
    """Return run_eval.py's `extract_answer`: the last `\\boxed{...}` without nested braces, stripped."""
    matches = _RUN_EVAL_BOXED.findall(text)
    return matches[-1].strip() if matches else None


def run_eval_label(answer: str, num_steps: int) -> int | None:
    """Return `int(answer)` as run_eval.py converts it, or None (not an integer, or outside -1..steps-1)."""
    try:
        value = int(answer)
    except ValueError:
        return None
    return value if -1 <= value < num_steps else None


def tie_break_key(label: int) -> tuple[bool, int]:
    """Order tied labels: step indices before -1, earlier steps first."""
    return (label == -1, label)


def vote(verdicts: Sequence[int | None]) -> tuple[int, float, list[int]] | None:
    """Return (winning label, its share of parseable votes, tied labels) or None when nothing parsed."""
    counts = Counter(v for v in verdicts if v is not None)
    if not counts:
        return None
    top = max(counts.values())
    tied = sorted((label for label, count in counts.items() if count == top), key=tie_break_key)
    return tied[0], top / sum(counts.values()), tied


def step_scores_from_verdicts(verdicts: Sequence[int | None], num_steps: int) -> tuple[float | None, ...]:
    """Return, per step i, the share of parseable samples that find steps 0..i correct."""
    parsed = [v for v in verdicts if v is not None]
    if not parsed:
        return tuple(None for _ in range(num_steps))
    return tuple(sum(1 for v in parsed if v == -1 or v > i) / len(parsed) for i in range(num_steps))


@dataclass(frozen=True)
class Ballot:
    """The outcome of voting over one solution's critiques: a label or the reason there is none."""

    label: int | None
    confidence: float | None
    verdicts: list[int | None]
    error: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def processbench_ballot(texts: Sequence[str], num_steps: int) -> Ballot:
    """Vote as run_eval.py: the most common extracted answer wins (first seen on ties); not an integer: no label."""
    answers = [run_eval_answer(text) for text in texts]
    extracted = [answer for answer in answers if answer is not None]
    verdicts = [None if answer is None else run_eval_label(answer, num_steps) for answer in answers]
    details: dict[str, Any] = {"answers": answers, "votes": dict(Counter(extracted))}
    if not extracted:
        return Ballot(None, None, verdicts, UNPARSEABLE, details)
    winner, count = Counter(extracted).most_common(1)[0]
    label = run_eval_label(winner, num_steps)
    if label is None:
        error = f"the majority answer {winner!r} is not a step index between -1 and {num_steps - 1}"
        return Ballot(None, None, verdicts, error, {**details, "winner": winner})
    return Ballot(label, count / len(extracted), verdicts, details={**details, "winner": winner})


def parseable_ballot(texts: Sequence[str], num_steps: int) -> Ballot:
    """Vote over parseable verdicts only; ties go to a step over -1 and to the earliest step."""
    verdicts = [parse_verdict(text, num_steps) for text in texts]
    outcome = vote(verdicts)
    if outcome is None:
        return Ballot(None, None, verdicts, UNPARSEABLE)
    label, share, tied = outcome
    details = {
        "votes": {str(k): v for k, v in sorted(Counter(v for v in verdicts if v is not None).items())},
        "tie": len(tied) > 1,
        "tied_labels": tied,
        "tie_break": "earliest step wins; any step beats -1",
    }
    return Ballot(label, share, verdicts, details=details)


def _result(task: SolutionTask, generation: Generation, config: JudgeConfig) -> MethodResult:
    base = MethodResult(
        solution_id=task.solution_id,
        status="failed",
        step_scores=tuple(None for _ in task.steps),
        rollouts=len(generation.texts),
        prompt_tokens=generation.prompt_tokens,
        generated_tokens=generation.generated_tokens,
    )
    if generation.error:  # never served: no cost
        return replace(base, error=generation.error, prompt_tokens=0, generated_tokens=0)
    texts = generation.texts
    ballot = (processbench_ballot if config.voting == "processbench" else parseable_ballot)(texts, len(task.steps))
    details = {
        "voting": config.voting,
        "prompt_format": config.prompt_format,
        "max_tokens": generation.max_tokens,
        "verdicts": ballot.verdicts,
        "samples": len(texts),
        "parseable": sum(v is not None for v in ballot.verdicts),
        **ballot.details,
    }
    if ballot.label is None:
        rationale = texts[0] if texts else ""
        return replace(base, error=ballot.error, rationale=rationale, details={**details, "critiques": list(texts)})
    return replace(
        base,
        status="succeeded",
        label=ballot.label,
        step_scores=step_scores_from_verdicts(ballot.verdicts, len(task.steps)),
        confidence=ballot.confidence,
        rationale=texts[ballot.verdicts.index(ballot.label)],
        details=details,
    )


def judge(tasks: Sequence[SolutionTask], engine: GenerationEngine, config: JudgeConfig) -> list[MethodResult]:
    """Return one judge suggestion per task, in order, from ONE batched generate call with n=samples.

    A solution whose prompt the engine could not serve (longer than the context) fails alone.
    """
    template = config.load_template()
    positions = [position for position, task in enumerate(tasks) if task.steps]
    results: dict[int, MethodResult] = {}
    if positions:
        prompts = [build_prompt(tasks[position], template, config.prompt_format) for position in positions]
        generations = engine.generate(prompts, replace(config.sampling, n=config.samples))
        if len(generations) != len(prompts):
            raise EngineError(f"engine returned {len(generations)} generations for {len(prompts)} prompts")
        for position, generation in zip(positions, generations, strict=True):
            results[position] = _result(tasks[position], generation, config)
    return [
        results.get(position) or MethodResult(solution_id=task.solution_id, status="skipped", error=NO_STEPS)
        for position, task in enumerate(tasks)
    ]
