"""Labels: people's annotations, machines' suggestions, the accepted final label and its history.

Each labelled row keeps a copy of its solution's step count (`step_count`) so that the database itself
can check that a label is -1 or a valid step index; steps never change after ingestion.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.critique import MAX_STEP_NOTES
from annotations.models.solutions import Solution

ERROR_TYPE_CHARS = 40


def _label_valid(field: str, name: str, *, nullable: bool = False) -> models.CheckConstraint:
    valid = Q(**{f"{field}__gte": -1}) & Q(**{f"{field}__lt": models.F("step_count")})
    if nullable:
        valid |= Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=valid, name=name)


def _error_type_only_for_errors(field: str, name: str) -> models.CheckConstraint:
    """An error type goes with a marked step only: none when every step is correct (label -1)."""
    return models.CheckConstraint(condition=Q(**{f"{field}__gte": 0}) | Q(error_type__isnull=True), name=name)


class Annotation(models.Model):
    """One annotator's earliest-error label for one solution."""

    solution = models.ForeignKey(Solution, on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations")
    earliest_error_step = models.IntegerField(help_text="0-based index of the earliest wrong step; -1 = all correct.")
    step_count = models.PositiveIntegerField()
    rationale = models.TextField(
        blank=True, help_text="The explanation of the marked step: why it is wrong (with -1: optional remarks)."
    )
    error_type = models.CharField(
        max_length=ERROR_TYPE_CHARS,
        null=True,
        blank=True,
        help_text="Slug from the dataset's error types, for the marked step; null when all steps are correct.",
    )
    step_notes = models.JSONField(
        default=list,
        blank=True,
        help_text=f'Short notes on other steps: [{{"step": index, "note": text}}], at most {MAX_STEP_NOTES}.',
    )
    flag_ambiguous = models.BooleanField(default=False, help_text="The problem is ambiguous.")
    flag_reference_wrong = models.BooleanField(default=False, help_text="The reference answer looks wrong.")
    flag_unsure = models.BooleanField(default=False)
    seconds_spent = models.FloatField(default=0)
    suggestions_visible = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["solution", "annotator"], name="annotation_one_per_annotator"),
            _label_valid("earliest_error_step", "annotation_label_valid"),
            _error_type_only_for_errors("earliest_error_step", "annotation_error_type_only_for_errors"),
            models.CheckConstraint(condition=Q(seconds_spent__gte=0), name="annotation_seconds_non_negative"),
        ]
        indexes = [models.Index(fields=["annotator", "-created_at"], name="annotation_by_annotator_idx")]

    def __str__(self) -> str:
        return f"{self.annotator} → {self.earliest_error_step} on {self.solution_id}"

    @property
    def is_flagged(self) -> bool:
        return self.flag_ambiguous or self.flag_reference_wrong or self.flag_unsure


# The engine of a suggestion derived from other suggestions (consensus): such a suggestion may succeed
# without a label ("no consensus").
DERIVED_ENGINE = "derived"
# The engine of a suggestion computed outside prmweb and ingested over the API (a team's own PRM or ORM,
# under a method name of its choice that is no built-in method's): it may carry scores without a label.
# Every other succeeded suggestion has a label.
EXTERNAL_ENGINE = "external"


class SuggestionStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class Suggestion(models.Model):
    """One machine method's label for one solution, with per-step scores, rationale and cost."""

    solution = models.ForeignKey(Solution, on_delete=models.CASCADE, related_name="suggestions")
    method = models.CharField(max_length=30)
    config_key = models.CharField(max_length=64, default="default", help_text="Hash of the method configuration.")
    engine = models.CharField(max_length=30, blank=True)
    model_name = models.CharField(max_length=300, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.QUEUED)
    error = models.TextField(blank=True)
    label = models.IntegerField(null=True, blank=True)
    step_count = models.PositiveIntegerField()
    step_scores = models.JSONField(default=list, blank=True, help_text="Per-step scores in [0, 1] (null = not scored).")
    confidence = models.FloatField(null=True, blank=True)
    rationale = models.TextField(blank=True)
    rollouts = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    generated_tokens = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["solution", "method", "config_key"], name="suggestion_unique_config"),
            _label_valid("label", "suggestion_label_valid", nullable=True),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | (Q(confidence__gte=0) & Q(confidence__lte=1)),
                name="suggestion_confidence_0_1",
            ),
            models.CheckConstraint(condition=Q(seconds__gte=0), name="suggestion_seconds_non_negative"),
            models.CheckConstraint(
                condition=~Q(status="succeeded")
                | Q(label__isnull=False)
                | Q(engine__in=[DERIVED_ENGINE, EXTERNAL_ENGINE]),
                name="suggestion_succeeded_has_label",
            ),
        ]
        indexes = [models.Index(fields=["method", "status"], name="suggestion_method_status_idx")]

    def __str__(self) -> str:
        return f"{self.method} → {self.label} on {self.solution_id} ({self.status})"


class FinalLabelSource(models.TextChoices):
    UNANIMOUS = "unanimous", "Unanimous"
    MAJORITY = "majority", "Majority"
    REVIEW = "review", "Review"
    CONSENSUS_AUTO = "consensus_auto", "Machine consensus (auto-accepted)"
    IMPORTED = "imported", "Imported"


class CritiqueSource(models.TextChoices):
    HUMAN = "human", "Annotator"
    REVIEWER = "reviewer", "Reviewer"
    JUDGE = "judge", "LLM judge"


class FinalLabel(models.Model):
    """The accepted label of a solution and where it came from (at most one per solution).

    Its critique (explanation and error type of the earliest error) says who wrote it
    (`explanation_source`) and which annotation or suggestion it was taken from.
    """

    solution = models.OneToOneField(Solution, on_delete=models.CASCADE, related_name="final_label")
    label = models.IntegerField()
    step_count = models.PositiveIntegerField()
    source = models.CharField(max_length=20, choices=FinalLabelSource.choices)
    agreement = models.FloatField(null=True, blank=True, help_text="Share of annotations equal to the label.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    explanation = models.TextField(blank=True, help_text="Why the labelled step is wrong (or remarks on -1).")
    error_type = models.CharField(max_length=ERROR_TYPE_CHARS, null=True, blank=True)
    explanation_source = models.CharField(
        max_length=10, choices=CritiqueSource.choices, blank=True, help_text="Who wrote the explanation and type."
    )
    explanation_annotation = models.ForeignKey(
        "Annotation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    explanation_suggestion = models.ForeignKey(
        "Suggestion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            _label_valid("label", "final_label_valid"),
            _error_type_only_for_errors("label", "final_label_error_type_only_for_errors"),
            models.CheckConstraint(
                condition=Q(explanation_source__in=["", *CritiqueSource.values]), name="final_label_critique_source"
            ),
            models.CheckConstraint(
                condition=Q(agreement__isnull=True) | (Q(agreement__gte=0) & Q(agreement__lte=1)),
                name="final_label_agreement_0_1",
            ),
        ]
        indexes = [models.Index(fields=["source"], name="final_label_source_idx")]

    def __str__(self) -> str:
        return f"{self.label} ({self.source}) for {self.solution_id}"


class FinalLabelChange(models.Model):
    """History: every change of a solution's final label (who, when, from, to, why).

    The history outlives its solution: deleting a solution (through `solution_delete`) writes a last row
    and keeps the others, which then name the solution by `solution_ref` and its dataset.
    """

    solution = models.ForeignKey(
        Solution, null=True, blank=True, on_delete=models.SET_NULL, related_name="final_label_changes"
    )
    dataset = models.ForeignKey(
        "annotations.Dataset", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    solution_ref = models.CharField(
        max_length=250, blank=True, help_text="The solution's external id or number, kept when it is deleted."
    )
    from_label = models.IntegerField(null=True, blank=True)
    to_label = models.IntegerField(null=True, blank=True, help_text="Null when the label was reopened.")
    from_source = models.CharField(max_length=20, blank=True)
    to_source = models.CharField(max_length=20, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.solution_ref or self.solution_id}: {self.from_label} → {self.to_label}"
