"""docker-compose.yml and the Dockerfile: validated offline, as far as this machine allows.

The compose file is interpolated the way `docker compose` does (`${VAR:-default}`, `${VAR}`, `$$`)
and validated against the Compose Specification JSON schema that the `check-jsonschema` package ships
(check_jsonschema/builtin_schemas/vendor/compose-spec.json); no Docker daemon runs here, so the
structural assertions below pin what the schema cannot: commands, GPU reservations, mounts, profiles.
"""

import importlib.resources
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
GPU_WORKER_COMMAND = [
    "celery", "-A", "prmweb", "worker", "-Q", "gpu", "-P", "solo", "-c", "1", "--prefetch-multiplier=1",
]  # fmt: skip
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(text: str, environment: dict[str, str]) -> str:
    """Substitute variables like `docker compose` (defaults, required values, `$$` escapes)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        value = environment.get(name)
        if (op in (":-", ":?") and not value) or (op in ("-", "?") and value is None):
            if op.endswith("?"):
                raise ValueError(f"{name}: {arg}")
            return arg
        return value or ""

    return _VARIABLE.sub(replace, text)


@pytest.fixture(scope="module")
def compose() -> dict:
    text = interpolate((ROOT / "docker-compose.yml").read_text(encoding="utf-8"), {"POSTGRES_PASSWORD": "s3cret"})
    return yaml.safe_load(text)


def test_compose_file_matches_the_compose_specification_schema(compose):
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)

    errors = sorted(validator.iter_errors(compose), key=lambda error: list(error.path))

    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_stack_services_health_checks_and_restart_policies(compose):
    services = compose["services"]

    assert set(services) == {"postgres", "redis", "web", "worker", "beat", "gpu-worker", "judge"}
    for name in ("postgres", "redis", "web", "worker", "gpu-worker", "judge"):
        assert services[name]["healthcheck"]["test"], name
    for name in services:
        assert services[name]["restart"] == "unless-stopped", name
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "python manage.py migrate --noinput &&" in services["web"]["command"][2]
    assert "gunicorn prmweb.wsgi:application" in services["web"]["command"][2]
    assert services["worker"]["command"][:6] == ["celery", "-A", "prmweb", "worker", "-Q", "default"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "prmweb", "beat"]


def test_web_and_workers_share_one_anchor(compose):
    services = compose["services"]
    shared = ("env_file", "restart")
    for name in ("worker", "beat", "gpu-worker"):
        for key in shared:
            assert services[name][key] == services["web"][key], (name, key)
    assert services["worker"]["image"] == services["beat"]["image"] == services["web"]["image"] == "prmweb:web"
    for name in ("web", "worker", "beat", "gpu-worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"] == "postgres://prmweb:s3cret@postgres:5432/prmweb"
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    raw = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert raw.count("<<: *app\n") == 4


def test_gpu_worker_runs_solo_on_its_reserved_gpu_with_read_only_models(compose):
    worker = compose["services"]["gpu-worker"]

    assert worker["command"][: len(GPU_WORKER_COMMAND)] == GPU_WORKER_COMMAND
    assert worker["environment"]["VLLM_WORKER_MULTIPROC_METHOD"] == "spawn"
    assert worker["environment"]["HF_HUB_OFFLINE"] == "1"
    assert worker["build"]["target"] == "gpu"
    (device,) = worker["deploy"]["resources"]["reservations"]["devices"]
    assert (device["driver"], device["device_ids"], device["capabilities"]) == ("nvidia", ["0"], ["gpu"])
    assert "./models:/models:ro" in worker["volumes"]


def test_the_vllm_judge_is_optional_and_serves_a_local_model(compose):
    judge = compose["services"]["judge"]

    assert judge["profiles"] == ["judge"]
    assert judge["image"].startswith("vllm/vllm-openai:")
    model = judge["command"][judge["command"].index("--model") + 1]
    assert model == "/models/Qwen2.5-72B-Instruct"
    assert "./models:/models:ro" in judge["volumes"]
    assert judge["environment"]["HF_HUB_OFFLINE"] == "1"
    assert judge["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]


def test_the_database_password_is_required_with_no_fallback():
    raw = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "POSTGRES_PASSWORD:-" not in raw
    for missing in ({}, {"POSTGRES_PASSWORD": ""}):
        with pytest.raises(ValueError) as refused:
            interpolate(raw, missing)
        assert str(refused.value) == "POSTGRES_PASSWORD: set POSTGRES_PASSWORD in .env (see .env.example)"


def test_a_required_variable_without_value_is_an_error():
    with pytest.raises(ValueError, match=r"SECRET_KEY: set it in \.env"):
        interpolate("key: ${SECRET_KEY:?set it in .env}", {})


def test_dockerfile_targets_install_the_right_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = {name: base for base, name in re.findall(r"^FROM (\S+) AS (\w+)$", dockerfile, flags=re.MULTILINE)}

    assert stages == {"common": "${PYTHON_IMAGE}", "web": "common", "models": "web", "gpu": "common"}
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in dockerfile
    gpu_stage = dockerfile.split("FROM common AS gpu", 1)[1]
    assert "pip install -r requirements/gpu.txt" in gpu_stage
    assert "models.txt" not in gpu_stage
    assert "-r requirements.txt -r requirements/models.txt" in dockerfile.split("FROM web AS models", 1)[1]
    web_stage = dockerfile.split("FROM common AS web", 1)[1].split("FROM web AS models", 1)[0]
    assert "RUN pip install -r requirements.txt\n" in web_stage
