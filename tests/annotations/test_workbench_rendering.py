"""Markdown + LaTeX rendering of stored text: math survives Markdown, nothing stored is executable."""

from html.parser import HTMLParser

import pytest

from annotations.rendering import extract_math, render_answer, render_markdown


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = TagCollector()
    collector.feed(html)
    return collector.tags


def spans(text: str) -> list[tuple[str, bool]]:
    _, found = extract_math(text, "0123456789ab")
    return [(span.source, span.display) for span in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Let $x_1 = 2$.", [("$x_1 = 2$", False)]),
        ("$$a*b*c$$", [("$$a*b*c$$", True)]),
        (r"So \(a_1 * b_2\) and \[c_3\]", [(r"\(a_1 * b_2\)", False), (r"\[c_3\]", True)]),
        (r"\begin{align} a &= b \\ c &= d \end{align}", [(r"\begin{align} a &= b \\ c &= d \end{align}", True)]),
        (r"\begin{align*}x\end{align*}", [(r"\begin{align*}x\end{align*}", True)]),
        ("The answer is \\boxed{\\frac{1}{2}}.", [("\\(\\boxed{\\frac{1}{2}}\\)", False)]),
        ("**\\boxed{$7455}**", [("\\(\\boxed{\\$7455}\\)", False)]),
        ("It costs $5 and $10 in total.", []),
        ("Total = $3.5 * 4000 = $14,000.", []),
        ("Pay $5, then $x$ more.", [("$x$", False)]),
        (r"A literal \$ sign and $y$.", [("$y$", False)]),
        ("Unclosed $$ here", [("$$ here$$", True)]),
        ("And for x:\n\\[\n\\log z = -7.", [("\\[\n\\log z = -7.\\]", True)]),
        (r"Open \begin{align*} a &= b", [(r"\begin{align*} a &= b\end{align*}", True)]),
        ("Nothing after $$  ", []),
        ("$ x$ is not math", []),
        ("$a$\n\n$b", [("$a$", False)]),
    ],
)
def test_extract_math_finds_exactly_the_math(text, expected):
    assert spans(text) == expected


def test_underscores_and_asterisks_inside_math_are_not_markdown():
    html = render_markdown("Here $a_1 * b_2 * c_3$ and _emphasis_.")
    assert '<span class="math">$a_1 * b_2 * c_3$</span>' in html
    assert "<em>emphasis</em>" in html


def test_display_math_keeps_its_newlines_and_escapes_html():
    html = render_markdown("To solve\n\\[\n\\frac{a}{b} < c\n\\]\nwe start.")
    assert '<span class="math math-display">\\[\n\\frac{a}{b} &lt; c\n\\]</span>' in html


def test_environment_content_is_escaped_text():
    html = render_markdown(r"\begin{align} x &< y \end{align}")
    assert r'<span class="math math-display">\begin{align} x &amp;&lt; y \end{align}</span>' in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>window.__xss=1</script>",
        '<img src=x onerror="window.__xss=1">',
        "[x](javascript:window.__xss=1)",
        "[x](JaVaScRiPt:window.__xss=1)",
        '<a href="javascript:window.__xss=1">x</a>',
        "<svg onload=window.__xss=1></svg>",
        "![x](javascript:window.__xss=1)",
        '<iframe src="javascript:window.__xss=1"></iframe>',
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_stored_html_and_links_are_never_executable(payload):
    html = render_markdown(f"Step text {payload} end.")
    for tag, attrs in tags_of(html):
        assert tag in {"p", "a", "em", "strong", "code", "span"}, html
        assert not any(name.startswith("on") for name in attrs), html
        href = (attrs.get("href") or "").strip().lower()
        assert href == "" or href.startswith(("http:", "https:", "mailto:")), html
        assert "src" not in attrs, html


def test_raw_html_is_shown_as_text():
    html = render_markdown("<script>window.__xss=1</script>")
    assert html == "<p>&lt;script&gt;window.__xss=1&lt;/script&gt;</p>"


def test_href_inside_math_stays_latex_source_for_katex_with_trust_off():
    html = render_markdown(r"$\href{javascript:window.__xss=1}{x}$")
    assert html == r'<p><span class="math">$\href{javascript:window.__xss=1}{x}$</span></p>'


def test_safe_links_keep_href_with_rel():
    html = render_markdown("[docs](https://example.org/a)")
    assert html == '<p><a href="https://example.org/a" rel="noopener noreferrer nofollow">docs</a></p>'


def test_math_inside_a_link_url_stays_source_text_not_markup():
    html = render_markdown("[see](https://example.org/$x$)")
    assert 'href="https://example.org/$x$"' in html
    assert "<span" not in html


def test_placeholders_in_the_source_text_cannot_inject_math():
    html = render_markdown("zq0123456789abm0qz and $y$")
    assert "zq0123456789abm0qz" in html
    assert html.count('class="math"') == 1


def test_currency_stays_plain_text():
    html = render_markdown("The customer spent $80. For every $20 spent, they get $1 off.")
    assert html == "<p>The customer spent $80. For every $20 spent, they get $1 off.</p>"


def test_empty_text_renders_nothing():
    assert render_markdown("") == ""


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("4", "<p>4</p>"),
        (r"\frac{1}{2}", r'<span class="math">\(\frac{1}{2}\)</span>'),
        ("x^2 < 3", r'<span class="math">\(x^2 &lt; 3\)</span>'),
        ("$5$", '<p><span class="math">$5$</span></p>'),
        ("", ""),
    ],
)
def test_render_answer(answer, expected):
    assert render_answer(answer) == expected
