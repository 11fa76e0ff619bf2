"""Queue the drawing of Asymptote figures: of problems that have none yet, and again of queued or failed ones."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Dataset, Problem
from annotations.services.figures import figures_retry, problem_figures_request


class Command(BaseCommand):
    help = "Queue the drawing of the [asy] diagrams of problems (a CPU worker draws them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", help="only this dataset's problems (its slug)")
        parser.add_argument("--retry-failed", action="store_true", help="queue failed figures again too")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = Problem.objects.filter(text__icontains="[asy]") | Problem.objects.filter(
            reference_solution__icontains="[asy]"
        )
        if options["dataset"]:
            dataset = Dataset.objects.filter(slug=options["dataset"]).first()
            if dataset is None:
                raise CommandError(f"No dataset with the slug {options['dataset']!r}.")
            problems = problems.filter(dataset=dataset)
        queued = 0
        for problem in problems.prefetch_related("figures").order_by("pk").iterator(chunk_size=500):
            known = {figure.source_sha256 for figure in problem.figures.all()}
            queued += problem_figures_request(problem=problem, known_digests=known)
        retried = figures_retry(include_failed=options["retry_failed"]) if options["retry_failed"] else []
        self.stdout.write(f"Queued {queued} new figure(s); queued {len(retried)} again.")
