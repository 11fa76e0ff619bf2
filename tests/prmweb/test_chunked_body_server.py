"""A chunked request body through gunicorn (as the stack serves): refused with 411, never read as empty."""

import http.client
import json

import pytest
from rest_framework.authtoken.models import Token

from annotations.models import Dataset
from tests.drills.services import django_env, start_web
from tests.factories import UserFactory
from tests.scoring.worker_support import database_url

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

MESSAGE = (
    "Send the request body with a Content-Length header: chunked transfer encoding is not supported "
    "(the body was not read)."
)


def _post(base: str, token: str, body: bytes, *, chunked: bool) -> tuple[int, dict]:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=20)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    if chunked:
        connection.request("POST", "/api/v1/datasets/", body=iter([body[:10], body[10:]]), headers=headers)
    else:
        connection.request("POST", "/api/v1/datasets/", body=body, headers=headers)
    response = connection.getresponse()
    status, payload = response.status, json.loads(response.read())
    connection.close()
    return status, payload


def test_gunicorn_refuses_a_chunked_body_and_accepts_the_same_body_with_a_length(transactional_db, tmp_path):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    token = Token.objects.create(user=user).key
    web, base = start_web(django_env({"DATABASE_URL": database_url()}), tmp_path / "web.log")
    try:
        body = json.dumps({"name": "Chunked", "slug": "chunked"}).encode()
        status, payload = _post(base, token, body, chunked=True)
        assert (status, payload) == (411, {"message": MESSAGE, "errors": {"body": [MESSAGE]}}), web.output()
        assert not Dataset.objects.exists()

        status, payload = _post(base, token, body, chunked=False)
        assert status == 201, payload
        assert list(Dataset.objects.values_list("slug", flat=True)) == ["chunked"]
    finally:
        web.stop()
