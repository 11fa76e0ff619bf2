"""Train/validation/test assignment by problem: seeded, hash-based, stable and streaming-friendly.

A problem's split depends only on (seed, problem key), so every solution of a problem lands in the same
split whatever order rows arrive in, and the same seed gives the same splits in every export.
"""

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class SplitRatios:
    """Share of problems per split; non-negative, summing to 1."""

    train: float = 0.8
    validation: float = 0.1
    test: float = 0.1

    def as_dict(self) -> dict[str, float]:
        return {"train": self.train, "validation": self.validation, "test": self.test}


def parse_split_ratios(value: str | Sequence[float] | Mapping[str, float] | None) -> SplitRatios:
    """Return ratios from "0.8,0.1,0.1", [0.8, 0.1, 0.1] or {"train": .., "validation": .., "test": ..}.

    None gives the default 0.8/0.1/0.1. Raise ValueError saying what is wrong.
    """
    if value is None:
        return SplitRatios()
    if isinstance(value, str):
        parts: Sequence[object] = [part.strip() for part in value.split(",")]
    elif isinstance(value, Mapping):
        unknown = sorted(set(value) - set(SPLITS))
        if unknown:
            raise ValueError(f"Unknown split(s) {', '.join(unknown)}; use train, validation and test.")
        parts = [value.get(split, 0) for split in SPLITS]
    elif isinstance(value, Sequence):
        parts = list(value)
    else:
        raise ValueError("Give three ratios for train, validation and test, e.g. 0.8,0.1,0.1.")
    if len(parts) != len(SPLITS):
        raise ValueError(f"Give three ratios for train, validation and test (got {len(parts)}).")
    try:
        ratios = [_number(part) for part in parts]
    except (TypeError, ValueError):
        raise ValueError("Each ratio must be a number, e.g. 0.8,0.1,0.1.") from None
    if any(not math.isfinite(ratio) or ratio < 0 for ratio in ratios):
        raise ValueError("Ratios must be finite and not negative.")
    if abs(sum(ratios) - 1) > 1e-6:
        raise ValueError(f"Ratios must sum to 1 (they sum to {sum(ratios):g}).")
    return SplitRatios(*ratios)


def _number(value: object) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a ratio")
    if isinstance(value, int | float | str):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not a ratio")


def problem_position(problem_key: str, seed: int) -> float:
    """Return a uniform position in [0, 1) for a problem under a seed."""
    digest = hashlib.sha256(f"{seed}:{problem_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_split(problem_key: str, *, seed: int, ratios: SplitRatios) -> str:
    """Return the split ("train", "validation" or "test") of a problem."""
    position = problem_position(problem_key, seed)
    shares = [(split, share) for split, share in ratios.as_dict().items() if share > 0]
    cumulative = 0.0
    for split, share in shares[:-1]:
        cumulative += share
        if position < cumulative:
            return split
    return shares[-1][0]  # the last non-empty split takes the rest, rounding included
