"""Sanitize an SVG drawing against an allowlist before it is stored or shown. No Django.

What survives: the shape, grouping and reference elements Asymptote's SVG output uses (through
dvisvgm: paths, glyph `<use>`s, clip paths, basic shapes), their geometry and paint attributes, and
references inside the document only (`href="#..."`, `url(#...)`). Everything else goes: scripts, styles,
foreign objects, event handlers, external links, comments, processing instructions; a document type or
entity declaration is refused outright. The result is shown through `<img>` (which runs no scripts) too.
"""

import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

ALLOWED_ELEMENTS = {
    "svg", "g", "defs", "symbol", "use", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
    "clipPath", "linearGradient", "radialGradient", "stop", "title", "desc",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "version", "width", "height", "viewBox", "preserveAspectRatio", "id", "transform", "d", "x", "y",
    "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "points", "offset",
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin",
    "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "stroke-opacity", "opacity",
    "clip-path", "clip-rule", "clipPathUnits", "gradientUnits", "gradientTransform", "spreadMethod",
    "stop-color", "stop-opacity",
}  # fmt: skip
_DECLARATION_RE = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_URL_RE = re.compile(r"url\(\s*([^)]*)\)", re.IGNORECASE)
_LOCAL_ID_RE = re.compile(r"#[A-Za-z_][A-Za-z0-9_.:-]*")


class UnsafeSvgError(ValueError):
    """The drawing is not an SVG document this sanitizer accepts."""


def _local_name(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return "", name


def _clean_value(value: str) -> str | None:
    """Return the attribute value if it refers to nothing outside the document, else None."""
    if "javascript:" in value.lower() or "data:" in value.lower():
        return None
    urls = _URL_RE.findall(value)
    if any(not _LOCAL_ID_RE.fullmatch(url.strip().strip("'\"")) for url in urls):
        return None
    return value


def _clean_attributes(element: ET.Element) -> None:
    for name, value in list(element.attrib.items()):
        namespace, local = _local_name(name)
        del element.attrib[name]
        if local == "href" and namespace in ("", XLINK_NS):
            if _LOCAL_ID_RE.fullmatch(value.strip()):
                element.set(f"{{{XLINK_NS}}}href", value.strip())
            continue
        cleaned = _clean_value(value) if namespace == "" and local in ALLOWED_ATTRIBUTES else None
        if cleaned is not None:
            element.set(local, cleaned)


def _clean_tree(element: ET.Element) -> None:
    for child in list(element):
        namespace, local = _local_name(child.tag)
        if namespace != SVG_NS or local not in ALLOWED_ELEMENTS:
            element.remove(child)
            continue
        _clean_attributes(child)
        child.tail = None
        if local not in ("title", "desc"):
            child.text = None
        _clean_tree(child)


def sanitize_svg(svg: str) -> str:
    """Return the SVG with only allowlisted elements, attributes and in-document references; UnsafeSvgError."""
    if _DECLARATION_RE.search(svg):
        raise UnsafeSvgError("The drawing declares a document type or entities.")
    try:
        root = ET.fromstring(svg)  # declarations refused above; expat expands no external entities
    except ET.ParseError as error:
        raise UnsafeSvgError(f"The drawing is not well-formed XML: {error}.") from error
    if root.tag != f"{{{SVG_NS}}}svg":
        raise UnsafeSvgError("The drawing's root element is not an SVG <svg>.")
    _clean_attributes(root)
    root.text = None
    _clean_tree(root)
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.tostring(root, encoding="unicode")
