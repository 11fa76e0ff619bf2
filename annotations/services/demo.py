"""The bundled demo: a dataset of 40 real ProcessBench solutions, users with roles, and their API tokens.

Labels in the demo come from people. Every record's ProcessBench label is kept in
`metadata["processbench_label"]` only (no imported label, no final label), so annotators start from a
clean slate and the labels can be compared afterwards. The few records named in `DEMO_GOLD_IDS` are
gold items instead: they are imported with their label and marked gold, so the workbench mixes them
into queues at the dataset's `gold_rate` to measure annotators (a gold item's final label is its
imported label, by the gold service's rule).
"""

from dataclasses import dataclass, replace
from pathlib import Path

from django.contrib.auth.models import Group, User
from django.db import transaction
from rest_framework.authtoken.models import Token

from annotations.importers.base import ParsedRecord
from annotations.importers.processbench import load_reference_answers, parse_processbench
from annotations.models import Dataset, DatasetMembership, MembershipRole, Solution
from annotations.services.datasets import dataset_create
from annotations.services.gold import solutions_set_gold
from annotations.services.imports import solutions_import

DEMO_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
DEMO_SLUG = "demo"
DEMO_MANAGER = "demo"
DEMO_ANNOTATORS = ("annotator1", "annotator2", "annotator3")
DEMO_PASSWORD = "prmweb-demo"
ROLE_GROUPS = ("annotator", "reviewer", "manager")
# Two all-correct and two erroneous records per subset.
DEMO_GOLD_IDS = ("gsm8k-26", "gsm8k-33", "gsm8k-221", "gsm8k-231", "math-83", "math-203", "math-523", "math-534")

DEMO_GUIDELINES = """\
# How to label a solution

Each item is a math problem and a model's step-by-step solution. Your job: find the **earliest step that is wrong**, or say that **every step is correct**.

1. Read the problem, then the steps in order. The reference answer is shown for orientation only: a solution can reach the right answer through a wrong step, or be right and still fail to finish.
2. A step is wrong when it contains a calculation error, a logical error, a misread of the problem, an unjustified claim, or a conclusion that does not follow. Style, verbosity and harmless detours are not errors.
3. Mark the **first** wrong step only. Later steps do not matter once an earlier one is wrong, even if they repeat or fix the error.
4. If no step is wrong, choose **All steps correct**.
5. In the explanation, say in one sentence why the marked step is wrong (optional here, and a great help to the reviewers).
6. Flag the item if the problem is ambiguous, the reference answer looks wrong, or you are unsure.

This follows the ProcessBench protocol: the label is the 0-based index of the earliest erroneous step, or -1 when all steps are correct. The interface numbers steps from 1.
"""  # noqa: E501 - one line per paragraph: Markdown here keeps single newlines as line breaks


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str | None  # None when the account's password was changed since the demo created it
    token: str


@dataclass(frozen=True)
class DemoResult:
    dataset: Dataset
    created: int
    existing: int
    gold: int
    accounts: list[DemoAccount]


@transaction.atomic
def demo_load(*, password: str = DEMO_PASSWORD) -> DemoResult:
    """Create (or complete) the demo dataset, its users, memberships, tokens and role groups; return the login.

    Idempotent: a second run creates nothing and changes nothing (existing passwords are left alone;
    an account still using `password` reports it, a changed one reports None). The solutions go through
    the same importer path as `import_solutions`.
    """
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLE_GROUPS}
    manager = _user(DEMO_MANAGER, password, superuser=True)
    manager.groups.add(groups["manager"], groups["reviewer"])
    annotators = [_user(username, password, superuser=False) for username in DEMO_ANNOTATORS]
    for annotator in annotators:
        annotator.groups.add(groups["annotator"])
    dataset = _dataset(manager)
    for annotator in annotators:
        DatasetMembership.objects.get_or_create(
            dataset=dataset, user=annotator, defaults={"role": MembershipRole.ANNOTATOR}
        )
    report = solutions_import(dataset=dataset, records=_demo_records(), user=manager)
    gold_ids = [report.solution_ids[external_id] for external_id in DEMO_GOLD_IDS]
    solutions_set_gold(dataset=dataset, solution_ids=gold_ids, is_gold=True, changed_by=manager)
    accounts = [_account(manager, "manager, admin", password)]
    accounts += [_account(annotator, "annotator", password) for annotator in annotators]
    return DemoResult(
        dataset=dataset,
        created=report.created,
        existing=report.existing,
        gold=Solution.objects.filter(dataset=dataset, is_gold=True).count(),
        accounts=accounts,
    )


def _user(username: str, password: str, *, superuser: bool) -> User:
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    if superuser:
        return User.objects.create_superuser(username=username, email=f"{username}@example.org", password=password)
    return User.objects.create_user(username=username, email=f"{username}@example.org", password=password)


def _dataset(manager: User) -> Dataset:
    dataset = Dataset.objects.filter(slug=DEMO_SLUG).first()
    if dataset is not None:
        return dataset
    return dataset_create(
        user=manager,
        name="Demo: ProcessBench sample",
        slug=DEMO_SLUG,
        description="40 real solutions from ProcessBench (gsm8k and math), half of them with an erroneous step.",
        guidelines=DEMO_GUIDELINES,
        annotations_per_solution=3,
        max_annotations=3,
        agreement_mode="review",
        on_max_reached="review",
        gold_rate=0.1,
        scoring_methods=["arithmetic"],  # the CPU check: real suggestions with no model and no broker
    )


def _demo_records() -> list[ParsedRecord]:
    """Return the demo records: ProcessBench labels in metadata, kept as labels only on gold items."""
    with (DEMO_DIR / "reference_answers.json").open(encoding="utf-8") as stream:
        answers = load_reference_answers(stream)
    with (DEMO_DIR / "records.json").open(encoding="utf-8") as stream:
        records = list(parse_processbench(stream, answers=answers))
    demo = []
    for record in records:
        item = record.item
        if item is None:
            demo.append(record)
            continue
        metadata = {**item.metadata, "processbench_label": item.label, "demo": True}
        label = item.label if item.external_id in DEMO_GOLD_IDS else None
        demo.append(replace(record, item=replace(item, label=label, metadata=metadata)))
    return demo


def _account(user: User, role: str, password: str) -> DemoAccount:
    token, _ = Token.objects.get_or_create(user=user)
    return DemoAccount(
        username=user.username,
        role=role,
        password=password if user.check_password(password) else None,
        token=token.key,
    )
