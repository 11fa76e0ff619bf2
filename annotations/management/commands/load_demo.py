"""Load the bundled demo dataset and demo users, then print how to log in (idempotent)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from annotations.services.demo import DEMO_PASSWORD, demo_load


class Command(BaseCommand):
    help = (
        "Create the demo dataset (40 real ProcessBench solutions), the users demo (admin, manager) and "
        "annotator1..3 with API tokens, and print the login. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="Where the app is served.")
        parser.add_argument(
            "--password",
            help=f"Password for newly created demo users (default {DEMO_PASSWORD!r}; required in production).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        if password is None:
            if settings.SETTINGS_MODULE.endswith(".production"):
                raise CommandError("Refusing to create demo users with the public default password: pass --password.")
            password = DEMO_PASSWORD
        result = demo_load(password=password)
        base_url = options["base_url"].rstrip("/")
        self.stdout.write(
            f"Demo dataset {result.dataset.slug!r}: {result.created + result.existing} solutions "
            f"(created {result.created}, existing {result.existing}), {result.gold} of them gold."
        )
        self.stdout.write(f"Log in at {base_url}{reverse('login')}  (admin: {base_url}{reverse('admin:index')})")
        for account in result.accounts:
            shown = account.password if account.password is not None else "(changed since the demo was loaded)"
            self.stdout.write(
                f"  {account.username:<11} {account.role:<15} password: {shown}  API token: {account.token}"
            )
