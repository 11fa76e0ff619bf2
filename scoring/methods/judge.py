"""LLM-as-a-judge critique (ProcessBench protocol) with majority voting over samples.

The solution is shown as paragraphs tagged `<paragraph_i>` and indexed from 0; the model critiques them
and puts the index of the earliest wrong paragraph (or -1) in `\\boxed{}`. The LAST boxed value is the
verdict; anything that is not an integer in [-1, steps) is unparseable and never guessed.

Voting: the label with the most parseable votes wins; confidence is its share of parseable votes. Ties
are broken deterministically: an error claim beats -1 (a flagged step gets a human look), and among
tied step indices the earliest step wins; the tie and the tied labels are recorded in `details`.
"""

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from prmweb.core.critique import CRITIQUE_TEMPLATE_PATH, parse_verdict, tag_steps
from scoring.engines.base import EngineError, GenerationEngine, SamplingParams
from scoring.methods.base import MethodConfigError, MethodResult, SolutionTask

DEFAULT_TEMPLATE_PATH = CRITIQUE_TEMPLATE_PATH
PLACEHOLDERS = ("{problem}", "{tagged_response}")
UNPARSEABLE = "unparseable critique"
NO_STEPS = "solution has no steps"
_PLACEHOLDER = re.compile(r"\{(problem|tagged_response)\}")


def _default_sampling() -> SamplingParams:
    return SamplingParams(n=1, max_tokens=4096, temperature=0.0)


@dataclass(frozen=True)
class JudgeConfig:
    """Settings of one judge run; `sampling.n` is replaced by `samples`.

    `template_path` is a text file with the literal placeholders `{problem}` and `{tagged_response}`
    (default: ProcessBench's critique prompt, `prmweb/core/prompts/processbench_critique.txt`).
    """

    samples: int = 1
    sampling: SamplingParams = field(default_factory=_default_sampling)
    template_path: str | None = None

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise MethodConfigError("samples", "must be at least 1")
        if self.samples > 1 and self.sampling.temperature <= 0:
            raise MethodConfigError("sampling.temperature", "must be above 0 when voting over several samples")
        if self.template_path is not None:
            path = Path(self.template_path)
            if not path.is_file():
                raise MethodConfigError("template_path", f"no such file: {self.template_path}")

    def load_template(self) -> str:
        """Return the prompt template text, checking that both placeholders are present."""
        template = Path(self.template_path or DEFAULT_TEMPLATE_PATH).read_text(encoding="utf-8")
        for placeholder in PLACEHOLDERS:
            if placeholder not in template:
                raise MethodConfigError("template_path", f"template must contain {placeholder}")
        return template


def build_prompt(task: SolutionTask, template: str) -> str:
    """Return the critique prompt for one solution (placeholders replaced as plain text)."""
    values = {"problem": task.question, "tagged_response": tag_steps(task.steps)}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


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


def _result(task: SolutionTask, texts: Sequence[str], prompt_tokens: int, generated_tokens: int) -> MethodResult:
    verdicts = [parse_verdict(text, len(task.steps)) for text in texts]
    outcome = vote(verdicts)
    if outcome is None:
        return MethodResult(
            solution_id=task.solution_id,
            status="failed",
            error=UNPARSEABLE,
            rationale=texts[0] if texts else "",
            step_scores=tuple(None for _ in task.steps),
            details={"verdicts": verdicts, "critiques": list(texts)},
            rollouts=len(texts),
            prompt_tokens=prompt_tokens,
            generated_tokens=generated_tokens,
        )
    label, share, tied = outcome
    return MethodResult(
        solution_id=task.solution_id,
        status="succeeded",
        label=label,
        step_scores=step_scores_from_verdicts(verdicts, len(task.steps)),
        confidence=share,
        rationale=texts[verdicts.index(label)],
        details={
            "verdicts": verdicts,
            "votes": {str(k): v for k, v in sorted(Counter(v for v in verdicts if v is not None).items())},
            "samples": len(texts),
            "parseable": sum(v is not None for v in verdicts),
            "tie": len(tied) > 1,
            "tied_labels": tied,
            "tie_break": "earliest step wins; any step beats -1",
        },
        rollouts=len(texts),
        prompt_tokens=prompt_tokens,
        generated_tokens=generated_tokens,
    )


def judge(tasks: Sequence[SolutionTask], engine: GenerationEngine, config: JudgeConfig) -> list[MethodResult]:
    """Return one judge suggestion per task, in order, from ONE batched generate call with n=samples."""
    template = config.load_template()
    positions = [position for position, task in enumerate(tasks) if task.steps]
    results: dict[int, MethodResult] = {}
    if positions:
        prompts = [build_prompt(tasks[position], template) for position in positions]
        generations = engine.generate(prompts, replace(config.sampling, n=config.samples))
        if len(generations) != len(prompts):
            raise EngineError(f"engine returned {len(generations)} generations for {len(prompts)} prompts")
        for position, generation in zip(positions, generations, strict=True):
            results[position] = _result(
                tasks[position], generation.texts, generation.prompt_tokens, generation.generated_tokens
            )
    return [
        results.get(position) or MethodResult(solution_id=task.solution_id, status="skipped", error=NO_STEPS)
        for position, task in enumerate(tasks)
    ]
