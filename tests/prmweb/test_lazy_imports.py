"""Start-up stays small: the URL conf and `manage.py check` load no heavy library (issue #16).

Each check runs in a fresh interpreter, since this test process has long imported everything.
SymPy and math-verify load with the first answer comparison, pyarrow with the first Parquet file or
dataset card, numpy with the agreement figures, torch and transformers only on model workers.
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
