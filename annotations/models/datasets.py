"""Datasets (labelling projects) with their protocol settings, and who may work on them."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.critique import default_error_types
from annotations.segmentation import DEFAULT_SEGMENTATION, MAX_PATTERN_CHARS, PATTERN, SEGMENTATION_LABELS


class QueueOrder(models.TextChoices):
    OLDEST_FIRST = "oldest_first", "Oldest first"
    FEWEST_ANNOTATIONS_FIRST = "fewest_annotations_first", "Fewest annotations first"


class MaxReachedAction(models.TextChoices):
    DISCARD = "discard", "Discard (ProcessBench)"
    REVIEW = "review", "Send to review"


class AgreementMode(models.TextChoices):
    ADD_ANNOTATORS = "add_annotators", "Add annotators until k agree"
    REVIEW = "review", "Send disagreement straight to a reviewer"


class TriageMode(models.TextChoices):
    ALL = "all", "Every solution goes to people"
    DISAGREEMENT_ONLY = "disagreement_only", "Only solutions without machine consensus"


class Dataset(models.Model):
    """A labelling project: its solutions, guidelines, protocol settings and members."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(blank=True, help_text="Markdown shown to annotators.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Protocol.
    annotations_per_solution = models.PositiveSmallIntegerField(default=3)
    max_annotations = models.PositiveSmallIntegerField(default=5)
    agreement_mode = models.CharField(
        max_length=20, choices=AgreementMode.choices, default=AgreementMode.ADD_ANNOTATORS
    )
    on_max_reached = models.CharField(max_length=10, choices=MaxReachedAction.choices, default=MaxReachedAction.DISCARD)
    triage_mode = models.CharField(max_length=20, choices=TriageMode.choices, default=TriageMode.ALL)
    audit_rate = models.FloatField(default=0.1, help_text="Share of auto-accepted solutions still sent to people.")
    gold_rate = models.FloatField(default=0.0, help_text="Share of queue items drawn from gold solutions.")
    gold_feedback = models.BooleanField(
        default=True,
        help_text="Once a gold solution is settled, show each annotator in My work whether their label matched "
        "the gold label. Until then (and always, when off) a gold item looks like any other.",
    )
    rationale_required = models.BooleanField(
        default=False, help_text="An erroneous label needs an explanation of its marked step."
    )
    error_types = models.JSONField(
        default=default_error_types,
        blank=True,
        help_text='Error types of a marked step: [{"slug": ..., "title": ..., "key": one letter}]; empty: the default.',
    )
    show_reference = models.BooleanField(default=True, help_text="Show the reference answer and solution.")
    blind = models.BooleanField(default=False, help_text="Hide machine suggestions from annotators.")
    claim_minutes = models.PositiveSmallIntegerField(default=30)
    queue_order = models.CharField(max_length=30, choices=QueueOrder.choices, default=QueueOrder.OLDEST_FIRST)
    scoring_methods = models.JSONField(
        default=list, blank=True, help_text='Suggestion methods prefilled after ingestion, e.g. ["arithmetic", "mc"].'
    )

    # How solutions sent as one response are split into steps (when the solution names no mode).
    segmentation = models.CharField(
        max_length=20,
        choices=list(SEGMENTATION_LABELS.items()),
        default=DEFAULT_SEGMENTATION,
        help_text="How a solution sent as one response is split into steps when it names no segmentation.",
    )
    segmentation_pattern = models.CharField(
        max_length=MAX_PATTERN_CHARS,
        blank=True,
        help_text="Regular expression matching the separators between steps (segmentation 'pattern').",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(annotations_per_solution__gte=1), name="dataset_k_at_least_1"),
            models.CheckConstraint(
                condition=Q(max_annotations__gte=models.F("annotations_per_solution")), name="dataset_max_at_least_k"
            ),
            models.CheckConstraint(
                condition=Q(audit_rate__gte=0) & Q(audit_rate__lte=1), name="dataset_audit_rate_0_1"
            ),
            models.CheckConstraint(condition=Q(gold_rate__gte=0) & Q(gold_rate__lte=1), name="dataset_gold_rate_0_1"),
            models.CheckConstraint(condition=Q(claim_minutes__gte=1), name="dataset_claim_minutes_positive"),
            models.CheckConstraint(
                condition=~Q(segmentation=PATTERN) | ~Q(segmentation_pattern=""), name="dataset_pattern_when_used"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MembershipRole(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    REVIEWER = "reviewer", "Reviewer"
    MANAGER = "manager", "Manager"


class DatasetMembership(models.Model):
    """A user's role on one dataset; only members see a dataset."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dataset_memberships")
    role = models.CharField(max_length=10, choices=MembershipRole.choices, default=MembershipRole.ANNOTATOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "user"], name="membership_unique_dataset_user")]

    def __str__(self) -> str:
        return f"{self.user} · {self.dataset} ({self.role})"
