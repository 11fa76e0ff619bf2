"""Server-side SVG charts: numbers written beside the marks, user text escaped, empty data drawn sanely."""

import xml.etree.ElementTree as ET

from annotations.charts import Series, bar_chart, column_chart, curve_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def test_bar_chart_writes_each_value_and_scales_bars():
    root = _parse(bar_chart([("judge", 0.5), ("mc", 1.0), ("prm", None)], title="F1", max_value=1.0))
    bars = root.findall(f"{SVG}g")
    assert [(bar.get("data-label"), bar.get("data-value")) for bar in bars] == [
        ("judge", "0.50"),
        ("mc", "1.00"),
        ("prm", "n/a"),
    ]
    widths = [float(bar.find(f"{SVG}rect").get("width")) for bar in bars]
    assert widths[1] == 2 * widths[0] and widths[2] == 0
    assert root.find(f"{SVG}title").text == "F1"


def test_user_text_is_escaped():
    svg = bar_chart([('<script>alert(1)</script>"', 1.0)], title="a & b")
    assert "<script>" not in svg
    root = _parse(svg)
    assert root.find(f"{SVG}g").get("data-label") == '<script>alert(1)</script>"'


def test_column_chart_prints_counts_and_highlights_the_last_column():
    root = _parse(column_chart([("0.0-0.1", 3), ("0.1-0.2", 0), ("all correct", 6)], title="h", highlight_last=True))
    columns = root.findall(f"{SVG}g")
    assert [c.get("data-value") for c in columns] == ["3", "0", "6"]
    assert [c.find(f"{SVG}text").text for c in columns] == ["3", "0", "6"]
    fills = [c.find(f"{SVG}rect").get("fill") for c in columns]
    assert fills[0] == fills[1] != fills[2]
    assert float(columns[2].find(f"{SVG}rect").get("height")) == 2 * float(columns[0].find(f"{SVG}rect").get("height"))


def test_line_chart_labels_each_series_with_its_last_value_and_handles_no_data():
    root = _parse(line_chart(["d1", "d2"], [Series("annotations", [1, 4]), Series("final labels", [0, 2])], title="p"))
    series = root.findall(f"{SVG}g")
    assert [(s.get("data-label"), s.get("data-value")) for s in series] == [("annotations", "4"), ("final labels", "2")]
    assert _parse(line_chart([], [Series("annotations", [])], title="empty")).find(f"{SVG}g") is None


def test_line_chart_of_one_day_puts_its_points_in_the_middle_under_one_date():
    root = _parse(line_chart(["2026-11-29"], [Series("annotations", [42]), Series("final labels", [13])], title="p"))
    dates = [text for text in root.iter(f"{SVG}text") if text.text == "2026-11-29"]
    assert len(dates) == 1 and dates[0].get("text-anchor") == "middle"  # not the same day at both ends
    middle = dates[0].get("x")
    assert [circle.get("cx") for circle in root.iter(f"{SVG}circle")] == [middle, middle]
    assert float(middle) > 100  # clear of the axis' peak label at the left


def test_curve_chart_labels_every_n_marks_every_value_and_names_series_in_a_legend():
    svg = curve_chart(
        ["1", "2", "4"],
        [Series("<prm>", [0.25, 0.5, 1.0]), Series("pass@N", [0.5, 0.75, 1.0])],
        title="BoN@N",
        x_title="N",
        dashed=["pass@N"],
    )
    root = _parse(svg)
    series = root.findall(f"{SVG}g[@class='series']")
    assert [(s.get("data-label"), s.get("data-values")) for s in series] == [
        ("<prm>", "0.250,0.500,1.000"),
        ("pass@N", "0.500,0.750,1.000"),
    ]
    points = series[0].findall(f"{SVG}circle")
    assert [p.find(f"{SVG}title").text for p in points] == ["<prm>: 0.250", "<prm>: 0.500", "<prm>: 1.000"]
    ys = [float(p.get("cy")) for p in points]
    assert ys[0] > ys[1] > ys[2]  # higher values are drawn higher
    assert ys[0] - ys[2] == 3 * (ys[0] - ys[1])  # 0.25 -> 1.0 is three times 0.25 -> 0.5
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert [t for t in texts if t in ("1", "2", "4")] == ["1", "2", "4"]
    assert "<prm> 1.000" in texts and "pass@N 1.000" in texts
    assert series[1].find(f"{SVG}polyline").get("stroke-dasharray") == "4 3"
    assert series[0].find(f"{SVG}polyline").get("stroke-dasharray") is None
    assert "<prm>" not in svg  # escaped
