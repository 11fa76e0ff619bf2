"""[asy] diagrams (never math; a sanitized figure when asymptote is installed, else their source) and lists
written directly after a line of text, on real ProcessBench records."""

import base64
import json
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotations.exporters.filters import ExportFilters
from annotations.figures.asymptote import AsymptoteLimits, FigureError, check_source, render_asymptote
from annotations.figures.blocks import asy_digest
from annotations.figures.svg import UnsafeSvgError, sanitize_svg
from annotations.models import FigureStatus, ProblemFigure
from annotations.rendering import render_markdown
from annotations.selectors.export_records import solution_records
from annotations.selectors.exports import export_selection
from annotations.services.claims import claim_next
from tests.annotations.workbench_helpers import member
from tests.factories import DatasetFactory, FinalLabelFactory, ProblemFactory, SolutionFactory

RECORDS = Path(__file__).resolve().parents[1] / "fixtures" / "processbench" / "workbench_day_records.json"
HAS_ASYMPTOTE = shutil.which("asy") is not None and shutil.which("dvisvgm") is not None
needs_asymptote = pytest.mark.skipif(not HAS_ASYMPTOTE, reason="needs Debian's asymptote and dvisvgm")


def record(record_id):
    return next(item for item in json.loads(RECORDS.read_text(encoding="utf-8")) if item["id"] == record_id)


def source_of(text):
    return text.split("[asy]", 1)[1].split("[/asy]", 1)[0].strip()


# ---- 9. lists after a line of text ----


def test_a_dash_list_right_after_a_line_of_text_is_a_list_math_53():
    html = render_markdown(record("math-53")["steps"][0])
    assert html.endswith(
        "Given:</p>\n<ul>\n"
        '<li><span class="math">\\(AB = BC\\)</span></li>\n'
        '<li><span class="math">\\(m \\angle ABD = 30^\\circ\\)</span></li>\n'
        '<li><span class="math">\\(m \\angle C = 50^\\circ\\)</span></li>\n'
        '<li><span class="math">\\(m \\angle CBD = 80^\\circ\\)</span></li>\n</ul>'
    )


def test_a_dash_list_right_after_a_line_of_text_is_a_list_gsm8k_1():
    html = render_markdown(record("gsm8k-1")["steps"][1])
    assert html.startswith(
        "<p>First, for the math and science books:</p>\n<ul>\n<li>Each math book weighs 2 pounds.</li>"
    )
    assert html.count("<li>") == 6
    assert "<br>\n-" not in html


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Steps:\n1. one\n2. two", "<p>Steps:</p>\n<ol>\n<li>one</li>\n<li>two</li>\n</ol>"),
        ("In the year\n2. not a list", "<p>In the year<br>\n2. not a list</p>"),  # CommonMark: only 1. interrupts
        ("Intro\n\n- a\n- b", "<p>Intro</p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
        ("- a\nlazy line\n- b", "<ul>\n<li>a<br>\nlazy line</li>\n<li>b</li>\n</ul>"),
        ("```\nx\n- a\n```", "<pre><code>x\n- a\n</code></pre>"),
    ],
)
def test_lists_follow_commonmarks_rule(text, expected):
    assert render_markdown(text) == expected


# ---- 8. diagrams: never math, the source collapsed and labelled ----


def test_an_asy_block_is_a_collapsed_labelled_source_block_never_math():
    problem = record("math-18")["problem"]
    source = source_of(problem)
    html = render_markdown(problem)
    assert html == (
        "<p>How many diagonals are in the fifth polygon of this sequence of regular polygons below?</p>\n"
        f'<details class="asy-source" data-asy="{asy_digest(source)}"><summary>Asymptote diagram source</summary>'
        "<pre><code>unitsize(0.5inch);\ndraw((0,0)--(0.8,0)--(0.4,0.6)--cycle);\nlabel(&quot;0&quot;,(0.4,0),S);\n"
        + html.split("label(&quot;0&quot;,(0.4,0),S);\n", 1)[1]
    )
    assert html.endswith("label(&quot;diagonals&quot;,(-0.1,-0.2),W);</code></pre></details>")
    assert 'class="math"' not in html


def test_dollars_inside_asy_are_code_not_math_and_an_unclosed_block_runs_to_the_end():
    html = render_markdown('See $x$.\n[asy]label("$\\alpha$", (0,0));\n[/asy] and $y$.\n\n[asy]draw((0,0)--(1,1));')
    assert html.count('<span class="math">') == 2  # $x$ and $y$ only
    assert "label(&quot;$\\alpha$&quot;, (0,0));</code></pre></details>" in html
    assert html.endswith("<pre><code>draw((0,0)--(1,1));</code></pre></details>")


def test_the_sandbox_refuses_file_shell_and_eval_and_odd_imports():
    limits = AsymptoteLimits()
    for source, message in [
        ('string s = input("/etc/passwd");', "The source uses 'input', which diagrams may not use here."),
        ('system("rm -rf /");', "The source uses 'system', which diagrams may not use here."),
        ('eval("draw((0,0)--(1,1));");', "The source uses 'eval', which diagrams may not use here."),
        (
            'import "/etc/passwd" as x;',
            "Only modules named plainly may be imported; got 'import \"/etc/passwd\" as x;'.",
        ),
        ("draw((0,0)--(1,1));" * 2000, "The source has 38000 characters; at most 20000 are drawn."),
    ]:
        with pytest.raises(FigureError) as error:
            check_source(source, limits)
        assert str(error.value) == message
    check_source("import graph; import three as t; draw(unitcircle);", limits)


def test_a_missing_binary_is_a_clear_error():
    with pytest.raises(FigureError) as error:
        render_asymptote("draw((0,0)--(1,1));", AsymptoteLimits(binary="/nonexistent/asy"))
    assert str(error.value) == "Asymptote is not installed at '/nonexistent/asy'."


SVG = "http://www.w3.org/2000/svg"


def test_svg_sanitizer_keeps_the_drawing_and_drops_everything_active():
    dirty = (
        f'<svg xmlns="{SVG}" xmlns:xlink="http://www.w3.org/1999/xlink" width="10pt" onload="alert(1)">'
        "<script>alert(1)</script><style>*{background:url(http://x/)}</style>"
        '<defs><path id="g0-1" d="M0 0L1 1"/></defs>'
        '<g transform="scale(2)" style="fill:red"><use x="1" y="2" xlink:href="#g0-1"/>'
        '<use xlink:href="http://evil.example/#a"/><path d="M1 1" fill="url(#grad)" stroke="url(http://x/)"/></g>'
        '<a href="javascript:alert(1)"><circle r="1"/></a><foreignObject><div/></foreignObject>'
        "<!-- comment --></svg>"
    )
    assert sanitize_svg(dirty) == (
        f'<svg xmlns="{SVG}" xmlns:xlink="http://www.w3.org/1999/xlink" width="10pt">'
        '<defs><path id="g0-1" d="M0 0L1 1" /></defs>'
        '<g transform="scale(2)"><use x="1" y="2" xlink:href="#g0-1" /><use /><path d="M1 1" fill="url(#grad)" /></g>'
        "</svg>"
    )


@pytest.mark.parametrize(
    ("svg", "message"),
    [
        ('<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg"/>', "declares a document type"),
        ("<html><body/></html>", "root element is not an SVG"),
        ("<svg", "not well-formed XML"),
    ],
)
def test_svg_sanitizer_refuses_what_it_cannot_vouch_for(svg, message):
    with pytest.raises(UnsafeSvgError) as error:
        sanitize_svg(svg)
    assert message in str(error.value)


# ---- the page: a worker draws the figure, the page shows it; without asymptote, the source ----


@pytest.fixture
def asy_page(db, client):
    """Return (client logged in as a claimant, solution) for the real math-18 record."""
    data = record("math-18")
    dataset = DatasetFactory(slug="figures", annotations_per_solution=1)
    problem = ProblemFactory(dataset=dataset, text=data["problem"])
    solution = SolutionFactory(dataset=dataset, problem=problem, steps=data["steps"])
    alice = member(dataset, "alice")
    claim_next(dataset=dataset, annotator=alice)
    client.force_login(alice)
    return client, solution


def test_without_asymptote_the_page_shows_the_source_and_records_why(
    asy_page, settings, django_capture_on_commit_callbacks
):
    client, solution = asy_page
    settings.ASYMPTOTE_BINARY = "/nonexistent/asy"
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("annotations:annotate", args=[solution.pk]))
    html = client.get(reverse("annotations:annotate", args=[solution.pk])).content.decode()
    figure = ProblemFigure.objects.get(problem=solution.problem)
    assert (figure.status, figure.error, figure.svg) == (
        "failed",
        "Asymptote is not installed at '/nonexistent/asy'.",
        "",
    )
    assert figure.source_sha256 == asy_digest(source_of(solution.problem.text))
    assert "<summary>Asymptote diagram source</summary>" in html
    assert '<figure class="asy-figure">' not in html
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.get(reverse("annotations:annotate", args=[solution.pk]))
    assert callbacks == []  # drawn (or failed) once per problem and source, not on every view
    assert ProblemFigure.objects.count() == 1
    call_command("render_figures", "--retry-failed", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert ProblemFigure.objects.get(pk=figure.pk).status == FigureStatus.QUEUED


@needs_asymptote
def test_with_asymptote_a_worker_draws_a_sanitized_figure_above_the_source(
    asy_page, django_capture_on_commit_callbacks
):
    client, solution = asy_page
    with django_capture_on_commit_callbacks(execute=True):  # the first view queues the drawing
        client.get(reverse("annotations:annotate", args=[solution.pk]))
    html = client.get(reverse("annotations:annotate", args=[solution.pk])).content.decode()
    figure = ProblemFigure.objects.get(problem=solution.problem)
    assert (figure.status, figure.error) == ("rendered", "")
    assert figure.svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "<script" not in figure.svg
    assert figure.svg.count("<path") >= 5  # five polygons and the glyphs of their labels
    image = re.search(
        r'<figure class="asy-figure"><img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)"></figure>'
        r'<details class="asy-source"',
        html,
    )
    assert image is not None
    assert base64.b64decode(image.group(1)).decode() == figure.svg
    assert image.group(2) == "Diagram drawn from the Asymptote source below"


@needs_asymptote
def test_extra_modules_come_from_the_configured_folder(tmp_path):
    source = "import shapes_here; draw(square_of(2));"
    with pytest.raises(FigureError) as error:
        render_asymptote(source, AsymptoteLimits())
    assert "could not load module 'shapes_here'" in str(error.value)
    (tmp_path / "shapes_here.asy").write_text("path square_of(real side) { return scale(side) * unitsquare; }\n")
    svg = render_asymptote(source, AsymptoteLimits(modules_dir=str(tmp_path)))
    assert "<path" in sanitize_svg(svg)


@needs_asymptote
def test_a_diagram_that_runs_too_long_is_stopped():
    with pytest.raises(FigureError) as error:
        render_asymptote("while(true) {}", AsymptoteLimits(timeout_seconds=1.0))
    assert str(error.value) == "Asymptote took longer than 1 s."


def test_review_page_shows_the_source_block_and_exports_keep_the_raw_text(db, client):
    data = record("math-18")
    dataset = DatasetFactory(slug="figures-review")
    problem = ProblemFactory(dataset=dataset, text=data["problem"])
    solution = SolutionFactory(dataset=dataset, problem=problem, steps=data["steps"], status="needs_review")
    client.force_login(member(dataset, "rita", role="reviewer"))
    html = client.get(reverse("annotations:review_solution", args=[solution.pk])).content.decode()
    assert "<summary>Asymptote diagram source</summary>" in html
    FinalLabelFactory(solution=solution, label=0, source="review")
    queryset = export_selection(dataset=dataset, filters=ExportFilters(), labelled_only=True).matching()
    (exported,) = list(solution_records(queryset, provenance=False, chunk_size=10))
    assert exported.problem == data["problem"]
