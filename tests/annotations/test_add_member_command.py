"""`manage.py add_member`: give a user a role on a dataset, optionally creating the account."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from annotations.models import DatasetMembership
from tests.factories import DatasetFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-passphrase-42"


def _run(*args: str) -> str:
    out = StringIO()
    call_command("add_member", *args, stdout=out)
    return out.getvalue()


def _roles(dataset) -> dict[str, str]:
    return dict(DatasetMembership.objects.filter(dataset=dataset).values_list("user__username", "role"))


@pytest.fixture
def imported():
    """A dataset as `import_solutions --create-dataset` leaves it: no members."""
    return DatasetFactory(slug="pb-gsm8k")


def test_adds_an_existing_user_then_changes_the_role_idempotently(imported):
    UserFactory(username="mona")
    assert _run("--dataset", "pb-gsm8k", "--user", "mona", "--role", "manager") == (
        "mona is manager of dataset 'pb-gsm8k' (added).\n"
    )
    assert _run("--dataset", "pb-gsm8k", "--user", "mona", "--role", "manager") == (
        "mona is manager of dataset 'pb-gsm8k' (unchanged).\n"
    )
    MembershipFactory(dataset=imported, user=UserFactory(username="max"), role="manager")
    assert _run("--dataset", "pb-gsm8k", "--user", "mona", "--role", "reviewer") == (
        "mona is reviewer of dataset 'pb-gsm8k' (was manager).\n"
    )
    assert _roles(imported) == {"mona": "reviewer", "max": "manager"}


def test_create_user_makes_an_account_that_can_log_in(imported):
    out = _run(
        "--dataset", "pb-gsm8k", "--user", "nina", "--role", "annotator", "--create-user", "--password", PASSWORD
    )
    assert out == "Created user 'nina'.\nnina is annotator of dataset 'pb-gsm8k' (added).\n"
    user = authenticate(username="nina", password=PASSWORD)
    assert user is not None and not user.is_staff
    assert _roles(imported) == {"nina": "annotator"}


def test_create_user_leaves_an_existing_account_alone(imported):
    UserFactory(username="nina", password="old-secret-passphrase-1")
    out = _run(
        "--dataset", "pb-gsm8k", "--user", "nina", "--role", "annotator", "--create-user", "--password", PASSWORD
    )
    assert out.startswith("User 'nina' exists; the password is left unchanged.\n")
    assert get_user_model().objects.get(username="nina").check_password("old-secret-passphrase-1")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset", "nope", "--user", "mona", "--role", "annotator"], "Dataset 'nope' does not exist."),
        (
            ["--dataset", "pb-gsm8k", "--user", "ghost", "--role", "annotator"],
            "There is no user 'ghost'. Create the account first, or add --create-user --password PASSWORD to create "
            "it here.",
        ),
        (
            ["--dataset", "pb-gsm8k", "--user", "ghost", "--role", "annotator", "--create-user"],
            "--create-user needs --password for the new account.",
        ),
        (
            ["--dataset", "pb-gsm8k", "--user", "mona", "--role", "annotator", "--password", PASSWORD],
            "--password is only used with --create-user.",
        ),
        (
            ["--dataset", "pb-gsm8k", "--user", "ghost", "--role", "annotator", "--create-user", "--password", "123"],
            "Invalid password. This password is too short. It must contain at least 8 characters. "
            "This password is too common. This password is entirely numeric.",  # every reason, not only the first
        ),
        (
            [
                "--dataset",
                "pb-gsm8k",
                "--user",
                "bad name!",
                "--role",
                "annotator",
                "--create-user",
                "--password",
                PASSWORD,
            ],
            "Invalid user. username: Enter a valid username. This value may contain only letters, numbers, and "
            "@/./+/-/_ characters.",
        ),
    ],
)
def test_refusals_name_the_problem_and_change_nothing(imported, args, message):
    UserFactory(username="mona")
    with pytest.raises(CommandError) as raised:
        _run(*args)
    assert str(raised.value) == message
    assert _roles(imported) == {}
    assert not get_user_model().objects.filter(username__in=["ghost", "bad name!"]).exists()


def test_an_unknown_role_is_refused_by_the_parser(imported):
    UserFactory(username="mona")
    with pytest.raises(CommandError, match="invalid choice: 'owner'"):
        _run("--dataset", "pb-gsm8k", "--user", "mona", "--role", "owner")


def test_demoting_the_last_manager_is_refused(imported):
    MembershipFactory(dataset=imported, user=UserFactory(username="mona"), role="manager")
    with pytest.raises(CommandError) as raised:
        _run("--dataset", "pb-gsm8k", "--user", "mona", "--role", "annotator")
    assert str(raised.value) == (  # the refusal says why and what to do, as the API's errors.username does
        "'mona' is the last manager of dataset 'pb-gsm8k' and cannot be made annotator. "
        "The last manager cannot be made annotator; make another member manager first."
    )
    assert _roles(imported) == {"mona": "manager"}
