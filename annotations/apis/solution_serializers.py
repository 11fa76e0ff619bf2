"""Serializers of the solution API: the documented input shape and the output shapes.

Input is NOT validated by a DRF serializer: a bulk of 1,000 solutions goes straight to the ingestion
service, which checks every field of every item in one pass (DRF's per-field machinery would cost more
than storing the rows). `SolutionInSerializer` documents that shape in the OpenAPI schema.
"""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.models import Annotation, FinalLabel, ReformatStatus, Solution, Suggestion
from annotations.segmentation import SEGMENTATION_LABELS
from annotations.solution_input import (
    MAX_METADATA_BYTES,
    MAX_PROBLEM_CHARS,
    MAX_RESPONSE_CHARS,
    MAX_SHORT_CHARS,
    MAX_STEP_CHARS,
    MAX_STEPS,
    MAX_SUBSET_CHARS,
    MAX_TEXT_CHARS,
)


class SolutionInSerializer(serializers.Serializer):
    """One solution to ingest: `steps`, or `response` to split. Unknown fields are refused; null means absent."""

    id = serializers.CharField(
        max_length=MAX_SHORT_CHARS, required=False, help_text="Your external id; the same id is stored once."
    )
    problem = serializers.CharField(max_length=MAX_PROBLEM_CHARS, help_text="The problem text.")
    steps = serializers.ListField(
        child=serializers.CharField(max_length=MAX_STEP_CHARS),
        min_length=1,
        max_length=MAX_STEPS,
        required=False,
        help_text="Ordered steps, each a non-empty string. Send either steps or response.",
    )
    response = serializers.CharField(
        max_length=MAX_RESPONSE_CHARS,
        required=False,
        help_text=(
            "The generated text, stored verbatim and split into steps by `segmentation`; the limits on steps "
            "apply to the result. Send either steps or response."
        ),
    )
    segmentation = serializers.ChoiceField(
        choices=list(SEGMENTATION_LABELS.items()),
        required=False,
        help_text=(
            "How to split `response`: paragraphs (at blank lines), lines, pattern (the dataset's "
            "segmentation_pattern), or reformat (the judge model re-splits it into paragraphs after ingestion; "
            "the solution waits without steps until then, and falls back to paragraphs, flagged, when the "
            "judge changes the text or fails). Default: the dataset's segmentation."
        ),
    )
    generator = serializers.CharField(max_length=MAX_SHORT_CHARS, required=False, allow_blank=True)
    subset = serializers.CharField(max_length=MAX_SUBSET_CHARS, required=False, allow_blank=True)
    reference_answer = serializers.CharField(max_length=MAX_TEXT_CHARS, required=False, allow_blank=True)
    reference_solution = serializers.CharField(max_length=MAX_TEXT_CHARS, required=False, allow_blank=True)
    final_answer = serializers.CharField(max_length=MAX_TEXT_CHARS, required=False, allow_blank=True)
    final_answer_correct = serializers.BooleanField(required=False, allow_null=True)
    label = serializers.IntegerField(  # type: ignore[assignment]
        min_value=-1,
        required=False,
        allow_null=True,
        help_text="Imported earliest-error label: -1 (all steps correct) or a step index below len(steps).",
    )
    metadata = serializers.DictField(
        required=False, help_text=f"Any JSON object, at most {MAX_METADATA_BYTES} characters serialized."
    )


class IngestedItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the request (0 for a single object).")
    status = serializers.ChoiceField(choices=["created", "existing"])
    id = serializers.IntegerField(source="solution_id", help_text="The stored solution's id.")
    external_id = serializers.CharField()


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    existing = serializers.IntegerField()
    items = IngestedItemSerializer(many=True)


def ingest_result_data(result: Any) -> dict[str, Any]:
    """Return the body of an ingestion response (the shape of IngestResultSerializer), built directly."""
    items = [
        {"index": item.index, "status": item.status, "id": item.solution_id, "external_id": item.external_id}
        for item in result.items
    ]
    return {"created": result.created, "existing": result.existing, "items": items}


class FinalLabelSerializer(serializers.ModelSerializer):
    """The accepted label, with its critique: explanation and error type, who wrote them and where from."""

    class Meta:
        model = FinalLabel
        fields = (
            "label",
            "source",
            "agreement",
            "decided_at",
            "explanation",
            "error_type",
            "explanation_source",
            "explanation_annotation",
            "explanation_suggestion",
        )
        read_only_fields = fields
        extra_kwargs = {
            "explanation_source": {"help_text": "Who wrote the explanation: human, reviewer or judge (empty: none)."},
            "explanation_annotation": {"help_text": "Id of the annotation the explanation was taken from."},
            "explanation_suggestion": {"help_text": "Id of the judge suggestion the explanation was taken from."},
        }


class ReformatSerializer(serializers.Serializer):
    """How the judge re-split a response sent with `segmentation: "reformat"`."""

    status = serializers.ChoiceField(
        source="reformat_status",
        choices=ReformatStatus.choices,
        help_text=(
            "pending: waiting for the judge (the solution is `waiting`, with no steps); accepted: the judge's "
            "paragraphs are the steps; rejected (the judge changed the text) or failed: the steps are the "
            "response's paragraphs."
        ),
    )
    fell_back = serializers.BooleanField(
        source="reformat_fell_back", help_text="true: rejected or failed, so the steps are the paragraphs (a flag)."
    )
    error = serializers.CharField(
        source="reformat_error", help_text="Why it fell back to paragraphs (empty: it did not)."
    )
    model = serializers.CharField(source="reformat_model", help_text="The judge model asked (empty: not asked yet).")


class SolutionListItemSerializer(serializers.ModelSerializer):
    """A solution in a list: everything but its steps (an annotator's list holds only their own work)."""

    problem = serializers.CharField(source="problem.text")
    label = serializers.IntegerField(  # type: ignore[assignment]
        source="imported_label", allow_null=True, help_text="Imported label (null: none)."
    )
    final_label = FinalLabelSerializer(
        read_only=True, allow_null=True, help_text="The accepted label (null: none yet)."
    )
    ingested_by = serializers.CharField(
        source="ingested_by.username",
        read_only=True,
        allow_null=True,
        help_text="Who ingested it (null: an import command without --user, or an account since deleted).",
    )
    reformat = serializers.SerializerMethodField(
        help_text="The judge's re-split of a response sent with segmentation `reformat` (null: not sent so)."
    )

    class Meta:
        model = Solution
        fields: tuple[str, ...] = (
            "id",
            "external_id",
            "problem",
            "num_steps",
            "generator",
            "subset",
            "final_answer",
            "final_answer_correct",
            "answer_check",
            "label",
            "final_label",
            "status",
            "annotation_count",
            "needs_humans",
            "is_gold",
            "ingested_by",
            "reformat",
            "created_at",
        )
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(ReformatSerializer(allow_null=True))
    def get_reformat(self, solution: Solution) -> dict[str, Any] | None:
        return ReformatSerializer(solution).data if solution.reformat_status else None


class AnnotationSerializer(serializers.ModelSerializer):
    """One annotator's label; `rationale` is the explanation of the marked step, `step_notes` notes on others."""

    annotator = serializers.CharField(source="annotator.username")
    step_notes = serializers.JSONField(
        read_only=True, help_text='Notes on other steps: [{"step": index, "note": text}].'
    )

    class Meta:
        model = Annotation
        fields = (
            "id",
            "annotator",
            "earliest_error_step",
            "rationale",
            "error_type",
            "step_notes",
            "flag_ambiguous",
            "flag_reference_wrong",
            "flag_unsure",
            "seconds_spent",
            "suggestions_visible",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class SuggestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suggestion
        fields = (
            "id",
            "method",
            "config_key",
            "engine",
            "model_name",
            "parameters",
            "status",
            "error",
            "label",
            "step_scores",
            "confidence",
            "rationale",
            "rollouts",
            "prompt_tokens",
            "generated_tokens",
            "seconds",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class SolutionDetailSerializer(SolutionListItemSerializer):
    """A solution with its steps, references, metadata, and every annotation and suggestion of it."""

    reference_answer = serializers.CharField(source="problem.reference_answer")
    reference_solution = serializers.CharField(source="problem.reference_solution")
    response = serializers.SerializerMethodField(help_text="The response as sent, verbatim (null: sent as steps).")
    segmentation = serializers.SerializerMethodField(help_text="How the response was split (null: sent as steps).")
    step_offsets = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2),
        help_text="[start, end] of each step in `response` (characters); empty when sent as steps.",
    )
    annotations = AnnotationSerializer(source="visible_annotations", many=True)
    suggestions = SuggestionSerializer(source="visible_suggestions", many=True)

    class Meta(SolutionListItemSerializer.Meta):
        fields = (
            *SolutionListItemSerializer.Meta.fields[:3],
            "steps",
            "response",
            "segmentation",
            "step_offsets",
            "reference_answer",
            "reference_solution",
            *SolutionListItemSerializer.Meta.fields[3:],
            "metadata",
            "annotations",
            "suggestions",
        )
        read_only_fields = fields

    def get_response(self, solution: Solution) -> str | None:
        return solution.response or None

    def get_segmentation(self, solution: Solution) -> str | None:
        return solution.segmentation or None
