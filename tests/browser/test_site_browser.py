"""Site-wide details in headless Chromium: no failed request (favicon included) on the main pages, the
header's Review link for a manager, and logging out from a typed /accounts/logout/ address."""

import pytest

from tests.annotations.workbench_helpers import member
from tests.factories import DatasetFactory, SolutionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def watch(page):
    """Collect every failed response (status >= 400) and console error of the page."""
    failures: list[str] = []
    page.on(
        "response",
        lambda response: failures.append(f"{response.status} {response.url}") if response.status >= 400 else None,
    )
    page.on("console", lambda message: failures.append(message.text) if message.type == "error" else None)
    return failures


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_a_manager_browses_without_a_failed_request_and_logs_out_from_the_typed_address(page, live_server):
    dataset = DatasetFactory(name="Algebra", slug="algebra")
    SolutionFactory(dataset=dataset)
    member(dataset, "mona", role="manager")
    failures = watch(page)
    login(page, live_server, "mona")
    page.click("header nav >> text=Review")
    page.wait_for_url(f"{live_server.url}/review/")
    page.goto(f"{live_server.url}/")
    page.click("#dataset-algebra >> text=Dashboard")
    page.wait_for_url(f"{live_server.url}/datasets/algebra/dashboard/")
    page.goto(f"{live_server.url}/my-work/")
    page.goto(f"{live_server.url}/accounts/logout/")
    assert page.inner_text("h1") == "Log out?"
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    page.goto(f"{live_server.url}/")
    page.wait_for_url(f"{live_server.url}/accounts/login/?next=/")
    assert failures == []


def test_the_admin_and_api_docs_load_without_a_failed_request(page, live_server):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    failures = watch(page)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/annotations/solution/")
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui")
    assert failures == []
