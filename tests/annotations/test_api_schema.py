"""The OpenAPI schema is valid and accurate, and the docs page works offline under our CSP."""

import re
import shutil

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from openapi_spec_validator import validate
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

SIDECAR = "drf_spectacular_sidecar/swagger-ui-dist/"


@pytest.fixture
def schema() -> dict:
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_is_a_valid_openapi_document(schema):
    validate(schema)
    assert schema["openapi"].startswith("3.")


def test_spectacular_validate_fail_on_warn_is_clean(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    validate(yaml.safe_load(target.read_text()))


def test_the_ingest_request_is_one_solution_or_a_list(schema):
    operation = schema["paths"]["/api/v1/datasets/{slug}/solutions/"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    single, many = body["oneOf"]
    assert single == {"$ref": "#/components/schemas/SolutionInRequest"}
    assert many == {"type": "array", "items": {"$ref": "#/components/schemas/SolutionInRequest"}}
    solution = schema["components"]["schemas"]["SolutionInRequest"]
    assert solution["required"] == ["problem"]
    assert set(solution["properties"]) == {
        "id",
        "problem",
        "steps",
        "response",
        "segmentation",
        "generator",
        "subset",
        "reference_answer",
        "reference_solution",
        "final_answer",
        "final_answer_correct",
        "label",
        "metadata",
    }
    assert solution["properties"]["steps"]["maxItems"] == 200
    assert solution["properties"]["steps"]["items"]["maxLength"] == 20000
    assert solution["properties"]["response"]["maxLength"] == 500_000
    assert set(operation["responses"]) == {"200", "201", "400", "401", "403", "404", "413"}
    assert operation["responses"]["413"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_the_schema_documents_token_auth_and_every_endpoint(schema):
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }
    for path in (
        "/api/v1/me/",
        "/api/v1/datasets/",
        "/api/v1/datasets/{slug}/",
        "/api/v1/datasets/{slug}/solutions/",
        "/api/v1/datasets/{slug}/solutions/{solution_id}/",
    ):
        assert path in schema["paths"], path
    parameters = {p["name"] for p in schema["paths"]["/api/v1/datasets/{slug}/solutions/"]["get"]["parameters"]}
    assert {"status", "has_label", "generator", "subset", "external_id", "q", "page", "page_size"} <= parameters


def test_the_docs_page_has_no_inline_script_and_loads_local_files():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all('src="' in attributes and not body.strip() for attributes, body in scripts)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert all(source.startswith("/") for source in sources), sources  # nothing from a CDN
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert f"/static/{SIDECAR}{name}" in sources
        assert finders.find(SIDECAR + name), name
    init = APIClient().get("/api/docs/?script=")
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in init.content.decode()


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_the_docs_page_renders_in_a_browser_without_csp_violations(live_server):
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{live_server.url}/api/docs/")
        page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
        title = page.inner_text(".swagger-ui .info .title")
        page.wait_for_selector("#operations-solutions-solutions_ingest", timeout=15_000)
        browser.close()
    assert title.startswith("prmweb API")
    assert problems == []
