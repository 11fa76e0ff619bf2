"""Add a user to a dataset with a role, or change their role; optionally create the account first."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from annotations.models import Dataset, MembershipRole
from annotations.services.accounts import user_create
from annotations.services.datasets import membership_set
from prmweb.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Give a user a role on a dataset (annotator, reviewer or manager): add them, or change their role. "
        "Running it again changes nothing. With --create-user --password P, a missing account is created first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", required=True, help="Slug of the dataset.")
        parser.add_argument("--user", required=True, help="Username.")
        parser.add_argument("--role", required=True, choices=MembershipRole.values)
        parser.add_argument(
            "--create-user", action="store_true", help="Create the user when missing (needs --password)."
        )
        parser.add_argument("--password", help="Password of the user created by --create-user.")

    def handle(self, *args: Any, **options: Any) -> None:
        username, password = options["user"], options["password"]
        if password is not None and not options["create_user"]:
            raise CommandError("--password is only used with --create-user.")
        dataset = Dataset.objects.filter(slug=options["dataset"]).first()
        if dataset is None:
            raise CommandError(f"Dataset {options['dataset']!r} does not exist.")
        try:
            with transaction.atomic():  # a refused membership leaves no account created for it
                if options["create_user"]:
                    self._create_user(username, password)
                change = membership_set(dataset=dataset, username=username, role=options["role"])
        except ApplicationError as error:
            raise CommandError(_refusal(error, create_user=options["create_user"])) from error
        if change.created:
            outcome = "added"
        elif change.previous_role == options["role"]:
            outcome = "unchanged"
        else:
            outcome = f"was {change.previous_role}"
        self.stdout.write(f"{username} is {options['role']} of dataset {dataset.slug!r} ({outcome}).")

    def _create_user(self, username: str, password: str | None) -> None:
        if get_user_model()._default_manager.filter(username=username).exists():
            self.stdout.write(f"User {username!r} exists; the password is left unchanged.")
            return
        if not password:
            raise CommandError("--create-user needs --password for the new account.")
        user_create(username=username, password=password)
        self.stdout.write(f"Created user {username!r}.")


def _refusal(error: ApplicationError, *, create_user: bool) -> str:
    """Return the refusal with what to do about it: the service's advice, and the option that creates a user."""
    advice = [str(text) for texts in error.errors.values() for text in texts if str(text) not in error.message]
    if "username" in error.errors and not create_user and "no user" in error.message.lower():
        advice = ["Create the account first, or add --create-user --password PASSWORD to create it here."]
    return " ".join([error.message, *advice])
