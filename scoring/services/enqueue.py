"""Hand scoring work to Celery: after ingestion, for scoring runs, and from the periodic sweep.

Rows are marked `queued` before their task is sent (so a fast worker's `running` is never overwritten).
If the broker cannot take a batch, that batch's fresh placeholder rows are removed again: the solutions
then have no suggestion for the configuration, and the periodic sweep (`missing_suggestions_sweep`)
enqueues them once the broker is back. Nothing is lost while the broker is down.
"""

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings

from annotations.models import Dataset, Solution, Suggestion, SuggestionStatus
from prmweb.errors import ApplicationError
from prmweb.taskqueue import task_by_name
from scoring.configuration import method_configuration
from scoring.methods import registry
from scoring.selectors import FINAL_STATUSES, solution_ids_missing
from scoring.services.consensus import consensus_derive
from scoring.services.suggestions import suggestions_mark

if TYPE_CHECKING:
    from celery import Task

logger = logging.getLogger(__name__)

# Celery's own publish retries, kept short: the sweep is the real safety net when the broker is down.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


def _batches(ids: Sequence[int], size: int) -> list[list[int]]:
    return [list(ids[start : start + size]) for start in range(0, len(ids), max(1, size))]


def _mark_queued(method: str, config_key: str, solution_ids: list[int]) -> None:
    """Mark the batch's unfinished suggestions queued (finished ones keep their result until re-run)."""
    finished = set(
        Suggestion.objects.filter(
            method=method, config_key=config_key, solution_id__in=solution_ids, status__in=FINAL_STATUSES
        ).values_list("solution_id", flat=True)
    )
    pending = [pk for pk in solution_ids if pk not in finished]
    solutions = list(Solution.objects.filter(pk__in=pending).only("pk", "num_steps"))
    suggestions_mark(method=method, config_key=config_key, solutions=solutions, status=SuggestionStatus.QUEUED)


def _drop_placeholders(method: str, config_key: str, solution_ids: list[int]) -> None:
    Suggestion.objects.filter(
        method=method,
        config_key=config_key,
        solution_id__in=solution_ids,
        status=SuggestionStatus.QUEUED,
        label__isnull=True,
        rationale="",
    ).delete()


def suggestions_enqueue(
    *,
    method: str,
    solution_ids: Sequence[int],
    config_key: str | None = None,
    parameters: dict[str, Any] | None = None,
    force: bool = False,
    run_id: int | None = None,
) -> int:
    """Send the method's tasks in batches of SCORING_TASK_BATCH_SIZE to its queue; return the task count.

    Raises the broker's error after dropping the placeholders of the batch that could not be sent.
    """
    configuration = method_configuration(method, parameters)
    key = config_key or configuration.config_key
    task = _task_for(method)
    sent = 0
    for batch in _batches(list(solution_ids), settings.SCORING_TASK_BATCH_SIZE):
        _mark_queued(method, key, batch)
        kwargs = {
            "solution_ids": batch,
            "config_key": key,
            "parameters": configuration.parameters,
            "force": force,
            "run_id": run_id,
        }
        try:
            task.apply_async(kwargs=kwargs, queue=configuration.queue, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
        except Exception:
            _drop_placeholders(method, key, batch)
            raise
        sent += 1
    return sent


def _task_for(method: str) -> "Task":
    task_name = registry.get_method(method).task_name
    if task_name is None:
        runnable = ", ".join(spec.name for spec in registry.runnable_methods())
        raise ApplicationError(
            f"No scoring task runs method {method!r}.", errors={"method": [f"Choose one of {runnable}."]}
        )
    return task_by_name(task_name)


def _dataset_methods(dataset: Dataset) -> list[str]:
    methods = dataset.scoring_methods if isinstance(dataset.scoring_methods, list) else []
    return [str(method) for method in methods]


def solutions_ingested(*, dataset_id: int, solution_ids: Sequence[int]) -> dict[str, int]:
    """Enqueue every configured method of the dataset for solutions whose steps exist (the ingestion hook).

    Called after the commit that stored them, or that gave a waiting solution its steps (`segmentation:
    "reformat"`).

    Return {method: tasks sent}. A method that cannot be configured or enqueued is logged and skipped:
    the solutions are already stored and the sweep retries what is missing.
    """
    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None or not solution_ids:
        return {}
    sent: dict[str, int] = {}
    failures: list[str] = []
    for method in _dataset_methods(dataset):
        if registry.is_derived(method):
            continue  # consensus is derived when its inputs are stored
        try:
            sent[method] = suggestions_enqueue(method=method, solution_ids=solution_ids)
        except ApplicationError as error:
            failures.append(f"{method}: {error.message}")
        except Exception as error:  # broker down: the sweep re-enqueues
            failures.append(f"{method}: {type(error).__name__}: {error}")
    if failures:
        logger.warning(
            "scoring not enqueued for dataset %s (the sweep will retry): %s", dataset_id, "; ".join(failures)
        )
    return sent


def missing_suggestions_sweep(*, dataset_ids: Sequence[int] | None = None) -> dict[str, int]:
    """Re-enqueue solutions whose configured suggestions are missing or stuck; derive missing consensus.

    Stuck means queued or running for longer than SCORING_STUCK_AFTER_SECONDS (a lost task). Return
    {method: solutions enqueued (or, for consensus, derived)}. Idempotent and safe to run concurrently
    with workers: tasks skip what is already done.
    """
    datasets = Dataset.objects.exclude(scoring_methods=[]).order_by("pk")
    if dataset_ids is not None:
        datasets = datasets.filter(pk__in=list(dataset_ids))
    counts: dict[str, int] = {}
    for dataset in datasets:
        for method in _dataset_methods(dataset):
            try:
                configuration = method_configuration(method)
            except ApplicationError as error:
                logger.warning("dataset %s lists %r: %s", dataset.slug, method, error.message)
                continue
            missing = solution_ids_missing(
                dataset=dataset,
                method=method,
                config_key=configuration.config_key,
                stuck_after_seconds=settings.SCORING_STUCK_AFTER_SECONDS,
            )
            if not missing:
                continue
            if registry.is_derived(method):
                found = len(consensus_derive(solution_ids=missing))
            else:
                suggestions_enqueue(method=method, solution_ids=missing)
                found = len(missing)
            counts[method] = counts.get(method, 0) + found
    return counts
