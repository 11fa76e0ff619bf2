"""Run a suggestion method over a dataset with a progress bar, recorded as a scoring run."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from annotations.models import Dataset
from prmweb.errors import ApplicationError
from scoring.models import ScoringRun, ScoringRunStatus
from scoring.services import RunOutcome, scoring_run_create, scoring_run_execute, scoring_run_start

FINISHED = (ScoringRunStatus.SUCCEEDED, ScoringRunStatus.FAILED)


class Command(BaseCommand):
    help = (
        "Run one suggestion method (mc, judge, prm, arithmetic) over a dataset's solutions, recorded as a "
        "scoring run. By default the method runs in this process (it loads the model here); with --enqueue "
        "the batches go to the workers and the bar follows the run's progress."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", required=True, help="dataset slug")
        parser.add_argument("--method", required=True, help="mc, judge, prm or arithmetic")
        parser.add_argument("--force", action="store_true", help="re-run solutions that already have a suggestion")
        parser.add_argument("--limit", type=int, default=None, help="score at most N solutions")
        parser.add_argument("--enqueue", action="store_true", help="send the batches to the Celery workers")
        parser.add_argument("--no-wait", action="store_true", help="with --enqueue: return at once")

    def handle(self, *args: Any, **options: Any) -> None:
        dataset = Dataset.objects.filter(slug=options["dataset"]).first()
        if dataset is None:
            raise CommandError(f"No dataset with slug {options['dataset']!r}.")
        try:
            run = scoring_run_create(dataset=dataset, method=options["method"], force=options["force"])
            targets = scoring_run_start(run=run, limit=options["limit"], enqueue=options["enqueue"])
        except ApplicationError as error:
            raise CommandError(_describe(error)) from None
        self.stdout.write(f"Scoring run {run.pk}: {options['method']} on {len(targets)} solutions of {dataset.slug}.")
        if options["enqueue"] and options["no_wait"]:
            return
        with tqdm(total=len(targets), unit="solution", disable=None) as bar:
            run = self._follow(run, bar) if options["enqueue"] else self._execute(run, targets, bar)
        self.stdout.write(_summary(run))
        if run.status == ScoringRunStatus.FAILED:
            raise CommandError(f"Scoring run {run.pk} failed:\n{run.errors}")

    def _execute(self, run: ScoringRun, targets: list[int], bar: tqdm) -> ScoringRun:
        def advance(outcome: RunOutcome) -> None:
            bar.update(len(outcome.solution_ids) or 0)
            bar.set_postfix(failed=outcome.failed, refresh=False)

        try:
            return scoring_run_execute(run=run, solution_ids=targets, on_batch=advance)
        except Exception as error:
            raise CommandError(f"Scoring run {run.pk} stopped: {type(error).__name__}: {error}") from error

    def _follow(self, run: ScoringRun, bar: tqdm) -> ScoringRun:
        while True:
            run.refresh_from_db()
            bar.update(run.done - bar.n)
            if run.status in FINISHED:
                return run
            time.sleep(1.0)


def _describe(error: ApplicationError) -> str:
    """Return the message with the field errors it does not already say (never the same reason twice)."""
    details = [f"{field}: {' '.join(map(str, messages))}" for field, messages in error.errors.items()]
    details = [detail for detail in details if detail not in error.message]
    return f"{error.message} ({'; '.join(details)})" if details else error.message


def _summary(run: ScoringRun) -> str:
    return (
        f"Scoring run {run.pk} {run.status}: {run.succeeded} succeeded, {run.failed} failed, {run.skipped} skipped; "
        f"cost {run.rollouts} rollouts, {run.prompt_tokens} prompt tokens, {run.generated_tokens} generated tokens, "
        f"{run.seconds:.1f} s."
    )
