"""The figures of a dataset's quality dashboard and its JSON endpoint, from a fixed number of aggregate queries.

SQL groups and counts (by status, day, method, subset, annotator, label and step count); the pure
functions in `annotations.metrics` turn those counts into ProcessBench scores, agreement, histograms.
No query runs per solution: 14 queries whatever the dataset size. Agreement (kappa, alpha) needs the
label counts of each solution, so that one query returns one row per (solution, label) pair.

Reference labels: methods and annotators are scored against final labels decided by people or imported
(`unanimous`, `majority`, `review`, `imported`); `consensus_auto` labels are left out, since they come
from the suggestions themselves (the consensus method's inputs, `mc` and `judge`). A method is scored on every
finished suggestion (succeeded, failed, skipped): one without a label counts as a miss, as ProcessBench's
`run_eval.py` counts a None prediction, and its coverage (the share with a label) is shown beside it; queued
or running ones do not count yet.

Positions: the "people" histogram holds final labels people decided (`unanimous`, `majority`, `review`);
labels that came with the data (`imported`, gold included) get their own "imported" histogram when there
are any. Cost: the labels made here (people, review and `consensus_auto`; not `imported`) are the
denominator of human seconds per label and of the share that needed no human (`consensus_auto` ones).
"""

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Avg, Count, F, Max, Q, Sum
from django.db.models.functions import TruncDate

from annotations import metrics, suggestion_methods
from annotations.models import (
    EXTERNAL_ENGINE,
    Annotation,
    Dataset,
    FinalLabel,
    FinalLabelSource,
    Solution,
    SolutionStatus,
    Suggestion,
    SuggestionStatus,
)
from annotations.selectors.gold import gold_accuracy_by_annotator
from prmweb.core.metrics import SubsetMetrics

HUMAN_SOURCES = (FinalLabelSource.UNANIMOUS, FinalLabelSource.MAJORITY, FinalLabelSource.REVIEW)
REFERENCE_SOURCES = (*HUMAN_SOURCES, FinalLabelSource.IMPORTED)
MADE_HERE_SOURCES = (*HUMAN_SOURCES, FinalLabelSource.CONSENSUS_AUTO)
COST_STATUSES = (SuggestionStatus.SUCCEEDED, SuggestionStatus.FAILED, SuggestionStatus.SKIPPED)
NO_SUBSET = "(no subset)"
PEOPLE = "people"
IMPORTED = "imported"


@dataclass(frozen=True)
class DayCount:
    day: date
    annotations: int
    final_labels: int
    annotations_total: int
    final_labels_total: int


@dataclass(frozen=True)
class Progress:
    solutions: int
    gold: int
    by_status: dict[str, int]
    final_by_source: dict[str, int]
    timeline: list[DayCount]


@dataclass(frozen=True)
class MethodRow:
    """One suggestion method (and configuration) scored against the reference final labels.

    Every finished suggestion counts (succeeded, failed, skipped); one without a label is a miss, as
    ProcessBench's run_eval.py counts a None prediction. `labelled` of the `report.items` have a label.
    """

    method: str
    config_key: str
    model_name: str
    report: metrics.ProcessBenchReport
    labelled: int = 0
    labelled_by_subset: dict[str, int] = field(default_factory=dict)

    @property
    def coverage(self) -> float | None:
        """Return the share of scored solutions that got a label."""
        return metrics.share(self.labelled, self.report.items)

    def subset_coverage(self, subset: str) -> float | None:
        """Return the share of one subset's scored solutions that got a label."""
        figures = self.report.subsets[subset]
        return metrics.share(self.labelled_by_subset.get(subset, 0), figures.erroneous + figures.correct)

    @property
    def subset_rows(self) -> list[tuple[str, SubsetMetrics, float | None]]:
        """Return (subset, its figures, its coverage) in subset order, for display."""
        return [(name, figures, self.subset_coverage(name)) for name, figures in self.report.subsets.items()]


@dataclass(frozen=True)
class AnnotatorRow:
    annotator_id: int
    username: str
    annotations: int
    seconds: float
    report: metrics.ProcessBenchReport
    compared: int  # annotations on solutions with a reference final label
    agreeing: int  # of them, equal to the final label
    gold_annotations: int
    gold_correct: int

    @property
    def mean_seconds(self) -> float | None:
        return metrics.share(self.seconds, self.annotations)

    @property
    def accuracy(self) -> float | None:
        """Return the share of this annotator's labels equal to the final label (where one exists)."""
        return metrics.share(self.agreeing, self.compared)

    @property
    def gold_accuracy(self) -> float | None:
        return metrics.share(self.gold_correct, self.gold_annotations)


@dataclass(frozen=True)
class Audit:
    """Auto-label precision: the consensus label against labels people decided on the same solutions."""

    compared: int
    agree: int

    @property
    def precision(self) -> float | None:
        return metrics.share(self.agree, self.compared)


@dataclass(frozen=True)
class QualityFigures:
    dataset: Dataset
    progress: Progress
    agreement: metrics.AgreementReport
    methods: list[MethodRow]
    annotators: list[AnnotatorRow]
    positions: dict[str, metrics.PositionHistogram]
    anchoring: list[metrics.AnchoringRow]
    audit: Audit
    cost: metrics.CostReport


def _counts(*, reference: str, predicted: str, counted: Q | None = None) -> dict[str, Any]:
    """Return the conditional counts behind ProcessBench's figures, against `reference` (a label path).

    `counted` restricts which rows' predictions count as predictions (the others are misses).
    """
    is_error = Q(**{f"{reference}__gte": 0})
    is_correct = Q(**{reference: -1})
    counted = counted if counted is not None else Q()
    return {
        "erroneous": Count("id", filter=is_error),
        "error_hits": Count("id", filter=is_error & counted & Q(**{predicted: F(reference)})),
        "correct": Count("id", filter=is_correct),
        "correct_hits": Count("id", filter=is_correct & counted & Q(**{predicted: -1})),
    }


def _outcome(row: Mapping[str, Any]) -> metrics.OutcomeCounts:
    return metrics.OutcomeCounts(row["erroneous"], row["error_hits"], row["correct"], row["correct_hits"])


def _progress(dataset: Dataset) -> Progress:
    by_status = {status.value: 0 for status in SolutionStatus}
    gold = 0
    for row in Solution.objects.filter(dataset=dataset).values("status", "is_gold").annotate(n=Count("id")).order_by():
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
        gold += row["n"] if row["is_gold"] else 0
    final_by_source = {source.value: 0 for source in FinalLabelSource}
    for source, count in (
        FinalLabel.objects.filter(solution__dataset=dataset).values_list("source").annotate(n=Count("id")).order_by()
    ):
        final_by_source[source] = count
    return Progress(sum(by_status.values()), gold, by_status, final_by_source, _timeline(dataset))


def _timeline(dataset: Dataset) -> list[DayCount]:
    annotations = dict(
        Annotation.objects.filter(solution__dataset=dataset)
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    finals = dict(
        FinalLabel.objects.filter(solution__dataset=dataset)
        .annotate(day=TruncDate("decided_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    days: list[DayCount] = []
    annotations_total = finals_total = 0
    for day in sorted(set(annotations) | set(finals)):
        annotations_total += annotations.get(day, 0)
        finals_total += finals.get(day, 0)
        days.append(DayCount(day, annotations.get(day, 0), finals.get(day, 0), annotations_total, finals_total))
    return days


def _agreement(dataset: Dataset) -> metrics.AgreementReport:
    rows = (
        Annotation.objects.filter(solution__dataset=dataset)
        .values_list("solution_id", "earliest_error_step")
        .annotate(n=Count("id"))
        .order_by("solution_id")
    )
    items = (
        {label: count for _, label, count in group} for _, group in itertools.groupby(rows.iterator(), lambda r: r[0])
    )
    return metrics.agreement_report(items)


def _methods(dataset: Dataset) -> list[MethodRow]:
    """Score every finished suggestion: a failed, skipped or label-less one is a miss (run_eval.py's None).

    One query, one row per (method, configuration, subset).
    """
    rows = (
        Suggestion.objects.filter(
            solution__dataset=dataset,
            status__in=COST_STATUSES,
            solution__final_label__source__in=REFERENCE_SOURCES,
        )
        .values("method", "config_key", "solution__subset")
        .annotate(
            model=Max("model_name"),
            labelled=Count("id", filter=Q(label__isnull=False, status=SuggestionStatus.SUCCEEDED)),
            # a failed re-run may keep the label of an earlier success: only a succeeded label is a prediction
            **_counts(
                reference="solution__final_label__label",
                predicted="label",
                counted=Q(status=SuggestionStatus.SUCCEEDED),
            ),
        )
        .order_by("method", "config_key")
    )
    grouped: dict[tuple[str, str], dict[str, metrics.OutcomeCounts]] = {}
    labelled: dict[tuple[str, str], dict[str, int]] = {}
    models: dict[tuple[str, str], str] = {}
    for row in rows:
        key, subset = (row["method"], row["config_key"]), row["solution__subset"] or NO_SUBSET
        grouped.setdefault(key, {})[subset] = _outcome(row)
        labelled.setdefault(key, {})[subset] = row["labelled"]
        models[key] = max(models.get(key, ""), row["model"] or "")
    return [
        MethodRow(
            method,
            config_key,
            models[(method, config_key)],
            metrics.processbench_report(subsets),
            sum(labelled[(method, config_key)].values()),
            labelled[(method, config_key)],
        )
        for (method, config_key), subsets in grouped.items()
    ]


def _annotators(dataset: Dataset) -> list[AnnotatorRow]:
    totals = (
        Annotation.objects.filter(solution__dataset=dataset)
        .values("annotator_id", "annotator__username")
        .annotate(annotations=Count("id"), seconds=Sum("seconds_spent"))
        .order_by("annotator__username")
    )
    scored = (
        Annotation.objects.filter(solution__dataset=dataset, solution__final_label__source__in=REFERENCE_SOURCES)
        .values("annotator_id", "solution__subset")
        .annotate(**_counts(reference="solution__final_label__label", predicted="earliest_error_step"))
        .order_by()
    )
    references: dict[int, dict[str, metrics.OutcomeCounts]] = {}
    for scored_row in scored:
        subset = scored_row["solution__subset"] or NO_SUBSET
        references.setdefault(scored_row["annotator_id"], {})[subset] = _outcome(scored_row)
    gold = gold_accuracy_by_annotator(dataset=dataset)
    annotators = []
    for row in totals:
        subsets = references.get(row["annotator_id"], {})
        pooled = sum(subsets.values(), metrics.OutcomeCounts())
        annotators.append(
            AnnotatorRow(
                row["annotator_id"],
                row["annotator__username"],
                row["annotations"],
                row["seconds"] or 0.0,
                metrics.processbench_report(subsets),
                pooled.items,
                pooled.error_hits + pooled.correct_hits,
                *gold.get(row["annotator_id"], (0, 0)),
            )
        )
    return annotators


def _positions(dataset: Dataset) -> dict[str, metrics.PositionHistogram]:
    finals = list(
        FinalLabel.objects.filter(solution__dataset=dataset, source__in=REFERENCE_SOURCES)
        .values_list("source", "label", "step_count")
        .annotate(n=Count("id"))
        .order_by()
    )
    people = ((label, steps, n) for source, label, steps, n in finals if source != FinalLabelSource.IMPORTED)
    histograms = {PEOPLE: metrics.position_histogram(people)}
    imported = [(label, steps, n) for source, label, steps, n in finals if source == FinalLabelSource.IMPORTED]
    if imported:
        histograms[IMPORTED] = metrics.position_histogram(imported)
    machine = (
        Suggestion.objects.filter(solution__dataset=dataset, status=SuggestionStatus.SUCCEEDED, label__isnull=False)
        .values_list("method", "label", "step_count")
        .annotate(n=Count("id"))
        .order_by("method")
    )
    for method, group in itertools.groupby(machine, lambda row: row[0]):
        histograms[method] = metrics.position_histogram((label, steps, n) for _, label, steps, n in group)
    return histograms


def _anchoring(dataset: Dataset) -> list[metrics.AnchoringRow]:
    shown = Q(solution__annotations__suggestions_visible=True)
    hidden = Q(solution__annotations__suggestions_visible=False)
    agrees = Q(solution__annotations__earliest_error_step=F("label"))
    rows = (
        Suggestion.objects.filter(
            solution__dataset=dataset,
            status=SuggestionStatus.SUCCEEDED,
            label__isnull=False,
            solution__annotations__isnull=False,
        )
        .exclude(engine=EXTERNAL_ENGINE)  # never shown to annotators: nothing to anchor on
        .values("method")
        .annotate(
            visible=Count("solution__annotations", filter=shown),
            visible_agree=Count("solution__annotations", filter=shown & agrees),
            hidden=Count("solution__annotations", filter=hidden),
            hidden_agree=Count("solution__annotations", filter=hidden & agrees),
        )
        .order_by("method")
    )
    return [
        metrics.AnchoringRow(row["method"], row["visible"], row["visible_agree"], row["hidden"], row["hidden_agree"])
        for row in rows
    ]


def _audit(dataset: Dataset) -> Audit:
    consensus = suggestion_methods.triage_method()
    if consensus is None:
        return Audit(0, 0)
    figures = Suggestion.objects.filter(
        solution__dataset=dataset,
        method=consensus.name,
        status=SuggestionStatus.SUCCEEDED,
        label__isnull=False,
        solution__final_label__source__in=HUMAN_SOURCES,
    ).aggregate(compared=Count("id"), agree=Count("id", filter=Q(label=F("solution__final_label__label"))))
    return Audit(figures["compared"], figures["agree"])


def _machine_cost(dataset: Dataset) -> dict[str, dict[str, float]]:
    """Return {method: outcome counts and mean cost}; the means are over finished runs (succeeded or failed).

    `suggestions` is that number of finished runs; `succeeded`, `failed` and `skipped` count each outcome
    (a skipped suggestion ran nothing, e.g. mc without a reference answer).
    """
    finished = Q(status__in=[SuggestionStatus.SUCCEEDED, SuggestionStatus.FAILED])
    rows = (
        Suggestion.objects.filter(solution__dataset=dataset, status__in=COST_STATUSES)
        .values("method")
        .annotate(
            suggestions=Count("id", filter=finished),
            succeeded=Count("id", filter=Q(status=SuggestionStatus.SUCCEEDED)),
            failed=Count("id", filter=Q(status=SuggestionStatus.FAILED)),
            skipped=Count("id", filter=Q(status=SuggestionStatus.SKIPPED)),
            seconds=Avg("seconds", filter=finished),
            rollouts=Avg("rollouts", filter=finished),
            prompt_tokens=Avg("prompt_tokens", filter=finished),
            generated_tokens=Avg("generated_tokens", filter=finished),
        )
        .order_by("method")
    )
    return {
        row["method"]: {
            "suggestions": row["suggestions"],
            "succeeded": row["succeeded"],
            "failed": row["failed"],
            "skipped": row["skipped"],
            "seconds": row["seconds"] or 0.0,
            "rollouts": row["rollouts"] or 0.0,
            "prompt_tokens": row["prompt_tokens"] or 0.0,
            "generated_tokens": row["generated_tokens"] or 0.0,
        }
        for row in rows
    }


def _cost(dataset: Dataset, progress: Progress, annotators: list[AnnotatorRow]) -> metrics.CostReport:
    return metrics.CostReport(
        final_labels=sum(progress.final_by_source.get(source, 0) for source in MADE_HERE_SOURCES),
        human_seconds=sum(row.seconds for row in annotators),
        no_human_labels=progress.final_by_source.get(FinalLabelSource.CONSENSUS_AUTO, 0),
        machine=_machine_cost(dataset),
    )


def dataset_quality(*, dataset: Dataset) -> QualityFigures:
    """Return every figure of the dataset's quality dashboard (a fixed number of aggregate queries)."""
    progress = _progress(dataset)
    annotators = _annotators(dataset)
    return QualityFigures(
        dataset=dataset,
        progress=progress,
        agreement=_agreement(dataset),
        methods=_methods(dataset),
        annotators=annotators,
        positions=_positions(dataset),
        anchoring=_anchoring(dataset),
        audit=_audit(dataset),
        cost=_cost(dataset, progress, annotators),
    )
