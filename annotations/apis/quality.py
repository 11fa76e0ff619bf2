"""Quality over REST: the dashboard's figures as JSON, and choosing gold solutions.

- GET /api/v1/datasets/<slug>/metrics/?aggregate=min|product|last (reviewers, managers, staff)
- POST /api/v1/datasets/<slug>/gold/ {"solution_ids": [...], "is_gold": true} (managers, staff)
"""

from dataclasses import asdict
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.apis.common import DatasetScopedAPIView
from annotations.apis.evaluation import AGGREGATE_PARAMETER, aggregate_from, evaluation_as_json
from annotations.apis.quality_critique import critique_as_json
from annotations.metrics import PositionHistogram, ProcessBenchReport
from annotations.permissions import IsDatasetManager, IsDatasetReviewer, IsStaff
from annotations.selectors.critique_quality import dataset_critique_quality
from annotations.selectors.evaluation import dataset_evaluation
from annotations.selectors.gold import gold_count
from annotations.selectors.quality import MethodRow, QualityFigures, dataset_quality
from annotations.services.gold import solutions_set_gold
from prmweb.api.errors import error_responses
from prmweb.core.metrics import SubsetMetrics

MAX_GOLD_BATCH = 1000

DEFINITIONS = {
    "reference": "Methods and annotators are scored against final labels from people (unanimous, majority, "
    "review) and imported labels; consensus_auto labels are left out.",
    "processbench": "acc_error: share of erroneous items (label >= 0) predicted exactly; acc_correct: share of "
    "correct items (label -1) predicted -1; f1 = 2ab/(a+b), 0 when both are 0. mean_f1: unweighted mean of "
    "subset F1s (the paper's average); pooled: the same figures over all items together. A method is scored on "
    "every finished suggestion (succeeded, failed, skipped): one without a label counts as a miss, as "
    "ProcessBench's run_eval.py counts a None prediction; queued or running ones do not count yet.",
    "coverage": "Per method: labelled / items, the share of its scored solutions that got a label (overall and "
    "per subset).",
    "agreement": "Over solutions with 2+ annotations. pairwise: same-label share of annotation pairs, pooled over "
    "solutions; fleiss_kappa: Fleiss, generalised to varying annotators per solution; krippendorff_alpha: "
    "nominal; unanimous_share: solutions whose annotations all agree.",
    "positions": "Earliest error position = step index / (steps - 1) in 10 bins; all_correct counts label -1. "
    "Sources: people (unanimous, majority and review final labels), imported (labels from the source, only "
    "when there are any), and each method's succeeded suggestions.",
    "cost": "final_labels counts labels made here (people, review, consensus_auto; imported ones excluded); "
    "no_human_share = consensus_auto / final_labels. Per method: succeeded, failed and skipped suggestions; "
    "suggestions = succeeded + failed, and the averages are over those.",
    "anchoring": "Annotation-suggestion pairs on the same solution, split by whether suggestions were shown.",
    "audit": "Consensus suggestions against final labels people decided on the same solutions.",
}


def _subset(metrics: SubsetMetrics) -> dict[str, Any]:
    return asdict(metrics)


def _report(report: ProcessBenchReport) -> dict[str, Any]:
    return {
        "items": report.items,
        "mean_f1": report.mean_f1,
        "pooled": _subset(report.pooled),
        "subsets": {name: _subset(metrics) for name, metrics in report.subsets.items()},
    }


def _method(row: MethodRow) -> dict[str, Any]:
    report = _report(row.report)
    for name, subset in report["subsets"].items():
        subset["labelled"] = row.labelled_by_subset.get(name, 0)
        subset["coverage"] = row.subset_coverage(name)
    return {
        "method": row.method,
        "config_key": row.config_key,
        "model_name": row.model_name,
        **report,
        "labelled": row.labelled,
        "coverage": row.coverage,
    }


def _histogram(histogram: PositionHistogram) -> dict[str, Any]:
    return {
        "bins": [
            {"from": low, "to": high, "count": count}
            for (low, high), count in zip(histogram.edges(), histogram.bins, strict=True)
        ],
        "all_correct": histogram.all_correct,
        "total": histogram.total,
    }


def quality_as_json(figures: QualityFigures) -> dict[str, Any]:
    """Return the dashboard's figures as plain JSON-ready data."""
    progress = figures.progress
    cost = figures.cost
    return {
        "dataset": figures.dataset.slug,
        "progress": {
            "solutions": progress.solutions,
            "gold": progress.gold,
            "by_status": progress.by_status,
            "final_by_source": progress.final_by_source,
            "timeline": [
                {
                    "date": day.day.isoformat(),
                    "annotations": day.annotations,
                    "final_labels": day.final_labels,
                    "annotations_total": day.annotations_total,
                    "final_labels_total": day.final_labels_total,
                }
                for day in progress.timeline
            ],
        },
        "agreement": asdict(figures.agreement),
        "methods": [_method(row) for row in figures.methods],
        "annotators": [
            {
                "annotator": row.username,
                "annotations": row.annotations,
                "mean_seconds": row.mean_seconds,
                "compared": row.compared,
                "accuracy": row.accuracy,
                "processbench": _report(row.report),
                "gold": {
                    "annotations": row.gold_annotations,
                    "correct": row.gold_correct,
                    "accuracy": row.gold_accuracy,
                },
            }
            for row in figures.annotators
        ],
        "positions": {source: _histogram(histogram) for source, histogram in figures.positions.items()},
        "anchoring": [
            {
                "method": row.method,
                "visible": row.visible,
                "visible_agree": row.visible_agree,
                "visible_rate": row.visible_rate,
                "hidden": row.hidden,
                "hidden_agree": row.hidden_agree,
                "hidden_rate": row.hidden_rate,
                "difference": row.difference,
            }
            for row in figures.anchoring
        ],
        "audit": {
            "compared": figures.audit.compared,
            "agree": figures.audit.agree,
            "precision": figures.audit.precision,
        },
        "cost": {
            "final_labels": cost.final_labels,
            "human_seconds": cost.human_seconds,
            "human_seconds_per_final_label": cost.human_seconds_per_final_label,
            "no_human_labels": cost.no_human_labels,
            "no_human_share": cost.no_human_share,
            "machine_per_suggestion": cost.machine,
        },
        "definitions": DEFINITIONS,
    }


class DatasetMetricsAPI(DatasetScopedAPIView):
    """The dataset's quality figures (the same as its dashboard page)."""

    permission_classes = [IsAuthenticated, IsStaff | IsDatasetReviewer]
    denied_message = "Only reviewers and managers of this dataset may read its quality figures."

    @extend_schema(
        summary="Quality figures of a dataset",
        description="Progress, agreement, ProcessBench metrics per method and per annotator, error-position "
        "histograms, anchoring, audit precision, cost, critique data (error types, explanations, judge "
        "agreement) and `evaluation` (each method's BoN@N, maj@N, pass@N, flawed picks, minimum positions and "
        "F1 on the same samples: the body of GET .../metrics/evaluation/, whose schema documents it): the "
        "figures of the dashboard page.",
        parameters=[AGGREGATE_PARAMETER],
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        aggregate = aggregate_from(request)
        dataset = self.get_access().dataset
        critique = critique_as_json(dataset_critique_quality(dataset=dataset))
        evaluation = evaluation_as_json(dataset_evaluation(dataset=dataset, aggregate=aggregate))
        figures = quality_as_json(dataset_quality(dataset=dataset))
        return Response({**figures, "critique": critique, "evaluation": evaluation})


class GoldInSerializer(serializers.Serializer):
    solution_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),  # a database id, not an overflow
        min_length=1,
        max_length=MAX_GOLD_BATCH,
        help_text="Solution ids.",
    )
    is_gold = serializers.BooleanField(help_text="True: mark as gold (needs an imported label); false: unmark.")


class GoldOutSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="Solutions whose gold flag changed.")
    gold = serializers.IntegerField(help_text="Gold solutions in the dataset now.")


class DatasetGoldAPI(DatasetScopedAPIView):
    """Mark solutions of a dataset as gold, or unmark them (managers and staff)."""

    permission_classes = [IsAuthenticated, IsStaff | IsDatasetManager]
    denied_message = "Only managers of this dataset may choose its gold solutions."

    @extend_schema(
        summary="Mark or unmark gold solutions",
        description="Gold solutions keep their imported label as the final label and are mixed into annotators' "
        "queues at the dataset's gold_rate to measure annotator accuracy. All or nothing: a solution without an "
        "imported label, or not in this dataset, rejects the whole request.",
        request=GoldInSerializer,
        responses={200: GoldOutSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, slug: str) -> Response:
        payload = GoldInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        dataset = self.get_access().dataset
        changed = solutions_set_gold(
            dataset=dataset,
            solution_ids=payload.validated_data["solution_ids"],
            is_gold=payload.validated_data["is_gold"],
            changed_by=request.user,  # type: ignore[arg-type]
        )
        gold = gold_count(dataset=dataset)
        return Response(GoldOutSerializer({"changed": changed, "gold": gold}).data)
