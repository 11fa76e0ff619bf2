"""A worker killed (SIGKILL) mid-export leaves a temporary folder; the redelivered export removes it."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from annotations.models import Export
from annotations.services.exports import export_create, export_run
from tests.scoring.worker_support import ROOT, database_url

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# Runs the export in a child process, as a worker would, and stops it for good after a few rows are written.
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import django
    django.setup()
    from annotations.services import exports

    stream_rows = exports.solution_records

    def rows_then_hang(*args, **kwargs):
        for index, row in enumerate(stream_rows(*args, **kwargs)):
            if index == 5:
                Path(sys.argv[2]).touch()
                time.sleep(600)
            yield row

    exports.solution_records = rows_then_hang
    exports.export_run(export_id=int(sys.argv[1]))
    """
)


def _partials(folder):
    return sorted(path.name for path in folder.parent.glob(f".{folder.name}.partial-*"))


def test_the_redelivered_export_removes_the_killed_attempts_partial_folder(transactional_db, pb_dataset, tmp_path):
    folder = tmp_path / "exports" / "export-trl"
    export = export_create(dataset=pb_dataset, created_by=None, export_format="trl", output_dir=folder, enqueue=False)
    flag = tmp_path / "writing"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "prmweb.settings.test", "DATABASE_URL": database_url()}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(export.pk), str(flag)], cwd=ROOT, env=env, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(0.1)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    left = _partials(folder)
    assert len(left) == 1, left  # killed mid-write: its temporary folder stays behind
    assert Export.objects.get(pk=export.pk).status == "running"

    finished = export_run(export_id=export.pk)  # what the redelivered task does

    assert finished.status == "succeeded"
    assert finished.rows_done == 30
    assert _partials(folder) == []
    assert sorted(path.name for path in folder.parent.iterdir()) == ["export-trl"]
    assert (folder / "manifest.json").exists()
