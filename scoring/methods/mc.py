"""Monte-Carlo estimation of step correctness (Math-Shepherd; OmegaPRM's binary search).

For a step prefix (steps 0..i) the policy samples N completions of the question plus `steps[:i+1]`;
each rollout's answer (see "Answer check" below) is checked against the reference answer. A prefix's soft
score is the share of correct rollouts; a step is wrong when 0 rollouts are correct, and the earliest error
is the first such step (-1 when there is none).

Strategies:
- `linear` samples every prefix in one round; with `hard_label_only` it walks the prefixes in order, one
  round each, and stops at the first zero.
- `binary` searches for the first zero prefix (about N*ceil(log2(M+1)) rollouts for M steps instead of N*M).
  It assumes the share correct does not rise again after an error. When it does (a lucky prefix after a
  wrong one), binary search returns *a* zero prefix whose probed predecessors all scored above zero,
  not necessarily the first one, and -1 when every probed prefix scored above zero; the probe order is
  kept in `details["probes"]` so the search can be audited. With `confirm` (the default) the boundary it
  converges on is re-sampled once, which catches most such lucky prefixes (`scoring.methods.mc_search`).

With `hard_label_only` and `early_stop`, a prefix is sampled in chunks and abandoned at its first correct
rollout. Every round sends the prompts of all pending prefixes of all solutions in ONE `generate` call.

Prompt (`prompt_format="chat"`, the default): a system turn (`system_prompt`, Qwen2.5-Math's "Please
reason step by step, and put your final answer within \\boxed{}."), the question as the user turn, and
the step prefix as the START of the assistant turn, which the model continues (`continue_final_message`,
no end-of-turn after it; the prefix ends with the blank line that separates steps). `text` fills
`prompt_template` instead, for base models without a chat template.

Answer check: a rollout's answer is the FIRST `\\boxed{}` of its completion, compared with the reference by
`answers_equivalent`; a completion without one is wrong (never prose-matched). Stop strings (end-of-turn
tokens by default) end completions that run on. A prefix that already states a boxed answer needs no
rollout: its own (last) boxed answer decides its score (1 or 0). Unboxed and truncated completions are
tallied in `details`.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from scoring.engines.base import (
    PROMPT_FORMATS,
    ChatMessage,
    ChatPrompt,
    EngineError,
    GenerationEngine,
    Prompt,
    PromptFormat,
    SamplingParams,
)
from scoring.methods.base import MethodConfigError, MethodResult, SolutionTask
from scoring.methods.mc_search import PrefixSearch

Strategy = Literal["linear", "binary"]

DEFAULT_MC_TEMPLATE = (
    "Solve the following math problem step by step, and put your final answer within \\boxed{}.\n\n"
    "{question}\n\n{steps}\n\n"
)
DEFAULT_MC_SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}."
DEFAULT_MC_STOP = ("<|im_end|>", "<|endoftext|>", "<|im_start|>")
NO_REFERENCE = "no reference answer"
NO_STEPS = "solution has no steps"
STEP_SEPARATOR = "\n\n"
_PLACEHOLDER = re.compile(r"\{(question|steps)\}")


def _default_sampling() -> SamplingParams:
    return SamplingParams(n=1, max_tokens=1024, temperature=0.7, top_p=1.0, stop=DEFAULT_MC_STOP)


@dataclass(frozen=True)
class MCConfig:
    """Settings of one MC estimation; `sampling.n` is ignored (rollouts_per_step or the chunk size rule).

    `prompt_format` is `chat` (the model's chat template: `system_prompt`, question, open assistant turn
    holding the prefix) or `text` (`prompt_template`, for base models). `prompt_template` holds the
    literal placeholders `{question}` and `{steps}` (the prefix steps joined by blank lines); they are
    replaced as plain text, so braces such as `\\boxed{}` need no escaping. An empty `system_prompt`
    sends no system turn (the chat template's default applies). `early_stop_chunk` is the number of
    rollouts drawn per prefix per round under early stop; it must divide `rollouts_per_step` (default:
    the largest divisor not above ceil(N/4)). `confirm` (binary only) re-samples the two prefixes of the
    boundary the search converged on once, and lets that round decide (see `scoring.methods.mc_search`).
    """

    rollouts_per_step: int = 8
    strategy: Strategy = "binary"
    early_stop: bool = True
    hard_label_only: bool = False
    sampling: SamplingParams = field(default_factory=_default_sampling)
    prompt_template: str = DEFAULT_MC_TEMPLATE
    early_stop_chunk: int | None = None
    prompt_format: PromptFormat = "chat"
    system_prompt: str = DEFAULT_MC_SYSTEM_PROMPT
    confirm: bool = True

    def __post_init__(self) -> None:
        if self.rollouts_per_step < 1:
            raise MethodConfigError("rollouts_per_step", "must be at least 1")
        if self.strategy not in ("linear", "binary"):
            raise MethodConfigError("strategy", f"must be 'linear' or 'binary', not {self.strategy!r}")
        if self.prompt_format not in PROMPT_FORMATS:
            raise MethodConfigError("prompt_format", f"must be 'chat' or 'text', not {self.prompt_format!r}")
        for placeholder in ("{question}", "{steps}"):
            if placeholder not in self.prompt_template:
                raise MethodConfigError("prompt_template", f"must contain {placeholder}")
        chunk = self.early_stop_chunk
        if chunk is not None and (chunk < 1 or self.rollouts_per_step % chunk):
            raise MethodConfigError("early_stop_chunk", f"must be a positive divisor of {self.rollouts_per_step}")

    @property
    def stops_early(self) -> bool:
        """Return whether prefixes are sampled in chunks and abandoned at their first correct rollout."""
        return self.early_stop and self.hard_label_only

    @property
    def rollouts_per_round(self) -> int:
        """Return how many completions each pending prefix gets per round (the `n` of every call)."""
        if not self.stops_early:
            return self.rollouts_per_step
        if self.early_stop_chunk is not None:
            return self.early_stop_chunk
        ceiling = math.ceil(self.rollouts_per_step / 4)
        return max(d for d in range(1, ceiling + 1) if self.rollouts_per_step % d == 0)


def build_prompt(task: SolutionTask, prefix_length: int, config: MCConfig | None = None) -> Prompt:
    """Return the rollout prompt for the first `prefix_length` steps of a solution.

    Chat: [system], user = the question, assistant = the steps joined and followed by a blank line, left
    open for the model to continue. Text: the prompt template with the question and the joined steps.
    """
    config = config or MCConfig()
    steps = STEP_SEPARATOR.join(step.strip() for step in task.steps[:prefix_length])
    if config.prompt_format == "text":
        values = {"question": task.question.strip(), "steps": steps}
        return _PLACEHOLDER.sub(lambda match: values[match.group(1)], config.prompt_template)
    system = (ChatMessage("system", config.system_prompt),) if config.system_prompt else ()
    messages = (*system, ChatMessage("user", task.question.strip()), ChatMessage("assistant", steps + STEP_SEPARATOR))
    return ChatPrompt(messages, add_generation_prompt=False, continue_final_message=True)


def _skip_reason(task: SolutionTask) -> str:
    return NO_REFERENCE if not (task.reference_answer and task.reference_answer.strip()) else NO_STEPS


def _skipped(task: SolutionTask, reason: str) -> MethodResult:
    return MethodResult(solution_id=task.solution_id, status="skipped", error=reason)


def _run_round(searches: Sequence[PrefixSearch], engine: GenerationEngine, config: MCConfig) -> None:
    """Sample every pending prefix of every search in one generate call and record the completions.

    Prefixes that already state a boxed answer are scored by it and never sampled.
    """
    batch = [(search, step) for search in searches for step in search.pending()]
    sampled = [(search, step) for search, step in batch if not search.decide_by_prefix(step)]
    if sampled:
        prompts = [build_prompt(search.task, step + 1, config) for search, step in sampled]
        per_prompt = config.rollouts_per_round
        generations = engine.generate(prompts, replace(config.sampling, n=per_prompt))
        if len(generations) != len(prompts):
            raise EngineError(f"engine returned {len(generations)} generations for {len(prompts)} prompts")
        for (search, step), generation in zip(sampled, generations, strict=True):
            if not generation.error and len(generation.texts) != per_prompt:
                raise EngineError(f"engine returned {len(generation.texts)} completions, expected n={per_prompt}")
            search.record(step, generation)
    for search in {id(search): search for search, _ in batch}.values():
        search.advance()


def estimate(tasks: Sequence[SolutionTask], engine: GenerationEngine, config: MCConfig) -> list[MethodResult]:
    """Return one MC suggestion per task, in order, batching each round's prompts across all tasks.

    Tasks without a reference answer (or without steps) are skipped with the reason; a task whose prompt
    the engine could not serve (e.g. longer than the context) fails alone with the engine's message.
    Batch-wide engine errors propagate (the caller decides whether to retry).
    """
    searches: dict[int, PrefixSearch] = {}
    for position, task in enumerate(tasks):
        if task.reference_answer and task.reference_answer.strip() and task.steps:
            searches[position] = PrefixSearch(task=task, config=config)
    while active := [search for search in searches.values() if not search.done]:
        _run_round(active, engine, config)
    return [
        searches[position].result() if position in searches else _skipped(task, _skip_reason(task))
        for position, task in enumerate(tasks)
    ]
