"""Argument checks shared across dphys: static problems raise `ValueError` naming the value."""

from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np


def positive_number(name: str, what: str, value: Any) -> float:
    """`value` as a Python float, or `ValueError` (naming `name`, `what` and the value) unless it is
    a concrete, finite number > 0."""
    try:
        value = float(value)
    except (TypeError, jax.errors.ConcretizationTypeError):
        raise ValueError(f"{name}: {what} must be a concrete number > 0, got {value!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}: {what} must be a finite number > 0, got {value}")
    return value


def positive_int(name: str, what: str, value: Any) -> int:
    """`value` as a Python int, or `ValueError` (naming `name`, `what` and the value) unless it is
    an integer > 0 (a bool is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}: {what} must be a positive integer, got {value!r}")
    return int(value)
