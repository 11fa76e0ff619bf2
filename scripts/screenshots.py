"""Regenerate the screenshots in docs/images/ from the demo, in Debian's headless Chromium.

    .venv/bin/python scripts/screenshots.py                  # the gallery, into docs/images/
    .venv/bin/python scripts/screenshots.py --out /tmp/shots --only review

Needs the dev requirements (Playwright) and Debian's Chromium (`PRMWEB_CHROMIUM` or `--chromium` to
point elsewhere); never downloads a browser. It migrates a temporary SQLite database, loads the demo
(as `load_demo` does), lets the three demo annotators label a few solutions through the same services
the workbench uses (five disagreements wait for review, seven are unanimous), serves the app on a free
local port, logs in through the login form and saves one 1280x800 PNG per shot. Nothing outside the
temporary directory and the output folder is touched.
"""

import argparse
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
# Demo solutions (by ProcessBench id; none of them gold) the annotators disagree on, and ones they agree on.
DISAGREED = ("math-230", "math-325", "math-346", "gsm8k-15", "gsm8k-147")
AGREED = ("gsm8k-27", "gsm8k-44", "gsm8k-275", "gsm8k-292", "math-58", "math-548", "math-702")
WORKBENCH_ITEM = "math-339"  # display math, fractions, four steps: the workbench picture
RATIONALES = (
    ("Step {n} does not follow from the step before it.", "logic"),
    ("The arithmetic in step {n} is off: recompute the product.", "calculation"),
    ("Step {n} misreads what the problem asks for.", "misread"),
)


@dataclass(frozen=True)
class Stage:
    """What the staged demo offers the shots: where the workbench and review pictures are taken."""

    workbench_solution_id: int
    workbench_mark: str  # the key that marks the earliest wrong step on the workbench picture
    review_solution_id: int
    review_mark: str
    dataset_slug: str


@dataclass(frozen=True)
class Shot:
    name: str
    username: str
    path: Callable[[Stage], str]
    scheme: str = "light"
    keys: Callable[[Stage], list[str]] = lambda stage: []
    scroll_to: str = ""  # a CSS selector to bring to the top of the picture (default: the page's top)


SHOTS = (
    Shot(
        "workbench",
        "annotator1",
        lambda s: f"/annotate/{s.workbench_solution_id}/",
        keys=lambda s: [s.workbench_mark, "t", "c"],
    ),
    Shot(
        "workbench-dark",
        "annotator1",
        lambda s: f"/annotate/{s.workbench_solution_id}/",
        scheme="dark",
        keys=lambda s: [s.workbench_mark, "t", "c"],
    ),
    Shot("review", "demo", lambda s: f"/review/{s.review_solution_id}/", keys=lambda s: [s.review_mark, "e"]),
    Shot("dashboard", "demo", lambda s: f"/datasets/{s.dataset_slug}/dashboard/", scroll_to="#agreement"),
)


def _other_label(truth: int, num_steps: int) -> int:
    """Return a plausible wrong label next to `truth` (what a hurried annotator might say)."""
    if truth == -1:
        return num_steps - 1
    return 1 if truth == 0 else truth - 1


def _key(solution) -> str:
    """Return the key that marks the solution's ProcessBench label (a step number, or 0 for all correct)."""
    truth = int(solution.metadata["processbench_label"])
    return "0" if truth == -1 else str(truth + 1)


def _label(dataset, annotator, solution, label: int, turn: int) -> None:
    """Have `annotator` claim exactly `solution` (every other one counts as skipped) and submit `label`."""
    from annotations.models import Solution
    from annotations.services.annotations import AnnotationInput, annotation_submit
    from annotations.services.claims import claim_next

    others = list(Solution.objects.filter(dataset=dataset).exclude(pk=solution.pk).values_list("pk", flat=True))
    claim = claim_next(dataset=dataset, annotator=annotator, skipped_ids=others)
    if claim is None or claim.solution_id != solution.pk:
        raise RuntimeError(f"{annotator.username} could not claim solution {solution.external_id}.")
    rationale, error_type = RATIONALES[turn % len(RATIONALES)]
    data = AnnotationInput(
        earliest_error_step=label,
        rationale=rationale.format(n=label + 1) if label >= 0 else "",
        error_type=error_type if label >= 0 else None,
        seconds_spent=40.0 + 7 * turn,
    )
    annotation_submit(solution_id=solution.pk, annotator=annotator, data=data)


def stage_demo(*, disagreed: tuple[str, ...] = DISAGREED, agreed: tuple[str, ...] = AGREED) -> Stage:
    """Load the demo and have its annotators label some of it; return where the pictures are taken.

    Meant for a fresh database (the script's own). Labels are each record's ProcessBench label; on the
    `disagreed` ones the third annotator picks a neighbouring step, so they go to review (the first of
    them is the review picture). The first demo annotator then holds a claim on the workbench picture.
    """
    from django.contrib.auth.models import User

    from annotations.models import Solution, SolutionStatus
    from annotations.services.claims import claim_next
    from annotations.services.demo import DEMO_ANNOTATORS, demo_load

    dataset = demo_load().dataset
    annotators = [User.objects.get(username=name) for name in DEMO_ANNOTATORS]
    by_id = {solution.external_id: solution for solution in Solution.objects.filter(dataset=dataset)}
    turn = 0
    for external_id in (*disagreed, *agreed):
        solution = by_id[external_id]
        truth = int(solution.metadata["processbench_label"])
        for index, annotator in enumerate(annotators):
            wrong = external_id in disagreed and index == 2
            _label(dataset, annotator, solution, _other_label(truth, solution.num_steps) if wrong else truth, turn)
            turn += 1
    workbench = by_id[WORKBENCH_ITEM]
    others = [solution.pk for external_id, solution in by_id.items() if external_id != WORKBENCH_ITEM]
    claim_next(dataset=dataset, annotator=annotators[0], skipped_ids=others)
    review = Solution.objects.get(pk=by_id[disagreed[0]].pk)
    if review.status != SolutionStatus.NEEDS_REVIEW:
        raise RuntimeError(f"{disagreed[0]} should wait for review; it is {review.status}.")
    return Stage(workbench.pk, _key(workbench), review.pk, _key(review), dataset.slug)


def _log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def capture(browser, base_url: str, shot: Shot, stage: Stage, out_dir: Path, *, password: str) -> Path:
    """Log in as the shot's user, open its page in its colour scheme, press its keys and save a PNG."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme=shot.scheme, device_scale_factor=1)
    try:
        page = context.new_page()
        _log_in(page, base_url, shot.username, password)
        page.goto(f"{base_url}{shot.path(stage)}")
        page.wait_for_load_state("load")
        page.wait_for_function("document.documentElement.dataset.math === 'ready'")
        page.evaluate("document.fonts.ready")
        for key in shot.keys(stage):
            page.keyboard.press(key)
        page.wait_for_timeout(1200)  # past the workbench's digit pause and any transition
        if shot.scroll_to:
            page.locator(shot.scroll_to).evaluate("element => element.scrollIntoView({block: 'start'})")
        else:
            page.evaluate("window.scrollTo(0, 0)")
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{shot.name}.png"
        page.screenshot(path=str(path), type="png", animations="disabled", caret="hide")
        return path
    finally:
        context.close()


def _configure(workdir: Path) -> None:
    """Point Django at a fresh SQLite file in `workdir`, with tasks in-process (no broker), and set it up."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "prmweb.settings.base"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'screenshots.sqlite3'}"
    os.environ["STATIC_ROOT"] = str(workdir / "static")
    os.environ.pop("CELERY_BROKER_URL", None)
    (workdir / "static").mkdir()
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


@contextmanager
def _serving() -> Iterator[str]:
    """Serve the app (static files from the apps' folders) on a free local port; yield its base URL."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler, get_internal_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
    server.set_app(StaticFilesHandler(get_internal_wsgi_application()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="output folder")
    parser.add_argument("--chromium", default=os.environ.get("PRMWEB_CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--only", nargs="*", choices=[shot.name for shot in SHOTS], help="some shots only")
    args = parser.parse_args(argv)
    if not Path(args.chromium).exists():
        parser.error(f"Chromium not found at {args.chromium}: apt-get install -y chromium, or pass --chromium.")
    with tempfile.TemporaryDirectory(prefix="prmweb-shots-") as workdir:
        _configure(Path(workdir))
        from django.core.management import call_command
        from playwright.sync_api import sync_playwright

        from annotations.services.demo import DEMO_PASSWORD

        call_command("migrate", verbosity=0)
        stage = stage_demo()
        with _serving() as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            for shot in SHOTS:
                if args.only and shot.name not in args.only:
                    continue
                path = capture(browser, base_url, shot, stage, args.out, password=DEMO_PASSWORD)
                print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size} bytes")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
