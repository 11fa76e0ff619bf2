"""Re-enqueue missing or stuck suggestions and missing answer checks now (what Celery beat runs periodically)."""

from typing import Any

from django.core.management.base import BaseCommand

from annotations.services.answers import answer_checks_sweep
from scoring.services import missing_suggestions_sweep


class Command(BaseCommand):
    help = (
        "Enqueue every dataset's configured suggestion methods for solutions whose suggestions are missing or "
        "stuck, and the final-answer check of solutions that have a reference answer but no check."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = missing_suggestions_sweep()
        checks = answer_checks_sweep()
        if not counts and not checks:
            self.stdout.write("No missing suggestions or answer checks.")
            return
        for method, count in sorted(counts.items()):
            self.stdout.write(f"{method}: {count} solutions enqueued")
        if checks:
            self.stdout.write(f"answer checks: {checks} solutions enqueued")
