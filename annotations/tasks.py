"""Celery tasks of the labelling side: thin wrappers that re-read rows and call one service."""

from celery import shared_task

from annotations.services.answers import solutions_check_answers


@shared_task(name="annotations.tasks.check_final_answers", ignore_result=True)
def check_final_answers(solution_ids: list[int]) -> int:
    """Check the final answers of these solutions against their reference answers; return how many were checked.

    Idempotent: running it twice stores the same verdicts. Unknown ids are ignored (deleted meanwhile).
    """
    return solutions_check_answers(solution_ids=solution_ids).checked
