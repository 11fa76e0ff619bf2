"""The evaluation table over REST: every method's response-level and step-level figures on the same samples.

- GET /api/v1/datasets/<slug>/metrics/evaluation/?aggregate=min|product|last (reviewers, managers, staff)

The same block is the `evaluation` of GET /api/v1/datasets/<slug>/metrics/ (which takes `aggregate` too).
"""

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.apis.common import DatasetScopedAPIView
from annotations.permissions import IsDatasetReviewer, IsStaff
from annotations.selectors.evaluation import DatasetEvaluation, MethodEvaluationRow, dataset_evaluation
from prmweb.api.errors import error_responses
from prmweb.core.evaluation import AGGREGATES, DEFAULT_AGGREGATE, Aggregate
from prmweb.core.evaluation_report import ResponseFigures

EVALUATION_DEFINITIONS = {
    "groups": "A group is the solutions of one problem in one subset whose final-answer correctness is known "
    "(the answer check, else the record's final_answer_correct); groups of 2+ are evaluated, and every method on "
    "all of their solutions (one without a succeeded suggestion of the method has no score and no label).",
    "response_score": "From per-step scores (null steps skipped): min (default), product, or the last scored step "
    "(aggregate). Without scores, from the label: all correct 1.0, an error at any step 0.0. Neither: no score, "
    "ranked below every scored solution.",
    "best_of_n": "Share of groups whose highest-scored solution has a correct final answer (N = the group's size); "
    "equal scores go to the solution ingested first (lower id).",
    "majority": "Share of groups whose most frequent final answer is correct: answers are equal when their stored "
    "strings are equal after trimming whitespace; empty answers do not vote; a tie goes to the answer of the "
    "earliest solution. Over majority_groups (groups with an answer).",
    "pass_at_n": "Share of groups with at least one correct final answer.",
    "flawed_pick_rate": "Best-of-N picks whose final answer is correct but whose reference label marks a step "
    "wrong, over the picks that have a reference label (picks_labelled).",
    "min_at_last_share": "Over solutions with 2+ scored steps (min_scored): the share whose lowest step score "
    "(its first step, on a tie) is at the last step.",
    "processbench": "acc_error, acc_correct and F1 against reference labels (people's and imported final labels) on "
    "the groups' solutions that have one; a solution the method did not label is a miss. mean_f1: the unweighted "
    "mean over subsets with reference labels.",
    "curve": "BoN@N and pass@N for N = 1, 2, 4, ... up to the largest group: the exact mean over every N-subset "
    "of each group (no sampling); a group smaller than N counts whole, so the last point equals best_of_n.",
    "coverage": "scored / solutions: the share of the groups' solutions the method gave a response score.",
}


class ProcessBenchFiguresSerializer(serializers.Serializer):
    acc_error = serializers.FloatField(allow_null=True)
    acc_correct = serializers.FloatField(allow_null=True)
    f1 = serializers.FloatField(allow_null=True)
    erroneous = serializers.IntegerField()
    correct = serializers.IntegerField()


class CurvePointSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    groups = serializers.IntegerField()
    best_of_n = serializers.FloatField()
    pass_at_n = serializers.FloatField()


class ResponseFiguresSerializer(serializers.Serializer):
    groups = serializers.IntegerField(help_text="Problems (in the subset) with 2+ solutions of known correctness.")
    solutions = serializers.IntegerField()
    smallest_group = serializers.IntegerField()
    largest_group = serializers.IntegerField()
    best_of_n = serializers.FloatField(allow_null=True, help_text="BoN@N, N = each group's size.")
    majority = serializers.FloatField(allow_null=True, help_text="maj@N over majority_groups.")
    majority_groups = serializers.IntegerField()
    pass_at_n = serializers.FloatField(allow_null=True)
    flawed_picks = serializers.IntegerField()
    picks_labelled = serializers.IntegerField()
    flawed_pick_rate = serializers.FloatField(allow_null=True, help_text="flawed_picks / picks_labelled.")
    min_at_last = serializers.IntegerField()
    min_scored = serializers.IntegerField()
    min_at_last_share = serializers.FloatField(allow_null=True, help_text="min_at_last / min_scored.")
    scored = serializers.IntegerField()
    coverage = serializers.FloatField(allow_null=True, help_text="scored / solutions.")
    labelled = serializers.IntegerField(help_text="Solutions with a reference label that the method labelled.")
    processbench = ProcessBenchFiguresSerializer()
    curve = CurvePointSerializer(many=True)


class MethodEvaluationSerializer(serializers.Serializer):
    method = serializers.CharField()
    config_key = serializers.CharField()
    model_name = serializers.CharField()
    external = serializers.BooleanField(help_text="Ingested over POST .../suggestions/, not computed here.")
    mean_f1 = serializers.FloatField(allow_null=True)
    pooled = ResponseFiguresSerializer()
    subsets = serializers.DictField(child=ResponseFiguresSerializer())


class EvaluationSerializer(serializers.Serializer):
    dataset = serializers.CharField()
    aggregate = serializers.ChoiceField(choices=list(AGGREGATES))
    groups = serializers.IntegerField()
    solutions = serializers.IntegerField()
    methods = MethodEvaluationSerializer(many=True)
    definitions = serializers.DictField(child=serializers.CharField())


class AggregateQuerySerializer(serializers.Serializer):
    aggregate = serializers.ChoiceField(choices=list(AGGREGATES), default=DEFAULT_AGGREGATE, required=False)


AGGREGATE_PARAMETER = OpenApiParameter(
    "aggregate",
    str,
    enum=list(AGGREGATES),
    description="How a solution's step scores make its response score: min (default), product or last.",
)


def aggregate_from(request: Request) -> Aggregate:
    """Return the request's `aggregate` (default min); a 400 naming `aggregate` for any other value."""
    query = AggregateQuerySerializer(data={"aggregate": request.query_params.get("aggregate", DEFAULT_AGGREGATE)})
    query.is_valid(raise_exception=True)
    aggregate: Aggregate = query.validated_data["aggregate"]
    return aggregate


def _figures(figures: ResponseFigures) -> dict[str, Any]:
    data = asdict(figures)
    data.update(
        flawed_pick_rate=figures.flawed_pick_rate,
        min_at_last_share=figures.min_at_last_share,
        coverage=figures.coverage,
    )
    return data


def _method(row: MethodEvaluationRow) -> dict[str, Any]:
    evaluation = row.evaluation
    return {
        "method": row.method,
        "config_key": row.config_key,
        "model_name": row.model_name,
        "external": row.external,
        "mean_f1": evaluation.mean_f1,
        "pooled": _figures(evaluation.pooled),
        "subsets": {name: _figures(figures) for name, figures in evaluation.subsets.items()},
    }


def evaluation_as_json(evaluation: DatasetEvaluation) -> dict[str, Any]:
    """Return the evaluation table as JSON-ready data (the shape of EvaluationSerializer)."""
    return {
        "dataset": evaluation.dataset.slug,
        "aggregate": evaluation.aggregate,
        "groups": evaluation.groups,
        "solutions": evaluation.solutions,
        "methods": [_method(row) for row in evaluation.methods],
        "definitions": EVALUATION_DEFINITIONS,
    }


class DatasetEvaluationAPI(DatasetScopedAPIView):
    """Every method's BoN@N, maj@N, pass@N, flawed picks, minimum positions and ProcessBench F1."""

    permission_classes = [IsAuthenticated, IsStaff | IsDatasetReviewer]
    denied_message = "Only reviewers and managers of this dataset may read its quality figures."

    @extend_schema(
        operation_id="datasets_evaluation",
        summary="Response-level and step-level evaluation of every method (built-in and external)",
        description="The dashboard's evaluation table: per method (and configuration), per subset and pooled, "
        "BoN@N, maj@N, pass@N, the flawed pick rate, the share of minimum step scores at the last step and "
        "ProcessBench F1 on the same solutions, with the BoN@N curve. `definitions` says how each is computed.",
        parameters=[AGGREGATE_PARAMETER],
        responses={200: EvaluationSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        aggregate = aggregate_from(request)
        evaluation = dataset_evaluation(dataset=self.get_access().dataset, aggregate=aggregate)
        return Response(evaluation_as_json(evaluation))
