"""Start-up stays small: the URL conf and `manage.py check` load no heavy library (issue #16).

Each check runs in a fresh interpreter, since this test process has long imported everything.
SymPy and math-verify load with the first answer comparison, pyarrow with the first Parquet file (a
JSONL export and its dataset card need none), numpy with the agreement figures, torch and transformers
only on model workers; Celery, kombu and the tasks modules with the first task a process sends (workers
load them at start).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = (
    "sympy",
    "math_verify",
    "latex2sympy2_extended",
    "pyarrow",
    "numpy",
    "pandas",
    "datasets",
    "torch",
    "transformers",
)

_REPORT = "import json, sys; print(json.dumps(sorted(name for name in {heavy!r} if name in sys.modules)))"

URLCONF = f"""
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns
{_REPORT.format(heavy=HEAVY)}
"""

CHECK = f"""
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "check"])
{_REPORT.format(heavy=HEAVY)}
"""

EXPORT_FOLDER = """
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from annotations.exporters import FORMATTERS, FinalLabelRecord, SolutionRecord, SplitRatios
from annotations.exporters.card import ExportDescription
from annotations.exporters.folder import write_export_folder
moment = datetime(2025, 1, 1, tzinfo=UTC)
final = FinalLabelRecord(label=-1, source="imported", agreement=None, decided_by="", decided_at=moment)
row = SolutionRecord(id="s-1", solution_id=1, problem_key="p", problem="1 + 1?", steps=["2"], final_label=final)
description = ExportDescription(
    export_id=1, dataset_name="d", dataset_slug="d", dataset_description="", formatter=FORMATTERS["annotations"],
    file_format={file_format!r}, filters={{}}, ratios=SplitRatios(), seed=0, protocol={{}}, created_at=moment,
    prmweb_version="0",
)
outcome = write_export_folder(Path(tempfile.mkdtemp()) / "export", [row], description=description)
assert outcome.result.stats.rows_written == 1
"""


def _loaded_heavy(code: str) -> list[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "prmweb.settings.test", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("code", [URLCONF, CHECK], ids=["urlconf", "manage-check"])
def test_startup_loads_no_heavy_library(code):
    assert _loaded_heavy(code) == []


def test_the_check_itself_sees_heavy_imports():
    """The probe would notice: importing the answer checker's comparison loads SymPy and math-verify."""
    code = (
        "from prmweb.core.answers import answers_equivalent\n"
        "assert answers_equivalent('1/2', '0.5')\n" + _REPORT.format(heavy=HEAVY)
    )
    assert {"sympy", "math_verify"} <= set(_loaded_heavy(code))


# Celery, kombu and the tasks modules (which import every service) load with the first task sent, the
# scoring methods with the first look at the suggestion methods, the services of the admin's actions
# (and the exporters) with the first action or export form.
TASKING = (
    "celery",
    "kombu",
    "prmweb.celery",
    "annotations.tasks",
    "scoring.tasks",
    "scoring.methods.registry",
    "annotations.services.exports",
    "annotations.exporters",
    "annotations.services.ingestion",
    "annotations.services.agreement",
    "annotations.services.claims",
)

HELP = f"""
import contextlib, io
from django.core.management import execute_from_command_line
with contextlib.redirect_stdout(io.StringIO()):
    execute_from_command_line(["manage.py", "help"])
{_REPORT.format(heavy=TASKING)}
"""

SETUP = f"""
import django
django.setup()
{_REPORT.format(heavy=TASKING)}
"""


@pytest.mark.parametrize("code", [SETUP, HELP], ids=["django-setup", "manage-help"])
def test_startup_loads_no_celery_no_tasks_module_no_scoring_method_and_no_action_service(code):
    assert _loaded_heavy(code) == []


def test_the_first_task_looked_up_loads_every_app_s_tasks_into_the_eager_app():
    """The embedded default: task_by_name finds tasks of both apps, on the project's app, run in-process."""
    code = """
import json, django
django.setup()
from django.conf import settings
from prmweb.taskqueue import task_by_name
from scoring.methods.registry import runnable_methods
names = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
names += ["annotations.tasks.run_export", "scoring.tasks.start_scoring_run"]
names += [spec.task_name for spec in runnable_methods()]
apps = {task_by_name(name).app.main for name in names}
print(json.dumps([sorted(apps), task_by_name(names[0]).app.conf.task_always_eager, len(names)]))
"""
    apps, eager, count = _loaded_heavy(code)
    assert apps == ["prmweb"]
    assert eager is True
    assert count > 5


def test_shared_tasks_imported_before_the_app_bind_to_the_project_s_app():
    """A tasks module imported first (as a test or a shell does) still binds its shared tasks to our app."""
    code = """
import json, sys, django
django.setup()
from annotations.tasks import run_export
from scoring.tasks import sweep_missing_suggestions
bound = [run_export.app, sweep_missing_suggestions.app]  # resolved before this code names the app
from prmweb.celery import app
print(json.dumps([bound[0] is app, bound[1] is app, app.main, app.conf.task_always_eager]))
"""
    assert _loaded_heavy(code) == [True, True, "prmweb", True]


def test_concurrent_first_lookups_all_find_their_task():
    """Web threads may send their first tasks at once: none may find the registry half-loaded."""
    code = """
import json, threading, django
django.setup()
from prmweb.taskqueue import task_by_name
names = ["scoring.tasks.start_scoring_run", "annotations.tasks.run_export"] * 4
barrier, found, failed = threading.Barrier(len(names)), [], []
def look_up(name):
    barrier.wait()
    try:
        found.append(task_by_name(name).name)
    except KeyError as error:
        failed.append(repr(error))
threads = [threading.Thread(target=look_up, args=(name,)) for name in names]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps([sorted(found), failed]))
"""
    found, failed = _loaded_heavy(code)
    assert failed == []
    assert found == sorted(["scoring.tasks.start_scoring_run", "annotations.tasks.run_export"] * 4)


def test_a_worker_finds_the_app_every_task_and_the_beat_schedule():
    """`celery -A prmweb worker` and `beat` find our app in prmweb.celery and autodiscover both apps' tasks."""
    code = """
import json
from celery.app.utils import find_app
app = find_app("prmweb")
app.loader.import_default_modules()  # what a worker and beat do at start
from scoring.methods.registry import runnable_methods
wanted = {entry["task"] for entry in app.conf.beat_schedule.values()}
wanted |= {"annotations.tasks.run_export", "annotations.tasks.render_figure", "scoring.tasks.reformat_responses"}
wanted |= {spec.task_name for spec in runnable_methods()}
print(json.dumps([app.main, sorted(app.conf.beat_schedule), sorted(wanted - set(app.tasks))]))
"""
    main, schedule, missing = _loaded_heavy(code)
    assert main == "prmweb"
    assert schedule == ["release-expired-claims", "sweep-missing-answer-checks", "sweep-missing-suggestions"]
    assert missing == []


def test_concurrent_first_reads_of_the_suggestion_methods_all_see_every_method():
    """The scoring registry is read on first use: threads reading at once never see it half-registered."""
    code = """
import json, threading, django
django.setup()
from annotations import suggestion_methods
barrier, seen = threading.Barrier(8), []
def read():
    barrier.wait()
    seen.append(suggestion_methods.method_names())
threads = [threading.Thread(target=read) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(sorted(set(seen))))
"""
    assert _loaded_heavy(code) == [["mc", "judge", "prm", "arithmetic", "consensus"]]


@pytest.mark.parametrize("file_format", ["jsonl", "jsonl.gz", "parquet"])
def test_only_parquet_exports_load_pyarrow(file_format):
    """A JSONL export writes its files and its dataset card (with the features) without pyarrow."""
    loaded = _loaded_heavy(EXPORT_FOLDER.format(file_format=file_format) + _REPORT.format(heavy=HEAVY))
    if file_format == "parquet":
        assert "pyarrow" in loaded  # the probe sees it where it is needed
    else:
        assert loaded == []
