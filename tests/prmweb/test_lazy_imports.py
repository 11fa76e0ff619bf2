"""Start-up stays small: the URL conf and `manage.py check` load no heavy library (issue #16).

Each check runs in a fresh interpreter, since this test process has long imported everything.
SymPy and math-verify load with the first answer comparison, pyarrow with the first Parquet file (a
JSONL export and its dataset card need none), numpy with the agreement figures, torch and transformers
only on model workers.
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


@pytest.mark.parametrize("file_format", ["jsonl", "jsonl.gz", "parquet"])
def test_only_parquet_exports_load_pyarrow(file_format):
    """A JSONL export writes its files and its dataset card (with the features) without pyarrow."""
    loaded = _loaded_heavy(EXPORT_FOLDER.format(file_format=file_format) + _REPORT.format(heavy=HEAVY))
    if file_format == "parquet":
        assert "pyarrow" in loaded  # the probe sees it where it is needed
    else:
        assert loaded == []
