"""Response-level evaluation (pure): a solution's response score under a method, and picks among samples.

A method judges a solution through its suggestion (per-step scores and/or a label); `judgement` turns that
into what Best-of-N needs:

- **response score** with per-step scores (numbers in [0, 1]; a null entry is a step the method did not
  score and is skipped): `min` (the default, as Qwen's "Lessons of Developing PRMs"): the lowest score;
  `product`: the product of the scores; `last`: the score of the last scored step. Without any step
  score, the label decides: all steps correct (-1) scores 1.0, an earliest error at any step scores 0.0
  (an error anywhere is the lowest score). Neither (no finished suggestion, failed, skipped, no label):
  no score, and the solution ranks below every scored one.
- **where the minimum sits**: over two or more scored steps, whether the lowest score (the first step
  holding it, when several share it) is at the solution's last step. Fewer scored steps: undefined.

Samples of one problem are ranked by score, highest first; equal scores, and unscored solutions, go to
the solution ingested first (lower id). BoN@N over a group of s samples is the mean over every N-subset
of whether the subset's best-ranked sample is correct, in closed form: the sample ranked r (0 = best) is
the best of exactly C(s-1-r, N-1) of the C(s, N) subsets. pass@N is 1 - C(s-c, N) / C(s, N) with c
correct samples (the unbiased pass@k estimator). Both are exact: no sampling, no seed.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from math import comb, prod
from typing import Literal

Aggregate = Literal["min", "product", "last"]
AGGREGATES: tuple[Aggregate, ...] = ("min", "product", "last")
DEFAULT_AGGREGATE: Aggregate = "min"
ALL_CORRECT_SCORE = 1.0
ERROR_SCORE = 0.0


@dataclass(frozen=True)
class Judgement:
    """A method's view of one solution: response score, predicted earliest error, minimum at the last step.

    `label` None is a miss for ProcessBench's F1; `min_at_last` None: fewer than two scored steps.
    """

    score: float | None = None
    label: int | None = None
    min_at_last: bool | None = None


NO_JUDGEMENT = Judgement()


def scored_steps(step_scores: Sequence[float | None]) -> list[tuple[int, float]]:
    """Return (step index, score) of the steps that carry a numeric score."""
    return [
        (index, float(score))
        for index, score in enumerate(step_scores)
        if isinstance(score, int | float) and not isinstance(score, bool)
    ]


def response_score(
    step_scores: Sequence[float | None], label: int | None, aggregate: Aggregate = DEFAULT_AGGREGATE
) -> float | None:
    """Return the response score from per-step scores, else from the label, else None (see the module)."""
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate: {aggregate!r} is not one of {', '.join(AGGREGATES)}")
    scores = [score for _, score in scored_steps(step_scores)]
    if scores:
        if aggregate == "min":
            return min(scores)
        return prod(scores) if aggregate == "product" else scores[-1]
    if label is None:
        return None
    return ALL_CORRECT_SCORE if label == -1 else ERROR_SCORE


def minimum_at_last_step(step_scores: Sequence[float | None], num_steps: int) -> bool | None:
    """Return whether the lowest score (its first step) is the solution's last step; None under two scores."""
    scores = scored_steps(step_scores)
    if len(scores) < 2:
        return None
    lowest_index, _ = min(scores, key=lambda item: (item[1], item[0]))
    return lowest_index == num_steps - 1


def judgement(
    step_scores: Sequence[float | None],
    label: int | None,
    num_steps: int,
    aggregate: Aggregate = DEFAULT_AGGREGATE,
) -> Judgement:
    """Return a method's judgement of one solution from its suggestion's step scores and label."""
    return Judgement(
        score=response_score(step_scores, label, aggregate),
        label=label,
        min_at_last=minimum_at_last_step(step_scores, num_steps),
    )


def rank_key(solution_id: int, judged: Judgement) -> tuple[bool, float, int]:
    """Return the sort key that puts the best sample first: scored before unscored, higher, then lower id."""
    return (judged.score is None, -(judged.score or 0.0), solution_id)


def best_of_n(correct_by_rank: Sequence[bool], n: int) -> float:
    """Return the mean correctness of the best-ranked sample over every n-subset of the ranked group."""
    size = len(correct_by_rank)
    if not 1 <= n <= size:
        raise ValueError(f"n: {n} is not between 1 and the group size {size}")
    hits = sum(comb(size - 1 - rank, n - 1) for rank, correct in enumerate(correct_by_rank) if correct)
    return hits / comb(size, n)


def pass_at_n(correct: int, size: int, n: int) -> float:
    """Return the share of n-subsets of a group of `size` samples (`correct` of them right) holding a right one."""
    if not 1 <= n <= size:
        raise ValueError(f"n: {n} is not between 1 and the group size {size}")
    return 1.0 - comb(size - correct, n) / comb(size, n)


def curve_sizes(largest: int) -> list[int]:
    """Return N = 1, 2, 4, ... below `largest`, then `largest` itself (the whole group)."""
    sizes: list[int] = []
    n = 1
    while n < largest:
        sizes.append(n)
        n *= 2
    return [*sizes, largest] if largest >= 1 else []


def majority_answer_correct(samples: Sequence[tuple[int, str, bool]]) -> bool | None:
    """Return whether the most frequent final answer is correct; None when no sample has an answer.

    `samples` are (solution id, stored final answer, correct). Answers are equal when their stored
    strings are equal after trimming surrounding whitespace and their verdicts agree; an empty answer
    does not vote. A tie goes to the answer whose earliest sample (lowest id) comes first.
    """
    votes: dict[tuple[str, bool], tuple[int, int]] = {}
    for solution_id, answer, correct in samples:
        key = (answer.strip(), correct)
        if not key[0]:
            continue
        count, first = votes.get(key, (0, solution_id))
        votes[key] = (count + 1, min(first, solution_id))
    if not votes:
        return None
    (_, correct), _ = min(votes.items(), key=lambda item: (-item[1][0], item[1][1]))
    return correct
