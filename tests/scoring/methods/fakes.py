"""Deterministic scripted engines for the method tests: they record every call and never sample."""

import re
from collections import defaultdict
from collections.abc import Callable, Sequence

from scoring.engines.base import (
    ChatPrompt,
    EngineInfo,
    Generation,
    Prompt,
    SamplingParams,
    StepScores,
    StepScoringRequest,
)

RIGHT = "so the answer is \\boxed{42}"
WRONG = "so the answer is \\boxed{7}"


def prompt_text(prompt: Prompt) -> str:
    """Return a prompt's text: plain text as is, a chat prompt's message contents one per line."""
    if isinstance(prompt, ChatPrompt):
        return "\n".join(message.content for message in prompt.messages)
    return prompt


class ScriptedGenerationEngine:
    """A GenerationEngine whose completions come from `respond(prompt_text, draw_index)`, one call per text.

    `draw_index` counts the completions already drawn for that prompt across calls, so a script can say
    "the 6th rollout of this prefix is the first correct one" whatever the chunking.
    """

    info = EngineInfo(engine="scripted", model_name="scripted-policy")

    def __init__(self, respond: Callable[[str, int], str]):
        self.respond = respond
        self.calls: list[tuple[list[Prompt], SamplingParams]] = []
        self.draws: dict[str, int] = defaultdict(int)

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams) -> list[Generation]:
        self.calls.append((list(prompts), params))
        generations = []
        for prompt in prompts:
            text = prompt_text(prompt)
            texts = []
            for _ in range(params.n):
                texts.append(self.respond(text, self.draws[text]))
                self.draws[text] += 1
            generations.append(Generation(texts=tuple(texts), prompt_tokens=10, generated_tokens=3 * params.n))
        return generations


def prefix_length(prompt: str) -> int:
    """Return how many `step-K` markers the prompt holds (the MC prefix length)."""
    return len(re.findall(r"\bstep-\d+\b", prompt))


def mc_policy(correct_draws: dict[str, Sequence[set[int]]]) -> Callable[[str, int], str]:
    """Return a responder: for question Q and prefix length L, draw i is correct iff i in correct_draws[Q][L-1]."""

    def respond(prompt: str, draw: int) -> str:
        question = next(q for q in correct_draws if f"[{q}]" in prompt)
        return RIGHT if draw in correct_draws[question][prefix_length(prompt) - 1] else WRONG

    return respond


class ScriptedScoringEngine:
    """A StepScoringEngine returning fixed probabilities per question; records every call."""

    info = EngineInfo(engine="scripted", model_name="scripted-prm")

    def __init__(self, probabilities: dict[str, Sequence[float]]):
        self.probabilities = probabilities
        self.calls: list[list[StepScoringRequest]] = []

    def score_steps(self, requests: Sequence[StepScoringRequest]) -> list[StepScores]:
        self.calls.append(list(requests))
        return [
            StepScores(probabilities=tuple(self.probabilities[request.question]), prompt_tokens=20)
            for request in requests
        ]
