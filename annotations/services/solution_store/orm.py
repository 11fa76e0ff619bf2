"""Any database: bulk_create, the reference the COPY and executemany paths are tested against."""

from collections.abc import Sequence

from annotations.models import Dataset, FinalLabel, FinalLabelSource, Problem, Solution
from annotations.services.response_input import stored_steps, waits_for_reformat
from annotations.services.solution_store.rows import SOLUTION_COLUMNS, InsertedSolution, NewSolution
from annotations.solution_input import SolutionInput


def bulk_create(
    template: Solution, rows: Sequence[NewSolution], problems: dict[str, SolutionInput]
) -> list[InsertedSolution]:
    by_hash = _problems_for(template.dataset, problems)
    shared = {
        field.attname: getattr(template, field.attname)
        for field in Solution._meta.concrete_fields
        if not field.primary_key and field.attname not in {*SOLUTION_COLUMNS, "problem_id"}
    }
    solutions = []
    for row in rows:
        item = row.item
        steps = stored_steps(item)
        solutions.append(
            Solution(
                **shared,
                problem=by_hash[row.problem_hash],
                external_id=item.external_id,
                content_hash=row.content_hash,
                steps=steps,
                num_steps=len(steps),
                response=item.response or "",
                step_offsets=[] if waits_for_reformat(item) else [list(pair) for pair in item.step_offsets or []],
                segmentation=item.segmentation or "",
                **row.status_fields,
                generator=item.generator,
                subset=row.subset,
                final_answer=item.final_answer,
                final_answer_correct=item.final_answer_correct,
                imported_label=item.label,
                metadata=item.metadata,
            )
        )
    created = Solution.objects.bulk_create(solutions)
    final_labels = [
        FinalLabel(
            solution=solution,
            label=solution.imported_label,
            step_count=solution.num_steps,
            source=FinalLabelSource.IMPORTED,
        )
        for solution in created
        if solution.imported_label is not None
    ]
    if final_labels:
        FinalLabel.objects.bulk_create(final_labels)
    return [
        InsertedSolution(solution.pk, solution.external_id, solution.content_hash, solution.status)
        for solution in created
    ]


def _problems_for(dataset: Dataset, wanted: dict[str, SolutionInput]) -> dict[str, Problem]:
    """Return problems by text hash, creating missing ones and filling blank reference fields."""
    found = {p.content_hash: p for p in Problem.objects.filter(dataset=dataset, content_hash__in=list(wanted))}
    missing = [
        Problem(
            dataset=dataset,
            text=item.problem,
            reference_answer=item.reference_answer,
            reference_solution=item.reference_solution,
            content_hash=digest,
        )
        for digest, item in sorted(wanted.items())
        if digest not in found
    ]
    if missing:
        # ON CONFLICT DO UPDATE returns the id of a problem a concurrent batch inserted meanwhile.
        created = Problem.objects.bulk_create(
            missing, update_conflicts=True, unique_fields=["dataset", "content_hash"], update_fields=["text"]
        )
        found.update({problem.content_hash: problem for problem in created})
    to_update = []
    for digest, problem in sorted(found.items()):
        item = wanted[digest]
        if (not problem.reference_answer and item.reference_answer) or (
            not problem.reference_solution and item.reference_solution
        ):
            problem.reference_answer = problem.reference_answer or item.reference_answer
            problem.reference_solution = problem.reference_solution or item.reference_solution
            to_update.append(problem)
    if to_update:
        Problem.objects.bulk_update(to_update, ["reference_answer", "reference_solution"])
    return found
