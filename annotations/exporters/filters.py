"""Export filters as plain data, parsed from JSON-like input with an error per bad field."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

FILTER_NAMES = (
    "label_sources",
    "min_agreement",
    "exclude_flagged",
    "subsets",
    "generators",
    "decided_after",
    "decided_before",
)


class InvalidFilters(ValueError):
    """Some filters are invalid; `errors` maps `filters.<name>` to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ExportFilters:
    """Which solutions an export takes; empty means no restriction.

    label_sources, min_agreement and the decided_* range test the solution's final label, so a solution
    without one never passes them. decided_after is inclusive, decided_before exclusive.
    """

    label_sources: tuple[str, ...] = ()
    min_agreement: float | None = None
    exclude_flagged: bool = False
    subsets: tuple[str, ...] = ()
    generators: tuple[str, ...] = ()
    decided_after: datetime | None = None
    decided_before: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the filters that are set, JSON-ready (datetimes in ISO 8601)."""
        values: dict[str, Any] = {
            "label_sources": list(self.label_sources),
            "min_agreement": self.min_agreement,
            "exclude_flagged": self.exclude_flagged,
            "subsets": list(self.subsets),
            "generators": list(self.generators),
            "decided_after": self.decided_after.isoformat() if self.decided_after else None,
            "decided_before": self.decided_before.isoformat() if self.decided_before else None,
        }
        return {name: value for name, value in values.items() if value not in (None, False, [])}


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, Sequence) or not all(isinstance(item, str) for item in value):
        raise ValueError("Must be a list of strings.")
    cleaned = tuple(dict.fromkeys(item.strip() for item in value if item.strip()))
    if not cleaned:
        raise ValueError("Give at least one value, or leave the filter out.")
    return cleaned


def _moment(value: Any) -> datetime:
    """Parse an ISO 8601 date (midnight UTC) or datetime (UTC when it carries no offset)."""
    if not isinstance(value, str):
        raise ValueError("Must be an ISO 8601 date or datetime string, e.g. 2025-01-31 or 2025-01-31T12:00:00Z.")
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date or datetime, e.g. 2025-01-31T12:00:00Z.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _agreement(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("Must be a number from 0 to 1.")
    try:
        number = float(value)
    except ValueError:
        raise ValueError("Must be a number from 0 to 1.") from None
    if not math.isfinite(number) or not 0 <= number <= 1:
        raise ValueError(f"Must be a number from 0 to 1 (got {value}).")
    return number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise ValueError("Must be true or false.")


def _sources(value: Any, allowed: Sequence[str]) -> tuple[str, ...]:
    sources = _strings(value)
    unknown = [source for source in sources if source not in allowed]
    if unknown:
        raise ValueError(f"Unknown label source(s) {', '.join(unknown)}; use {', '.join(allowed)}.")
    return sources


def parse_export_filters(raw: Mapping[str, Any] | None, *, label_sources: Sequence[str]) -> ExportFilters:
    """Return filters from a mapping (missing or null entries mean no restriction).

    Raise InvalidFilters naming every bad entry as `filters.<name>`.
    """
    if raw is None:
        return ExportFilters()
    if not isinstance(raw, Mapping):
        raise InvalidFilters({"filters": ["Must be an object of filters."]})
    errors: dict[str, list[str]] = {}
    parsed: dict[str, Any] = {}
    parsers = {
        "label_sources": lambda value: _sources(value, label_sources),
        "min_agreement": _agreement,
        "exclude_flagged": _flag,
        "subsets": _strings,
        "generators": _strings,
        "decided_after": _moment,
        "decided_before": _moment,
    }
    for name, value in raw.items():
        if name not in parsers:
            errors[f"filters.{name}"] = [f"Unknown filter; use {', '.join(FILTER_NAMES)}."]
        elif value is not None:
            try:
                parsed[name] = parsers[name](value)
            except ValueError as exc:
                errors[f"filters.{name}"] = [str(exc)]
    after, before = parsed.get("decided_after"), parsed.get("decided_before")
    if after and before and after >= before:
        errors["filters.decided_before"] = ["Must be later than decided_after."]
    if errors:
        raise InvalidFilters(errors)
    return ExportFilters(**parsed)
