"""Re-enqueue missing or stuck suggestions now (what Celery beat runs every SWEEP_INTERVAL_SECONDS)."""

from typing import Any

from django.core.management.base import BaseCommand

from scoring.services import missing_suggestions_sweep


class Command(BaseCommand):
    help = "Enqueue every dataset's configured suggestion methods for solutions whose suggestions are missing or stuck."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = missing_suggestions_sweep()
        if not counts:
            self.stdout.write("No missing suggestions.")
            return
        for method, count in sorted(counts.items()):
            self.stdout.write(f"{method}: {count} solutions enqueued")
