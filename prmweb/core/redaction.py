"""Hide internal addresses (URLs, host:port, IP addresses) in error texts that users see.

Error texts stored on rows (exports, scoring runs, suggestions) are shown to managers in the API, the
admin and the browser; an exception's text often carries the broker's or a model server's address.
The log keeps the full text; what is stored and shown says `[address hidden]` instead.
"""

import re

HIDDEN = "[address hidden]"

_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>()]+")
_HOST = r"(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*)"
_HOST_PORT = re.compile(rf"(?<![\w.:/-]){_HOST}:\d{{1,5}}\b")
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])")


def redact_addresses(text: str) -> str:
    """Return the text with every URL, host:port pair and IPv4 address replaced by `[address hidden]`."""
    for pattern in (_URL, _HOST_PORT, _IPV4):
        text = pattern.sub(HIDDEN, text)
    return text
