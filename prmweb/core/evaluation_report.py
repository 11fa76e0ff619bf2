"""Response-level and step-level figures of one method over groups of samples (pure).

A group is the solutions of one problem in one subset whose final-answer correctness is known; groups of
fewer than two are left out by the caller. Per subset and pooled over all groups:

- BoN@N: share of groups whose best-ranked sample (the whole group: N is its size) is correct;
  maj@N: share of groups with an answer whose most frequent answer is correct (`majority_answer_correct`);
  pass@N: share of groups with a correct sample;
- flawed picks: BoN picks whose final answer is correct while their reference label marks a step wrong,
  over the picks that have a reference label;
- minimum at the last step: over solutions with two or more scored steps;
- ProcessBench acc_error / acc_correct / F1 over the same groups' solutions that have a reference label
  (`prmweb.core.metrics`; a solution the method did not label is a miss);
- the curve of BoN@N and pass@N for N = 1, 2, 4, ... up to the largest group (`curve_sizes`), over every
  group: one smaller than N counts with all its samples, so the last point equals BoN@N of the table.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from prmweb.core.evaluation import (
    NO_JUDGEMENT,
    Judgement,
    best_of_n,
    curve_sizes,
    majority_answer_correct,
    rank_key,
)
from prmweb.core.evaluation import pass_at_n as pass_share
from prmweb.core.metrics import SubsetMetrics, aggregate, subset_metrics


@dataclass(frozen=True)
class Candidate:
    """One sample of a group: what is known of it whatever the method."""

    solution_id: int
    correct: bool
    answer: str = ""
    reference_label: int | None = None
    num_steps: int = 1


@dataclass(frozen=True)
class Group:
    """The samples of one problem in one subset, in id order."""

    subset: str
    problem_id: int
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class CurvePoint:
    """BoN@N and pass@N at one N over every group (a group smaller than N at its own size)."""

    n: int
    groups: int
    best_of_n: float
    pass_at_n: float


@dataclass(frozen=True)
class ResponseFigures:
    """Every figure of one method over one subset's groups (or all of them pooled)."""

    groups: int
    solutions: int
    smallest_group: int
    largest_group: int
    best_of_n: float | None
    majority: float | None
    majority_groups: int
    pass_at_n: float | None
    picks_labelled: int
    flawed_picks: int
    min_scored: int
    min_at_last: int
    scored: int
    labelled: int
    processbench: SubsetMetrics
    curve: tuple[CurvePoint, ...]

    @property
    def flawed_pick_rate(self) -> float | None:
        return self.flawed_picks / self.picks_labelled if self.picks_labelled else None

    @property
    def min_at_last_share(self) -> float | None:
        return self.min_at_last / self.min_scored if self.min_scored else None

    @property
    def coverage(self) -> float | None:
        """Return the share of the solutions that have a response score under the method."""
        return self.scored / self.solutions if self.solutions else None


@dataclass(frozen=True)
class MethodEvaluation:
    """One method's figures per subset, pooled over all groups, and the unweighted mean of subset F1s."""

    subsets: dict[str, ResponseFigures]
    pooled: ResponseFigures
    mean_f1: float | None


@dataclass(frozen=True)
class _GroupOutcome:
    """What one group adds to a method's figures."""

    size: int
    pick: Candidate
    any_correct: bool
    majority: bool | None
    judged: tuple[tuple[Candidate, Judgement], ...]
    correct_by_rank: tuple[bool, ...]


def _group_outcome(group: Group, judgements: Mapping[int, Judgement]) -> _GroupOutcome:
    judged = tuple((c, judgements.get(c.solution_id, NO_JUDGEMENT)) for c in group.candidates)
    ranked = sorted(judged, key=lambda pair: rank_key(pair[0].solution_id, pair[1]))
    correct_by_rank = [candidate.correct for candidate, _ in ranked]
    return _GroupOutcome(
        size=len(ranked),
        pick=ranked[0][0],
        any_correct=any(correct_by_rank),
        majority=majority_answer_correct([(c.solution_id, c.answer, c.correct) for c in group.candidates]),
        judged=judged,
        correct_by_rank=tuple(correct_by_rank),
    )


@dataclass
class _Tally:
    sizes: list[int] = field(default_factory=list)
    bon_hits: int = 0
    majority_hits: int = 0
    majority_groups: int = 0
    pass_hits: int = 0
    picks_labelled: int = 0
    flawed_picks: int = 0
    min_scored: int = 0
    min_at_last: int = 0
    scored: int = 0
    labels: list[int] = field(default_factory=list)
    predictions: list[int | None] = field(default_factory=list)
    ranked: list[tuple[bool, ...]] = field(default_factory=list)

    def add(self, outcome: _GroupOutcome) -> None:
        pick = outcome.pick
        self.sizes.append(outcome.size)
        self.bon_hits += pick.correct
        self.pass_hits += outcome.any_correct
        self.majority_groups += outcome.majority is not None
        self.majority_hits += bool(outcome.majority)
        if pick.reference_label is not None:
            self.picks_labelled += 1
            self.flawed_picks += pick.correct and pick.reference_label >= 0
        for candidate, judged in outcome.judged:
            self.scored += judged.score is not None
            self.min_scored += judged.min_at_last is not None
            self.min_at_last += bool(judged.min_at_last)
            if candidate.reference_label is not None:
                self.labels.append(candidate.reference_label)
                self.predictions.append(judged.label)
        self.ranked.append(outcome.correct_by_rank)

    def figures(self) -> ResponseFigures:
        groups = len(self.sizes)
        return ResponseFigures(
            groups=groups,
            solutions=sum(self.sizes),
            smallest_group=min(self.sizes, default=0),
            largest_group=max(self.sizes, default=0),
            best_of_n=self.bon_hits / groups if groups else None,
            majority=self.majority_hits / self.majority_groups if self.majority_groups else None,
            majority_groups=self.majority_groups,
            pass_at_n=self.pass_hits / groups if groups else None,
            picks_labelled=self.picks_labelled,
            flawed_picks=self.flawed_picks,
            min_scored=self.min_scored,
            min_at_last=self.min_at_last,
            scored=self.scored,
            labelled=sum(1 for prediction in self.predictions if prediction is not None),
            processbench=subset_metrics(self.labels, self.predictions),
            curve=tuple(_curve_point(n, self.ranked) for n in curve_sizes(max(self.sizes, default=0))),
        )


def _curve_point(n: int, groups: Sequence[tuple[bool, ...]]) -> CurvePoint:
    """Return BoN@N and pass@N averaged over the groups; a group smaller than N counts at its own size."""
    bon = passed = 0.0
    for correct_by_rank in groups:
        size = len(correct_by_rank)
        bon += best_of_n(correct_by_rank, min(n, size))
        passed += pass_share(sum(correct_by_rank), size, min(n, size))
    return CurvePoint(n=n, groups=len(groups), best_of_n=bon / len(groups), pass_at_n=passed / len(groups))


def evaluate_method(groups: Sequence[Group], judgements: Mapping[int, Judgement]) -> MethodEvaluation:
    """Return one method's figures over the groups; `judgements` maps solution id to its judgement."""
    by_subset: dict[str, _Tally] = {}
    pooled = _Tally()
    for group in groups:
        outcome = _group_outcome(group, judgements)
        by_subset.setdefault(group.subset, _Tally()).add(outcome)
        pooled.add(outcome)
    subsets = {name: tally.figures() for name, tally in sorted(by_subset.items())}
    f1_inputs = {name: (tally.labels, tally.predictions) for name, tally in by_subset.items() if tally.labels}
    mean_f1 = aggregate(f1_inputs).mean_f1 if f1_inputs else None
    return MethodEvaluation(subsets=subsets, pooled=pooled.figures(), mean_f1=mean_f1)
