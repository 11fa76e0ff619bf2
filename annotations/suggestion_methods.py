"""The suggestion methods annotations knows of: registered by the scoring app at start-up.

Annotations never imports scoring; `scoring.apps.ScoringConfig.ready` registers a source that returns one
`SuggestionMethod` per method of scoring's registry (`scoring.methods.registry`, the single source of these
facts); the first read calls it, so a process that never reads them never imports the methods.
Annotations reads them to validate a dataset's `scoring_methods`, to title suggestions on the annotation
and review pages, and to find the method whose label decides triage (the one derived from others:
consensus). Without the scoring app installed no method is known, and datasets can name none.
"""

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SuggestionMethod:
    """What annotations needs to know about one suggestion method.

    `inputs` names the methods a derived method is computed from (consensus: mc and judge); empty for
    a method that runs on its own. `rationale_title` and `rationale_open` say how the annotation page
    shows the method's rationale; `verdict_all_correct` and `verdict_error` (with `{step}`, 1-based) word
    its label where the method claims less than a whole verdict (empty: the plain wording); `writes_critiques`:
    its rationale is a ProcessBench critique ending in `\\boxed{k}` (the judge's), read by the critique export.
    """

    name: str
    title: str
    role: str
    inputs: tuple[str, ...] = ()
    rationale_title: str = "Details"
    rationale_open: bool = False
    verdict_all_correct: str = ""
    verdict_error: str = ""
    writes_critiques: bool = False

    @property
    def derived(self) -> bool:
        return bool(self.inputs)


_registered: dict[str, SuggestionMethod] = {}
_sources: list[Callable[[], Iterable[SuggestionMethod]]] = []
_sources_lock = threading.Lock()


def register_source(source: Callable[[], Iterable[SuggestionMethod]]) -> None:
    """Register methods that `source()` returns, called on the first read (the scoring app's ready())."""
    with _sources_lock:
        _sources.append(source)


def _methods() -> dict[str, SuggestionMethod]:
    """Return the registered methods by name, first registering those of sources not yet read."""
    if _sources:
        with _sources_lock:  # another thread reads only once every source is registered
            while _sources:
                _add(_sources[0]())
                _sources.pop(0)
    return _registered


def _add(methods: Iterable[SuggestionMethod]) -> None:
    for method in methods:
        _registered[method.name] = method


def register(methods: Iterable[SuggestionMethod]) -> None:
    """Register suggestion methods, replacing any registered under the same names."""
    _methods()
    _add(methods)


def unregister(names: Iterable[str]) -> None:
    """Forget the named methods (tests that register their own)."""
    registered = _methods()
    for name in names:
        registered.pop(name, None)


def registered_methods() -> tuple[SuggestionMethod, ...]:
    """Return the registered methods in registration order."""
    return tuple(_methods().values())


def method_names() -> tuple[str, ...]:
    """Return the names a dataset's `scoring_methods` may list."""
    return tuple(_methods())


def method_get(name: str) -> SuggestionMethod | None:
    """Return the method registered under `name`, or None."""
    return _methods().get(name)


def method_title(name: str) -> str:
    """Return the method's title for people, or its name when it is not registered."""
    method = _methods().get(name)
    return method.title if method is not None else name


def triage_method() -> SuggestionMethod | None:
    """Return the method whose label decides triage: the derived one (consensus), or None when there is none."""
    return next((method for method in _methods().values() if method.derived), None)


def critique_method_names() -> tuple[str, ...]:
    """Return the methods whose rationale is a ProcessBench critique (the judge): what critique exports read."""
    return tuple(name for name, method in _methods().items() if method.writes_critiques)
