"""scripts/screenshots.py: its core (stage the demo, log in, shoot one page) on a tiny case, and the gallery
it made: small PNGs, the workbench picture near the top of the README."""

import base64
import importlib.util
import re
import struct
from pathlib import Path

import pytest

from annotations.models import Claim, FinalLabel, Solution, SolutionStatus
from annotations.services.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
GALLERY = ("workbench.png", "workbench-dark.png", "review.png", "dashboard.png")
MEAN_LUMINANCE = """async (source) => {
  const image = new Image();
  image.src = source;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  let sum = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    sum += 0.2126 * pixels[i] + 0.7152 * pixels[i + 1] + 0.0722 * pixels[i + 2];
  }
  return sum / (pixels.length / 4);
}"""


def _script():
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts" / "screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_script_stages_the_demo_and_shoots_a_page_in_dark_mode(browser, live_server, tmp_path):
    shots = _script()
    stage = shots.stage_demo(disagreed=("gsm8k-15",), agreed=("gsm8k-27",))
    by_id = {solution.external_id: solution for solution in Solution.objects.all()}
    assert by_id["gsm8k-15"].status == SolutionStatus.NEEDS_REVIEW
    assert FinalLabel.objects.get(solution=by_id["gsm8k-27"]).source == "unanimous"
    assert stage.review_solution_id == by_id["gsm8k-15"].pk
    claim = Claim.objects.get(annotator__username="annotator1")
    assert claim.solution_id == stage.workbench_solution_id == by_id["math-339"].pk
    assert stage.workbench_mark == "2"  # ProcessBench's label of math-339 is 1: Step 2
    shot = next(shot for shot in shots.SHOTS if shot.name == "workbench-dark")
    path = shots.capture(browser, live_server.url, shot, stage, tmp_path, password=DEMO_PASSWORD)
    data = path.read_bytes()
    assert path == tmp_path / "workbench-dark.png"
    assert _png_size(data) == (1280, 800) and len(data) < 200_000
    source = "data:image/png;base64," + base64.b64encode(data).decode()
    assert browser.new_page().evaluate(MEAN_LUMINANCE, source) < 60  # a dark page (light pages are above 200)


def test_the_gallery_is_small_and_the_readme_shows_the_workbench():
    for name in GALLERY:
        data = (ROOT / "docs" / "images" / name).read_bytes()
        assert _png_size(data) == (1280, 800), name
        assert len(data) < 200_000, name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_image = re.search(r"!\[[^\]]+\]\(([^)]+)\)", readme)
    assert first_image is not None and first_image.group(1) == "docs/images/workbench.png"
    assert readme.index("docs/images/workbench.png") < readme.index("## Quick start")
    annotating = (ROOT / "docs" / "annotating.md").read_text(encoding="utf-8")
    for name in ("review.png", "dashboard.png", "workbench-dark.png"):
        assert f"(images/{name})" in annotating, name
