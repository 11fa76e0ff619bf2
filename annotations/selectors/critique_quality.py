"""The critique figures of a dataset's dashboard and metrics API, from 5 aggregate queries whatever its size.

- error types of erroneous final labels (any source), overall, by subset, by generator and by relative
  position of the error;
- agreement on the error type among the annotators whose step equals the final label (solutions with
  two or more such typed annotations; Fleiss' kappa as on the label);
- explanations: the share of erroneous final labels, and of annotators' erroneous labels, that carry one,
  and their median length;
- the judge against the final label, per subset: reference final labels only (people's and imported; not
  `consensus_auto`, which the judge itself helped make), as on the methods table.
"""

import itertools
from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.db.models.functions import Length

from annotations import critique_metrics, metrics, suggestion_methods
from annotations.models import Annotation, Dataset, FinalLabel, Suggestion, SuggestionStatus
from annotations.selectors.quality import REFERENCE_SOURCES


@dataclass(frozen=True)
class CritiqueFigures:
    error_types: critique_metrics.ErrorTypeDistribution
    type_agreement: metrics.AgreementReport
    final_explanations: critique_metrics.ExplanationFigures
    annotation_explanations: critique_metrics.ExplanationFigures
    judge: list[critique_metrics.JudgeAgreementRow]
    judge_pooled: critique_metrics.JudgeAgreementRow


def _error_types(dataset: Dataset) -> critique_metrics.ErrorTypeDistribution:
    rows = (
        FinalLabel.objects.filter(solution__dataset=dataset, label__gte=0)
        .values_list("solution__subset", "solution__generator", "error_type", "label", "step_count")
        .annotate(n=Count("id"))
        .order_by()
    )
    return critique_metrics.error_type_distribution(rows, dataset.error_types)


def _type_agreement(dataset: Dataset) -> metrics.AgreementReport:
    rows = (
        Annotation.objects.filter(
            solution__dataset=dataset,
            earliest_error_step__gte=0,
            error_type__isnull=False,
            earliest_error_step=F("solution__final_label__label"),
        )
        .values_list("solution_id", "error_type")
        .annotate(n=Count("id"))
        .order_by("solution_id")
    )
    items = ({slug: count for _, slug, count in group} for _, group in itertools.groupby(rows, lambda row: row[0]))
    return critique_metrics.error_type_agreement(items)


def _final_explanations(dataset: Dataset) -> critique_metrics.ExplanationFigures:
    lengths = (
        FinalLabel.objects.filter(solution__dataset=dataset, label__gte=0)
        .annotate(chars=Length("explanation"))
        .values_list("chars")
        .annotate(n=Count("id"))
        .order_by()
    )
    return critique_metrics.explanation_figures(dict(lengths))


def _annotation_explanations(dataset: Dataset) -> critique_metrics.ExplanationFigures:
    lengths = (
        Annotation.objects.filter(solution__dataset=dataset, earliest_error_step__gte=0)
        .annotate(chars=Length("rationale"))
        .values_list("chars")
        .annotate(n=Count("id"))
        .order_by()
    )
    return critique_metrics.explanation_figures(dict(lengths))


def _judge(dataset: Dataset) -> list[critique_metrics.JudgeAgreementRow]:
    agrees = Q(label=F("solution__final_label__label"))
    rows = (
        Suggestion.objects.filter(
            solution__dataset=dataset,
            method__in=suggestion_methods.critique_method_names(),
            status=SuggestionStatus.SUCCEEDED,
            label__isnull=False,
            solution__final_label__source__in=REFERENCE_SOURCES,
        )
        .values("solution__subset")
        .annotate(
            judged=Count("id"),
            agreeing=Count("id", filter=agrees),
            with_text=Count("id", filter=agrees & ~Q(rationale="")),
        )
        .order_by("solution__subset")
    )
    return [
        critique_metrics.JudgeAgreementRow(
            row["solution__subset"] or critique_metrics.NO_SUBSET, row["judged"], row["agreeing"], row["with_text"]
        )
        for row in rows
    ]


def dataset_critique_quality(*, dataset: Dataset) -> CritiqueFigures:
    """Return the dataset's critique figures (5 aggregate queries, see the module docstring)."""
    judge = _judge(dataset)
    return CritiqueFigures(
        error_types=_error_types(dataset),
        type_agreement=_type_agreement(dataset),
        final_explanations=_final_explanations(dataset),
        annotation_explanations=_annotation_explanations(dataset),
        judge=judge,
        judge_pooled=critique_metrics.pooled_judge_row(judge),
    )
