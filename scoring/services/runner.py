"""Run one method over a batch of solutions and store its suggestions (what every scoring task calls).

Idempotent: solutions whose suggestion for this configuration already succeeded or was skipped are left
alone unless `force`; a redelivered task (worker killed mid-batch) finds its rows `running` and runs
them again, and the upsert leaves exactly one row per solution. Transient engine errors put the rows
back to `queued` and propagate, so Celery retries the task with backoff; permanent engine or
configuration errors are stored as `failed` suggestions with the message.
"""

import logging
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.db import transaction

from annotations.models import Solution, Suggestion, SuggestionStatus
from scoring.configuration import MethodConfiguration, build_method_config, method_configuration
from scoring.engines.base import EngineError, EngineInfo, TransientEngineError
from scoring.engines.factory import get_generation_engine, get_step_scoring_engine
from scoring.methods import consensus, registry
from scoring.methods.base import MethodConfigError, MethodResult
from scoring.selectors import (
    DONE_STATUSES,
    FINAL_STATUSES,
    solution_task,
    solutions_for_scoring,
    suggestions_by_solution,
)
from scoring.services.consensus import consensus_derive
from scoring.services.outcome import RunOutcome
from scoring.services.run_progress import scoring_run_record
from scoring.services.suggestions import (
    SuggestionValues,
    suggestions_mark,
    suggestions_upsert,
    validate_suggestion_values,
)

logger = logging.getLogger(__name__)

CPU_ENGINE = EngineInfo(engine="cpu", model_name="")


def _run_method(method: str, config: Any, tasks: list[Any]) -> tuple[list[MethodResult], EngineInfo]:
    spec = registry.get_method(method)
    if spec.run is None:
        raise MethodConfigError("method", f"{method!r} is derived, not run over solutions")
    if spec.needs == "generation" and spec.engine_role:
        engine = get_generation_engine(spec.engine_role)
        return spec.run(tasks, engine, config), engine.info
    if spec.needs == "step_scoring" and spec.engine_role:
        scorer = get_step_scoring_engine(spec.engine_role)
        return spec.run(tasks, scorer, config), scorer.info
    return spec.run(tasks, config), CPU_ENGINE


def _values(
    result: MethodResult, solution: Solution, info: EngineInfo, parameters: dict[str, Any], seconds: float
) -> SuggestionValues:
    values = SuggestionValues(
        solution_id=solution.pk,
        step_count=solution.num_steps,
        status=result.status,
        label=result.label,
        step_scores=tuple(result.step_scores),
        confidence=result.confidence,
        rationale=result.rationale,
        error=result.error,
        engine=info.engine,
        model_name=info.model_name,
        parameters={**parameters, "details": result.details},
        rollouts=result.rollouts,
        prompt_tokens=result.prompt_tokens,
        generated_tokens=result.generated_tokens,
        seconds=seconds,
    )
    if errors := validate_suggestion_values(values):
        problems = "; ".join(f"{name} {messages[0]}" for name, messages in errors.items())
        return _failed(solution, f"the method returned an invalid result: {problems}", info, parameters, seconds)
    return values


def _failed(
    solution: Solution, error: str, info: EngineInfo, parameters: dict[str, Any], seconds: float = 0.0
) -> SuggestionValues:
    return SuggestionValues(
        solution_id=solution.pk,
        step_count=solution.num_steps,
        status=SuggestionStatus.FAILED,
        error=error,
        engine=info.engine,
        model_name=info.model_name,
        parameters=parameters,
        seconds=seconds,
    )


def _pending(
    solutions: list[Solution], existing: dict[int, Suggestion], *, force: bool, run_id: int | None
) -> tuple[list[Solution], list[Suggestion]]:
    """Split solutions into those to run and the finished rows another run (or attempt) already wrote."""
    todo: list[Solution] = []
    already: list[Suggestion] = []
    for solution in solutions:
        row = existing.get(solution.pk)
        counted_by_this_run = (
            row is not None and run_id is not None and row.parameters.get("scoring_run") == run_id
        ) and row.status in FINAL_STATUSES
        if row is not None and (counted_by_this_run or (not force and row.status in DONE_STATUSES)):
            already.append(row)
        else:
            todo.append(solution)
    return todo, already


def _execute(
    configuration: MethodConfiguration, todo: list[Solution], parameters: dict[str, Any]
) -> list[SuggestionValues]:
    """Run the method on the pending solutions and return the values to store (failures included)."""
    method = configuration.method
    started = time.monotonic()
    try:
        config = build_method_config(configuration)
        results, info = _run_method(method, config, [solution_task(solution) for solution in todo])
    except TransientEngineError:
        raise
    except (EngineError, MethodConfigError) as error:
        logger.warning("%s failed for %d solutions: %s", method, len(todo), error)
        return [_failed(solution, f"{type(error).__name__}: {error}", CPU_ENGINE, parameters) for solution in todo]
    seconds = (time.monotonic() - started) / len(todo)
    by_solution = {result.solution_id: result for result in results}
    return [
        _values(by_solution[solution.pk], solution, info, parameters, seconds)
        if solution.pk in by_solution
        else _failed(solution, "the method returned no result for this solution", info, parameters, seconds)
        for solution in todo
    ]


def _run_pending(
    configuration: MethodConfiguration, todo: list[Solution], parameters: dict[str, Any]
) -> list[SuggestionValues]:
    """Mark the rows running and run the method; on an error put the rows back (queued or failed) and raise."""
    mark = partial(suggestions_mark, method=configuration.method, config_key=configuration.config_key, solutions=todo)
    mark(status=SuggestionStatus.RUNNING)
    try:
        return _execute(configuration, todo, parameters)
    except TransientEngineError as error:
        mark(status=SuggestionStatus.QUEUED, error=f"retrying after a transient engine error: {error}")
        raise
    except Exception as error:
        mark(status=SuggestionStatus.FAILED, error=f"internal error: {type(error).__name__}: {error}")
        raise


def suggestions_run(
    *,
    method: str,
    solution_ids: Sequence[int],
    config_key: str,
    force: bool = False,
    parameters: dict[str, Any] | None = None,
    run_id: int | None = None,
) -> RunOutcome:
    """Run `method` over the solutions and store one suggestion each under `config_key`; return the outcome.

    Side effects: rows go `running`, then to the method's status with label, scores, rationale and cost
    (rollouts, prompt/generated tokens, seconds: the batch's time shared equally); the scoring run (if
    any) counts them in the same transaction; once `mc` or `judge` change, `consensus` is derived for
    these solutions. Raises TransientEngineError (rows back to `queued`) for Celery to retry.
    """
    configured = method_configuration(method, parameters)
    configuration = MethodConfiguration(method, configured.parameters, config_key, configured.queue)
    solutions = solutions_for_scoring(solution_ids)
    existing = suggestions_by_solution(method=method, config_key=config_key, solution_ids=[s.pk for s in solutions])
    todo, already = _pending(solutions, existing, force=force, run_id=run_id)
    stored_parameters: dict[str, Any] = {"config": configuration.parameters}
    if run_id is not None:
        stored_parameters["scoring_run"] = run_id
    rows = _run_pending(configuration, todo, stored_parameters) if todo else []
    outcome = RunOutcome()
    for values in rows:
        outcome.add(values)
    outcome.seconds = sum(values.seconds for values in rows)
    with transaction.atomic():
        if rows:
            suggestions_upsert(method=method, config_key=config_key, rows=rows)
        if run_id is not None:
            uncounted = [row for row in already if row.parameters.get("scoring_run") != run_id]
            scoring_run_record(run_id=run_id, outcome=outcome, already=uncounted)
    if method in registry.get_method(consensus.METHOD).inputs and outcome.solution_ids:
        consensus_derive(solution_ids=outcome.solution_ids)
    return outcome


def suggestions_give_up(
    *, method: str, solution_ids: Sequence[int], config_key: str, error: str, run_id: int | None = None
) -> RunOutcome:
    """Mark the unfinished suggestions of a batch failed after its last retry, and count them in the run."""
    solutions = solutions_for_scoring(solution_ids)
    existing = suggestions_by_solution(method=method, config_key=config_key, solution_ids=[s.pk for s in solutions])
    pending = [s for s in solutions if existing.get(s.pk) is None or existing[s.pk].status not in FINAL_STATUSES]
    message = f"gave up after retries: {error}"
    suggestions_mark(
        method=method, config_key=config_key, solutions=pending, status=SuggestionStatus.FAILED, error=message
    )
    outcome = RunOutcome()
    for solution in pending:
        outcome.add(_failed(solution, message, CPU_ENGINE, {}))
    if run_id is not None:
        scoring_run_record(run_id=run_id, outcome=outcome)
    return outcome
