"""Run Debian's `asy` on one Asymptote source, sandboxed, and return the SVG it draws. No Django.

The sandbox, in layers: the source is checked first (size; no file, shell or eval functions; `import` only
of plain module names), `asy` runs with `-safe` (no shell escapes, no writes outside its folder) in a fresh
temporary folder with an empty environment, under resource limits set by a small Python trampoline before
`exec` (address space, CPU seconds, file size; inherited by the LaTeX and dvisvgm it starts), in its own
process group that is killed whole when the wall-clock timeout passes. Callers sanitize the SVG
(`annotations.figures.svg`) before anyone sees it.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

_TRAMPOLINE = (
    "import os, resource, sys\n"
    "memory, cpu, size = (int(value) for value in sys.argv[1:4])\n"
    "resource.setrlimit(resource.RLIMIT_AS, (memory, memory))\n"
    "resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))\n"
    "os.execv(sys.argv[4], sys.argv[4:])\n"
)
# Functions that read or write files, run programs or evaluate strings: a diagram never needs them.
_FORBIDDEN_RE = re.compile(
    r"\b(input|xinput|output|xoutput|file|include|system|eval|cd|locatefile|readline|getc|settings|shipout)\b"
)
_IMPORT_RE = re.compile(r"\b(?:import|access|from)\b\s*(?P<target>[^;]*);")
_MODULE_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\s+as\s+[A-Za-z_][A-Za-z0-9_]*)?")


# MATH's diagrams were drawn on AoPS, which imports `graph` (Circle, graph, ...) for every diagram; one
# that sets no size would come out at 1 bp per unit (a speck under its labels): it is drawn 200 bp wide.
PREAMBLE = "import graph;\n"
DEFAULT_SIZE = "size(200);\n"
_SIZED_RE = re.compile(r"\b(?:size|unitsize)\s*\(")


class FigureError(Exception):
    """The source could not be drawn; the message says why (shown to staff, never the source's output)."""


class AsymptoteUnavailable(FigureError):
    """The `asy` binary is not installed where the settings say."""


@dataclass(frozen=True)
class AsymptoteLimits:
    """Where `asy` is and how much it may use for one figure."""

    binary: str = "asy"
    timeout_seconds: float = 20.0
    memory_bytes: int = 1024 * 1024 * 1024
    max_source_chars: int = 20_000
    max_output_bytes: int = 2_000_000
    modules_dir: str = ""  # extra modules to import (e.g. AoPS's olympiad.asy), passed as ASYMPTOTE_DIR


def check_source(source: str, limits: AsymptoteLimits) -> None:
    """Raise FigureError when the source is too long or uses what a sandboxed diagram may not."""
    if len(source) > limits.max_source_chars:
        raise FigureError(f"The source has {len(source)} characters; at most {limits.max_source_chars} are drawn.")
    forbidden = _FORBIDDEN_RE.search(source)
    if forbidden:
        raise FigureError(f"The source uses {forbidden.group(1)!r}, which diagrams may not use here.")
    for match in _IMPORT_RE.finditer(source):
        if not _MODULE_NAME_RE.fullmatch(match.group("target").strip()):
            raise FigureError(f"Only modules named plainly may be imported; got {match.group(0)!r}.")


def _command(binary: str, limits: AsymptoteLimits) -> list[str]:
    return [
        sys.executable,
        "-c",
        _TRAMPOLINE,
        str(limits.memory_bytes),
        str(max(int(limits.timeout_seconds), 1)),
        str(4 * limits.max_output_bytes),
        binary,
        "-safe",
        "-noV",
        "-render=0",
        "-f",
        "svg",
        "-o",
        "figure",
        "figure.asy",
    ]


def _run(command: list[str], folder: str, limits: AsymptoteLimits) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": folder, "TMPDIR": folder, "LANG": "C.UTF-8"}
    if limits.modules_dir:
        environment["ASYMPTOTE_DIR"] = limits.modules_dir
    timeout_seconds = limits.timeout_seconds
    process = subprocess.Popen(  # a fixed argument list, no shell
        command,
        cwd=folder,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout_seconds)
    except subprocess.TimeoutExpired as error:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise FigureError(f"Asymptote took longer than {timeout_seconds:g} s.") from error
    if process.returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # RLIMIT_CPU (the same limit) stopped it first
        raise FigureError(f"Asymptote took longer than {timeout_seconds:g} s.")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-count:])[:500]


def render_asymptote(source: str, limits: AsymptoteLimits) -> str:
    """Return the SVG text `asy` draws for the source (not yet sanitized); FigureError saying why not."""
    check_source(source, limits)
    binary = shutil.which(limits.binary)
    if binary is None:
        raise AsymptoteUnavailable(f"Asymptote is not installed at {limits.binary!r}.")
    with tempfile.TemporaryDirectory(prefix="prmweb-asy-") as folder:
        preamble = PREAMBLE if _SIZED_RE.search(source) else PREAMBLE + DEFAULT_SIZE
        Path(folder, "figure.asy").write_text(preamble + source, encoding="utf-8")
        result = _run(_command(binary, limits), folder, limits)
        output = Path(folder, "figure.svg")
        if result.returncode != 0 or not output.exists():
            detail = _last_lines(result.stderr or result.stdout) or f"exit status {result.returncode}"
            raise FigureError(f"Asymptote could not draw the source: {detail}")
        if output.stat().st_size > limits.max_output_bytes:
            raise FigureError(f"The drawing is larger than {limits.max_output_bytes} bytes.")
        return output.read_text(encoding="utf-8", errors="replace")
