"""Problems and the model-written solutions to them."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.models.datasets import Dataset


class Problem(models.Model):
    """A math question in a dataset, with an optional reference answer and solution."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="problems")
    text = models.TextField()
    reference_answer = models.TextField(blank=True)
    reference_solution = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, help_text="sha256 of the problem text.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "content_hash"], name="problem_unique_text")]

    def __str__(self) -> str:
        return self.text[:80]


class SolutionStatus(models.TextChoices):
    WAITING = "waiting", "Waiting for its steps"
    OPEN = "open", "Needs annotations"
    NEEDS_REVIEW = "needs_review", "Needs review"
    FINAL = "final", "Final label"
    DISCARDED = "discarded", "Discarded"


class ReformatStatus(models.TextChoices):
    """Where a response sent with `segmentation: "reformat"` stands (blank: not reformatted)."""

    PENDING = "pending", "Waiting for the judge to re-split it"
    ACCEPTED = "accepted", "Re-split by the judge"
    REJECTED = "rejected", "The judge changed the text: split into paragraphs"
    FAILED = "failed", "Reformatting failed: split into paragraphs"


REFORMAT_FELL_BACK = (ReformatStatus.REJECTED, ReformatStatus.FAILED)


class Solution(models.Model):
    """One model-written answer to a problem: ordered steps, generator, final answer.

    A solution sent as one response keeps it verbatim; each step is then `response[start:end]`. One sent
    with `segmentation: "reformat"` is `waiting`, with no steps (`num_steps` 0), until the judge's
    re-split is taken or refused (`reformat_status`, and `reformat_error` saying why it fell back).
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="solutions")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="solutions")
    external_id = models.CharField(max_length=200, blank=True)
    content_hash = models.CharField(max_length=64, help_text="sha256 of problem text and steps.")
    steps = models.JSONField(help_text="Ordered list of step strings.")
    num_steps = models.PositiveIntegerField()
    response = models.TextField(blank=True, help_text="The generated text, verbatim, when sent as one response.")
    step_offsets = models.JSONField(
        default=list, blank=True, help_text="[start, end] of each step in the response (empty: sent as steps)."
    )
    segmentation = models.CharField(
        max_length=20, blank=True, help_text="How the response was split into steps (empty: sent as steps)."
    )
    reformat_status = models.CharField(
        max_length=20, choices=ReformatStatus.choices, blank=True, help_text="Blank: not sent for reformatting."
    )
    reformat_error = models.TextField(
        blank=True, help_text="Why the judge's re-split was not used and the response was split into paragraphs."
    )
    reformat_model = models.CharField(max_length=200, blank=True, help_text="The judge model asked to re-split it.")
    reformat_queued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its reformat task was queued (null: the broker refused it); the sweep re-sends lost ones.",
    )
    generator = models.CharField(max_length=200, blank=True)
    subset = models.CharField(max_length=100, blank=True, help_text="Source subset, e.g. gsm8k or math.")
    final_answer = models.TextField(blank=True)
    final_answer_correct = models.BooleanField(
        null=True, blank=True, help_text="The source's verdict when it gave one, else the answer check's."
    )
    answer_check = models.BooleanField(
        null=True, blank=True, help_text="math-verify: final answer equals the reference answer (null = not checked)."
    )
    imported_label = models.IntegerField(null=True, blank=True, help_text="Earliest error step from the source.")
    is_gold = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=SolutionStatus.choices, default=SolutionStatus.OPEN)
    annotation_count = models.PositiveIntegerField(default=0)
    # Kept by database triggers (migration 0011), read by the queue instead of counting claims per row:
    # see annotations.selectors.workbench.live_claims_expression for why they give an exact live count.
    claim_count = models.PositiveIntegerField(  # db_default: bulk inserts in SQL may leave it out
        default=0, db_default=0, editable=False, help_text="Claims on it (live or not)."
    )
    claim_expires_first = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="The earliest expiry among its claims (null: none)."
    )
    needs_humans = models.BooleanField(default=True, help_text="False when triage auto-accepted it.")
    ingested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who ingested it (over the API, from the admin, or named by the import command).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "external_id"], condition=~Q(external_id=""), name="solution_unique_external_id"
            ),
            models.UniqueConstraint(
                fields=["dataset", "content_hash"], condition=Q(external_id=""), name="solution_unique_content"
            ),
            models.CheckConstraint(
                condition=Q(num_steps__gte=1) | Q(status=SolutionStatus.WAITING, num_steps=0),
                name="solution_has_steps_unless_waiting",
            ),
            models.CheckConstraint(
                condition=Q(status=SolutionStatus.WAITING, reformat_status=ReformatStatus.PENDING)
                | (~Q(status=SolutionStatus.WAITING) & ~Q(reformat_status=ReformatStatus.PENDING)),
                name="solution_waiting_while_reformat_pending",
            ),
            models.CheckConstraint(
                condition=Q(imported_label__isnull=True)
                | (Q(imported_label__gte=-1) & Q(imported_label__lt=models.F("num_steps"))),
                name="solution_imported_label_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["dataset", "status", "needs_humans", "id"], name="solution_queue_idx"),
            models.Index(fields=["dataset", "status", "annotation_count", "id"], name="solution_queue_fewest_idx"),
            models.Index(fields=["dataset", "generator"], name="solution_generator_idx"),
            # Gold solutions of a dataset (few): the workbench's gold pick and "left for me" without a scan.
            models.Index(fields=["dataset", "id"], condition=Q(is_gold=True), name="solution_gold_idx"),
            # Exports page through a dataset in (problem, id) order, a range scan of this index per chunk.
            models.Index(fields=["dataset", "problem", "id"], name="solution_export_order_idx"),
            models.Index(
                fields=["reformat_queued_at"], condition=Q(status=SolutionStatus.WAITING), name="solution_waiting_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.external_id or f"solution {self.pk}"

    @property
    def reformat_fell_back(self) -> bool:
        """Return whether the judge's re-split was refused or failed, so the steps are the paragraphs (a flag)."""
        return self.reformat_status in REFORMAT_FELL_BACK
