"""Rendered Asymptote figures of problems: one row per problem and diagram source, the SVG cached."""

from django.db import models

from annotations.models.solutions import Problem


class FigureStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RENDERED = "rendered", "Rendered"
    FAILED = "failed", "Failed"


class ProblemFigure(models.Model):
    """One `[asy]` block of a problem (or its reference solution), drawn by a worker as sanitized SVG."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="figures")
    source_sha256 = models.CharField(max_length=64, help_text="sha256 of the stripped Asymptote source.")
    source = models.TextField()
    status = models.CharField(max_length=10, choices=FigureStatus.choices, default=FigureStatus.QUEUED)
    svg = models.TextField(blank=True, help_text="Sanitized SVG (annotations.figures.svg).")
    error = models.TextField(blank=True)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["problem", "source_sha256"], name="problem_figure_unique_source"),
            models.CheckConstraint(condition=models.Q(seconds__gte=0), name="problem_figure_seconds_non_negative"),
            models.CheckConstraint(
                condition=~models.Q(status="rendered") | ~models.Q(svg=""), name="problem_figure_rendered_has_svg"
            ),
        ]

    def __str__(self) -> str:
        return f"figure {self.source_sha256[:12]} of problem {self.problem_id} ({self.status})"
