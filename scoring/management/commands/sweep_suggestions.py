"""Re-enqueue missing or stuck suggestions, reformats and missing answer checks now (what Celery beat runs)."""

from typing import Any

from django.core.management.base import BaseCommand

from annotations.services.answers import answer_checks_sweep
from scoring.services import missing_suggestions_sweep, reformat_sweep


class Command(BaseCommand):
    help = (
        "Enqueue every dataset's configured suggestion methods for solutions whose suggestions are missing or "
        "stuck, the judge's re-split of responses sent with segmentation 'reformat' that was never sent or is "
        "stuck, and the final-answer check of solutions that have a reference answer but no check."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = missing_suggestions_sweep()
        reformats = reformat_sweep()
        checks = answer_checks_sweep()
        if not counts and not reformats and not checks:
            self.stdout.write("No missing suggestions, reformats or answer checks.")
            return
        for method, count in sorted(counts.items()):
            self.stdout.write(f"{method}: {count} solutions enqueued")
        if reformats:
            self.stdout.write(f"reformat: {reformats} responses sent to the judge")
        if checks:
            self.stdout.write(f"answer checks: {checks} solutions enqueued")
