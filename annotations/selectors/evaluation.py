"""Response-level and step-level evaluation of every method on a dataset's samples (two queries).

A group is the solutions of one problem in one subset whose final-answer correctness is known (the answer
check's verdict, else the record's `final_answer_correct`); groups of two or more are evaluated. Every
method (and configuration) with a finished suggestion on a grouped solution is evaluated on all of them,
so methods compare on the same solutions: a solution without a succeeded suggestion of the method (none
yet, queued, failed, skipped) has no score and no label. The reference label of a solution is its final
label from people or an import (`REFERENCE_SOURCES`, as the methods table); figures in
`prmweb.core.evaluation_report`.
"""

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from annotations.models import EXTERNAL_ENGINE, Dataset, Solution, Suggestion, SuggestionStatus
from annotations.selectors.quality import COST_STATUSES, NO_SUBSET, REFERENCE_SOURCES
from prmweb.core.evaluation import DEFAULT_AGGREGATE, Aggregate, Judgement, judgement
from prmweb.core.evaluation_report import Candidate, Group, MethodEvaluation, evaluate_method

CORRECTNESS_KNOWN = Q(answer_check__isnull=False) | Q(final_answer_correct__isnull=False)
MIN_GROUP_SIZE = 2


@dataclass(frozen=True)
class MethodEvaluationRow:
    """One method (and configuration) evaluated on the dataset's groups; `external`: ingested over the API."""

    method: str
    config_key: str
    model_name: str
    external: bool
    evaluation: MethodEvaluation


@dataclass(frozen=True)
class DatasetEvaluation:
    """Every method's figures on the same groups, under one aggregation of step scores."""

    dataset: Dataset
    aggregate: Aggregate
    groups: int
    solutions: int
    methods: list[MethodEvaluationRow]


def _candidate(row: tuple[Any, ...]) -> Candidate:
    solution_id, _, _, answer, check, verdict, num_steps, final, source = row
    return Candidate(
        solution_id=solution_id,
        correct=bool(check if check is not None else verdict),
        answer=answer,
        reference_label=final if source in REFERENCE_SOURCES else None,
        num_steps=num_steps,
    )


def evaluation_groups(*, dataset: Dataset) -> list[Group]:
    """Return the dataset's groups of two or more samples with known correctness, by subset then problem (one query)."""
    rows = (
        Solution.objects.filter(dataset=dataset)
        .filter(CORRECTNESS_KNOWN)
        .values_list(
            "id",
            "problem_id",
            "subset",
            "final_answer",
            "answer_check",
            "final_answer_correct",
            "num_steps",
            "final_label__label",
            "final_label__source",
        )
        .order_by("subset", "problem_id", "id")
    )
    groups = []
    for (problem_id, subset), members in itertools.groupby(rows.iterator(), key=lambda row: (row[1], row[2])):
        candidates = tuple(_candidate(row) for row in members)
        if len(candidates) >= MIN_GROUP_SIZE:
            groups.append(Group(subset=subset or NO_SUBSET, problem_id=problem_id, candidates=candidates))
    return groups


@dataclass
class _MethodRows:
    model_name: str = ""
    external: bool = False
    judgements: dict[int, Judgement] = field(default_factory=dict)


def _judgements(dataset: Dataset, steps: dict[int, int], aggregate: Aggregate) -> dict[tuple[str, str], _MethodRows]:
    """Return each method configuration's judgements of the grouped solutions (one query)."""
    rows = (
        Suggestion.objects.filter(solution__dataset=dataset, status__in=COST_STATUSES)
        .filter(Q(solution__answer_check__isnull=False) | Q(solution__final_answer_correct__isnull=False))
        .values_list("method", "config_key", "engine", "model_name", "solution_id", "status", "label", "step_scores")
        .order_by()
    )
    methods: dict[tuple[str, str], _MethodRows] = {}
    for row in rows.iterator(chunk_size=2000):
        method, config_key, engine, model_name, solution_id, status, label, step_scores = row
        if solution_id not in steps:
            continue
        found = methods.setdefault((method, config_key), _MethodRows())
        found.model_name = max(found.model_name, model_name)
        found.external = found.external or engine == EXTERNAL_ENGINE
        if status == SuggestionStatus.SUCCEEDED:
            scores = step_scores if isinstance(step_scores, list) else []
            found.judgements[solution_id] = judgement(scores, label, steps[solution_id], aggregate)
    return methods


def _ordered(rows: Iterable[MethodEvaluationRow]) -> list[MethodEvaluationRow]:
    """Built-in methods first, then external ones; by name and configuration within each."""
    return sorted(rows, key=lambda row: (row.external, row.method, row.config_key))


def dataset_evaluation(*, dataset: Dataset, aggregate: Aggregate = DEFAULT_AGGREGATE) -> DatasetEvaluation:
    """Return every method's BoN@N, maj@N, pass@N, flawed picks, minimum positions and F1 (two queries)."""
    groups = evaluation_groups(dataset=dataset)
    steps = {candidate.solution_id: candidate.num_steps for group in groups for candidate in group.candidates}
    methods = _judgements(dataset, steps, aggregate) if groups else {}
    rows = [
        MethodEvaluationRow(
            method=method,
            config_key=config_key,
            model_name=found.model_name,
            external=found.external,
            evaluation=evaluate_method(groups, found.judgements),
        )
        for (method, config_key), found in methods.items()
    ]
    return DatasetEvaluation(
        dataset=dataset, aggregate=aggregate, groups=len(groups), solutions=len(steps), methods=_ordered(rows)
    )
