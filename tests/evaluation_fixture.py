"""The hand-written evaluation fixture (tests/fixtures/evaluation/samples.json), as plain groups or as rows.

Solutions are made in the file's order, so a lower key is a lower id. The expected figures are worked out
by hand in tests/prmweb/core/test_evaluation_report.py; the database path must give the same numbers.
"""

import json
from pathlib import Path

from prmweb.core.evaluation import Aggregate, Judgement, judgement
from prmweb.core.evaluation_report import Candidate, Group

SAMPLES = json.loads((Path(__file__).parent / "fixtures/evaluation/samples.json").read_text())
REFERENCE_SOURCES = {"unanimous", "majority", "review", "imported"}
DEFAULT_STEPS = 3


def _correct(solution: dict) -> bool | None:
    check = solution.get("answer_check")
    return check if check is not None else solution.get("final_answer_correct")


def _reference(solution: dict) -> int | None:
    if solution.get("label_source", "unanimous") not in REFERENCE_SOURCES:
        return None
    return solution.get("final_label")


def pure_groups() -> tuple[list[Group], dict[str, int]]:
    """Return the groups of two or more samples with known correctness, and {key: id} (ids 1, 2, ... in order)."""
    ids: dict[str, int] = {}
    groups = []
    for number, problem in enumerate(SAMPLES["problems"], start=1):
        candidates = []
        for solution in problem["solutions"]:
            ids[solution["key"]] = len(ids) + 1
            correct = _correct(solution)
            if correct is None:
                continue
            candidates.append(
                Candidate(
                    solution_id=ids[solution["key"]],
                    correct=correct,
                    answer=solution["final_answer"],
                    reference_label=_reference(solution),
                    num_steps=solution.get("steps", DEFAULT_STEPS),
                )
            )
        if len(candidates) >= 2:
            groups.append(Group(subset=problem["subset"], problem_id=number, candidates=tuple(candidates)))
    return groups, ids


def steps_of(key: str) -> int:
    """Return the number of steps of the solution `key`."""
    solution = next(s for p in SAMPLES["problems"] for s in p["solutions"] if s["key"] == key)
    return solution.get("steps", DEFAULT_STEPS)


def pure_judgements(method: str, ids: dict[str, int], aggregate: Aggregate = "min") -> dict[int, Judgement]:
    """Return {solution id: judgement} of one method's succeeded suggestions."""
    judged = {}
    for key, suggestion in SAMPLES["suggestions"][method].items():
        if suggestion.get("status", "succeeded") != "succeeded":
            continue
        scores = suggestion.get("step_scores", [])
        judged[ids[key]] = judgement(scores, suggestion.get("label"), steps_of(key), aggregate)
    return judged


def store(dataset, *, methods=("prm", "judge")) -> dict:
    """Store the fixture in `dataset` (problems, solutions, final labels, suggestions); return {key: solution}."""
    from tests.factories import FinalLabelFactory, ProblemFactory, SolutionFactory, SuggestionFactory

    solutions = {}
    for problem in SAMPLES["problems"]:
        stored = ProblemFactory(
            dataset=dataset, text=f"Problem {problem['key']}", reference_answer=problem["reference_answer"]
        )
        for item in problem["solutions"]:
            steps = [f"Step {i + 1} of {item['key']}." for i in range(item.get("steps", DEFAULT_STEPS))]
            solution = SolutionFactory(
                dataset=dataset,
                problem=stored,
                external_id=f"{problem['subset']}-{item['key']}",
                subset=problem["subset"],
                steps=steps,
                final_answer=item["final_answer"],
                answer_check=item.get("answer_check"),
                final_answer_correct=item.get("final_answer_correct"),
                status="final" if item.get("final_label") is not None else "open",
            )
            if item.get("final_label") is not None:
                source = item.get("label_source", "unanimous")
                FinalLabelFactory(solution=solution, label=item["final_label"], source=source)
            solutions[item["key"]] = solution
    for method in methods:
        for key, suggestion in SAMPLES["suggestions"][method].items():
            SuggestionFactory(
                solution=solutions[key],
                method=method,
                status=suggestion.get("status", "succeeded"),
                label=suggestion.get("label"),
                step_scores=suggestion.get("step_scores", []),
                model_name=f"{method}-model",
            )
    return solutions
