"""The arithmetic check's options, apart from the check so that the method table needs no SymPy.

The method table is read by every Django process (web included); SymPy is imported only where the
check runs (`scoring.methods.registry.run_arithmetic`, on the CPU worker).
"""

from dataclasses import dataclass

from scoring.methods.base import MethodConfigError


@dataclass(frozen=True)
class ArithmeticConfig:
    """Tolerances of the arithmetic check (relative errors, as fractions)."""

    rounded_operand_tolerance: float = 0.01
    approx_tolerance: float = 0.05
    max_side_length: int = 200

    def __post_init__(self) -> None:
        for name in ("rounded_operand_tolerance", "approx_tolerance"):
            if not 0 <= getattr(self, name) < 1:
                raise MethodConfigError(name, "must be in [0, 1)")
        if self.max_side_length < 1:
            raise MethodConfigError("max_side_length", "must be at least 1")
