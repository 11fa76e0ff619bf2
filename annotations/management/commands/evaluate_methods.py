"""Print every method's response-level and step-level figures on a dataset: the dashboard's evaluation table."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Dataset
from annotations.selectors.evaluation import DatasetEvaluation, MethodEvaluationRow, dataset_evaluation
from prmweb.core.evaluation import AGGREGATES, DEFAULT_AGGREGATE
from prmweb.core.evaluation_report import ResponseFigures

HEADERS = (
    "method",
    "model",
    "subset",
    "problems",
    "N",
    "BoN@N",
    "maj@N",
    "pass@N",
    "flawed picks",
    "min at last step",
    "F1",
    "mean F1",
    "coverage",
)
TEXT_COLUMNS = 3  # method, model and subset are left-aligned; the figures right-aligned


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _share(value: float | None, part: int, whole: int) -> str:
    return f"{_number(value)} ({part}/{whole})"


def _cells(row: MethodEvaluationRow, subset: str, figures: ResponseFigures, mean_f1: str) -> list[str]:
    name = row.method if row.config_key == "default" else f"{row.method} {row.config_key}"
    low, high = figures.smallest_group, figures.largest_group
    return [
        f"{name} (external)" if row.external else name,
        row.model_name or "-",
        subset,
        str(figures.groups),
        str(high) if low == high else f"{low}-{high}",
        _number(figures.best_of_n),
        _number(figures.majority),
        _number(figures.pass_at_n),
        _share(figures.flawed_pick_rate, figures.flawed_picks, figures.picks_labelled),
        _share(figures.min_at_last_share, figures.min_at_last, figures.min_scored),
        _number(figures.processbench.f1),
        mean_f1,
        _number(figures.coverage),
    ]


def table_lines(evaluation: DatasetEvaluation) -> list[str]:
    """Return the evaluation table as aligned text lines: per method, its subsets then all groups pooled."""
    rows = [list(HEADERS)]
    for method in evaluation.methods:
        for subset, figures in method.evaluation.subsets.items():
            rows.append(_cells(method, subset, figures, ""))
        rows.append(_cells(method, "all groups", method.evaluation.pooled, _number(method.evaluation.mean_f1)))
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADERS))]
    return [
        "  ".join(
            cell.ljust(width) if column < TEXT_COLUMNS else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


class Command(BaseCommand):
    help = (
        "Print, per method (built-in and external) and per subset, BoN@N, maj@N, pass@N, the flawed pick rate, "
        "the share of minimum step scores at the last step and ProcessBench F1 on the same sampled solutions "
        "(problems with 2+ solutions of known final-answer correctness): the dashboard's evaluation table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", required=True, help="Slug of the dataset.")
        parser.add_argument(
            "--aggregate",
            choices=AGGREGATES,
            default=DEFAULT_AGGREGATE,
            help="How step scores make a solution's score: min (default), product, or the last scored step.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dataset = Dataset.objects.filter(slug=options["dataset"]).first()
        if dataset is None:
            raise CommandError(f"Dataset {options['dataset']!r} does not exist.")
        evaluation = dataset_evaluation(dataset=dataset, aggregate=options["aggregate"])
        problems = f"{evaluation.groups} problem{'' if evaluation.groups == 1 else 's'}"
        self.stdout.write(
            f"Dataset {dataset.slug!r}: {problems} with 2+ solutions of known final-answer correctness, "
            f"{evaluation.solutions} solutions; response score: {evaluation.aggregate} of step scores."
        )
        if not evaluation.methods:
            self.stdout.write("No method has a finished suggestion on those solutions yet.")
            return
        for line in table_lines(evaluation):
            self.stdout.write(line)
