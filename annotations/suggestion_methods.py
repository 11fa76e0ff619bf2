"""The suggestion methods annotations knows of: registered by the scoring app at start-up.

Annotations never imports scoring; `scoring.apps.ScoringConfig.ready` registers one `SuggestionMethod`
per method of scoring's registry (`scoring.methods.registry`, the single source of these facts).
Annotations reads them to validate a dataset's `scoring_methods`, to title suggestions on the annotation
and review pages, and to find the method whose label decides triage (the one derived from others:
consensus). Without the scoring app installed no method is known, and datasets can name none.
"""

from collections.abc import Iterable
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


def register(methods: Iterable[SuggestionMethod]) -> None:
    """Register suggestion methods, replacing any registered under the same names (the scoring app's ready())."""
    for method in methods:
        _registered[method.name] = method


def unregister(names: Iterable[str]) -> None:
    """Forget the named methods (tests that register their own)."""
    for name in names:
        _registered.pop(name, None)


def registered_methods() -> tuple[SuggestionMethod, ...]:
    """Return the registered methods in registration order."""
    return tuple(_registered.values())


def method_names() -> tuple[str, ...]:
    """Return the names a dataset's `scoring_methods` may list."""
    return tuple(_registered)


def method_get(name: str) -> SuggestionMethod | None:
    """Return the method registered under `name`, or None."""
    return _registered.get(name)


def method_title(name: str) -> str:
    """Return the method's title for people, or its name when it is not registered."""
    method = _registered.get(name)
    return method.title if method is not None else name


def triage_method() -> SuggestionMethod | None:
    """Return the method whose label decides triage: the derived one (consensus), or None when there is none."""
    return next((method for method in _registered.values() if method.derived), None)


def critique_method_names() -> tuple[str, ...]:
    """Return the methods whose rationale is a ProcessBench critique (the judge): what critique exports read."""
    return tuple(name for name, method in _registered.items() if method.writes_critiques)
