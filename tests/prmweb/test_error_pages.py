"""The site's own 400, 403, 404 and 500 pages: the header, what happened and a way back; JSON under /api/."""

import pytest
from django.test import Client, RequestFactory, override_settings

from annotations.views.reviewer_access import DENIED
from prmweb.views import bad_request, server_error
from tests.annotations.workbench_helpers import member
from tests.factories import DatasetFactory

HEADER = '<header class="topbar">\n    <a class="brand" href="/">prmweb</a>'


@pytest.mark.django_db
def test_a_missing_page_is_the_sites_404_with_a_way_back(client):
    member(DatasetFactory(slug="algebra"), "ann")
    client.login(username="ann", password="correct-horse-battery")
    response = client.get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert HEADER in body and '<nav class="topnav"' in body
    assert "<h1>Page not found</h1>" in body
    assert "There is nothing at <code>/no-such-page/</code> that you may see." in body
    assert '<a class="button" href="/">Back to my datasets</a>' in body
    assert 'id="error-detail"' not in body  # the resolver's own message is not for people


@pytest.mark.django_db
def test_a_404_raised_with_a_message_says_it(client):
    member(DatasetFactory(slug="algebra"), "ann")
    client.login(username="ann", password="correct-horse-battery")
    body = client.get("/review/987654/").content.decode()
    assert '<p class="muted" id="error-detail">Solution 987654 not found.</p>' in body


@pytest.mark.django_db
def test_a_logged_out_404_offers_the_login(client):
    body = client.get("/no-such-page/").content.decode()
    assert '<nav class="topnav"' not in body
    assert '<a class="button" href="/accounts/login/">Log in</a>' in body


@pytest.mark.django_db
def test_403_says_why_and_leads_home(client):
    dataset = DatasetFactory(slug="algebra")
    member(dataset, "ann")
    client.login(username="ann", password="correct-horse-battery")
    response = client.get("/datasets/algebra/review/")
    body = response.content.decode()
    assert response.status_code == 403
    assert HEADER in body
    assert "<h1>Not allowed</h1>" in body
    assert f'<p id="error-detail">{DENIED}</p>' in body
    assert '<a class="button" href="/">Back to my datasets</a>' in body


@pytest.mark.django_db
def test_an_expired_form_is_the_403_page_saying_what_to_do():
    dataset = DatasetFactory(slug="algebra")
    member(dataset, "ann")
    client = Client(enforce_csrf_checks=True)
    client.login(username="ann", password="correct-horse-battery")
    response = client.post("/datasets/algebra/next/")
    body = response.content.decode()
    assert response.status_code == 403
    assert "<h1>This form has expired</h1>" in body
    assert "Go back, reload the page and send the form again (copy any long text first)." in body
    assert '<p class="muted small" id="error-reason">CSRF check failed: CSRF cookie not set.</p>' in body


def test_the_500_page_renders_without_a_database_or_request_context():
    # No django_db mark: any query here fails the test. The request has no user and no session.
    response = server_error(RequestFactory().get("/annotate/1/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert HEADER in body and '<nav class="topnav"' not in body
    assert "<h1>Something went wrong</h1>" in body
    assert "The server failed to answer this request, and the error was logged." in body
    assert '<a class="button" href="/">Back to my datasets</a>' in body


def test_the_400_page_renders_without_a_database():
    response = bad_request(RequestFactory().post("/annotate/1/"), ValueError("too big"))
    body = response.content.decode()
    assert response.status_code == 400
    assert "<h1>Bad request</h1>" in body and '<a class="button" href="/">Back to my datasets</a>' in body


@pytest.mark.django_db
@pytest.mark.urls("tests.browser.boom_urls")
def test_a_failing_page_answers_with_the_500_page(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in response.content.decode()


@pytest.mark.django_db
@override_settings(DEBUG=False)
@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/v1/datasets/demo/solutions/abc/"])
def test_the_api_keeps_its_json_errors(client, path):
    """A path no endpoint matches (a typo, an id that is not a number) says so and names `path`."""
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {
        "message": f"Not found: {path}",
        "errors": {
            "path": ["No API endpoint has this path; ids in paths are whole numbers (the endpoints: /api/docs/)."]
        },
    }


@pytest.mark.django_db
@override_settings(DEBUG=False)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_api_path_without_its_slash_is_a_308_that_keeps_the_method(client, method):
    """Django's 301 would turn a POST into a GET of the list: clients would think they stored something."""
    response = getattr(client, method)("/api/v1/datasets/demo/solutions?x=1")
    target = "/api/v1/datasets/demo/solutions/?x=1"
    message = (
        f"API paths end with a slash: use {target} (this answer is a 308 redirect to it, which keeps the method "
        "and the body)."
    )
    assert response.status_code == 308
    assert response["Location"] == target
    assert response.json() == {"message": message, "errors": {"path": [message]}}


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_a_page_path_without_its_slash_is_still_djangos_301(client):
    response = client.get("/accounts/login")
    assert response.status_code == 301
    assert response["Location"] == "/accounts/login/"
