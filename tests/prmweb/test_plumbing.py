"""Cross-cutting HTTP behaviour: the strict JSON parser, the error shape, request ids, CSP, health."""

import json
import logging

import pytest
from django.db import OperationalError
from django.test import override_settings
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from prmweb.api.errors import http_status
from prmweb.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TooLargeError,
)
from prmweb.logging import JsonFormatter, RequestIdFilter, request_id_var


class EchoView(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()

    def post(self, request):
        if request.data == {"fail": "app"}:
            raise ConflictError("Nope.", errors={"steps[2]": ["Bad step."]})
        if request.data == {"fail": "db"}:
            raise OperationalError("server closed the connection unexpectedly")
        if request.data == {"fail": "bug"}:
            raise RuntimeError("boom")
        return Response({"received": request.data})


def _post(body: bytes):
    request = APIRequestFactory().post("/echo/", body, content_type="application/json")
    response = EchoView.as_view()(request)
    response.render()
    return response.status_code, json.loads(response.content)


@pytest.mark.parametrize(
    "body, message",
    [
        (b'{"steps": ["a", ', "JSON parse error"),
        (b'{"x": NaN}', "NaN is not valid JSON"),
        (b'{"x": "\xff\xfe"}', "not valid UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "JSON parse error"),
    ],
)
def test_malformed_json_is_a_400_naming_the_body(body, message):
    status, data = _post(body)
    assert status == 400
    assert message in data["message"]
    assert data["errors"] == {"body": [data["message"]]}


def test_a_body_that_is_not_json_is_a_415_naming_the_body():
    request = APIRequestFactory().post("/echo/", "a=1", content_type="text/plain")
    response = EchoView.as_view()(request)
    response.render()
    message = 'Unsupported media type "text/plain" in request.'
    assert response.status_code == 415
    assert json.loads(response.content) == {"message": message, "errors": {"body": [message]}}


def test_nul_byte_is_refused_naming_the_field():
    status, data = _post(b'{"steps": ["ok", "bad\\u0000step"]}')
    assert status == 400
    assert data["errors"] == {"steps[1]": ["This value contains a NUL character."]}
    assert data["message"] == "Invalid input. steps[1]: This value contains a NUL character."


def test_lone_surrogate_is_refused_naming_the_field():
    status, data = _post(b'{"problem": "x \\ud800 y"}')
    assert status == 400
    assert "problem" in data["errors"]
    assert "unpaired surrogate" in data["errors"]["problem"][0]


def test_moderately_deep_nesting_is_refused_naming_the_depth():
    body = json.dumps({"metadata": json.loads("[" * 40 + "]" * 40)}).encode()
    status, data = _post(body)
    assert status == 400
    assert "nested deeper than 32 levels" in data["message"]


def test_valid_unicode_passes_through_unchanged():
    payload = {"problem": "Résolvez $x^2 = 4$ 🙂", "steps": ["√4 = 2"]}
    status, data = _post(json.dumps(payload).encode())
    assert status == 200
    assert data["received"] == payload


def test_application_error_is_answered_with_its_kinds_status_and_its_fields():
    status, data = _post(b'{"fail": "app"}')
    assert status == 409
    assert data == {"message": "Nope.", "errors": {"steps[2]": ["Bad step."]}}


class GoneError(NotFoundError):
    """A subclass maps like its parent."""


@pytest.mark.parametrize(
    "error, expected",
    [
        (ApplicationError("x"), 400),
        (NotFoundError("x"), 404),
        (GoneError("x"), 404),
        (ConflictError("x"), 409),
        (PermissionDeniedError("x"), 403),
        (TooLargeError("x"), 413),
    ],
)
def test_the_api_layer_maps_each_error_kind_to_its_status(error, expected):
    assert not hasattr(error, "status_code")  # services raise errors without HTTP statuses
    assert http_status(error) == expected


def test_database_outage_is_a_503_not_a_traceback():
    status, data = _post(b'{"fail": "db"}')
    assert status == 503
    assert data["message"] == "The database is unavailable; try again shortly."


def test_unknown_error_is_a_logged_500_without_details(caplog):
    with caplog.at_level(logging.ERROR):
        status, data = _post(b'{"fail": "bug"}')
    assert status == 500
    assert data == {"message": "Internal server error.", "errors": {}}
    assert "boom" not in json.dumps(data)
    assert any("unhandled API error" in record.message for record in caplog.records)


@pytest.mark.django_db
def test_responses_carry_request_id_and_csp(client):
    response = client.get("/health/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    forged = client.get("/health/", HTTP_X_REQUEST_ID="<script>")
    assert forged["X-Request-ID"] != "<script>"
    assert len(forged["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_health_reports_database_and_embedded_broker(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "broker": None}


@pytest.mark.django_db
def test_health_is_503_when_the_configured_broker_is_down(client):
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_TASK_ALWAYS_EAGER=False):
        from prmweb.celery import app

        original = app.conf.broker_url
        app.conf.broker_url = "redis://127.0.0.1:1/0"
        try:
            response = client.get("/health/")
        finally:
            app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": True, "broker": False}


def test_json_logs_carry_the_request_id():
    record = logging.LogRecord("prmweb", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    token = request_id_var.set("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello world"
    assert line["request_id"] == "req-42"
    assert line["level"] == "INFO"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/exports/?dataset=%00", "/api/v1/datasets/?q=a%00b", "/my-work/?dataset=%00"])
def test_nul_in_a_query_parameter_is_a_400_naming_it(client, path):
    response = client.get(path)
    assert response.status_code == 400
    name = path.split("?")[1].split("=")[0]
    assert response.json() == {
        "message": f"Invalid input. {name}: This parameter contains a NUL character.",
        "errors": {name: ["This parameter contains a NUL character."]},
    }
