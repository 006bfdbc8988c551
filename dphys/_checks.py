"""Argument checks shared across dphys: static problems raise `ValueError` naming the value."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.core
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array


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


def check_callable(name: str, what: str, fn: Any) -> None:
    """`ValueError` (naming `name`, `what` and the value) unless `fn` is callable."""
    if not callable(fn):
        raise ValueError(f"{name}: {what} must be callable, got {fn!r}")


def check_step_size(name: str, step_size: Any, what: str = "step_size", concrete: bool = False) -> Array:
    """A positive finite step size as a JAX array, checked when concrete; a traced one passes
    unless `concrete` is required."""
    if isinstance(step_size, jax.core.Tracer):
        if concrete:
            raise ValueError(f"{name}: {what} must be a concrete number, not a traced value")
        return step_size
    value = np.asarray(step_size)
    if value.ndim != 0 or not np.issubdtype(value.dtype, np.number):
        raise ValueError(f"{name}: {what} must be a scalar number, got {step_size!r}")
    if not (math.isfinite(float(value)) and float(value) > 0):
        raise ValueError(f"{name}: {what} must be a finite number > 0, got {float(value)}")
    return jnp.asarray(step_size, dtype=jnp.result_type(float))


def check_int(name: str, what: str, value: Any, minimum: int) -> int:
    """`value` as a Python int, or `ValueError` unless it is an integer >= `minimum` (a bool is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: {what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_concrete(value: Any, name: str, ok: Callable[[np.ndarray], np.ndarray], expected: str) -> None:
    """Raise ValueError if a concrete (non-traced) parameter fails `ok`; traced values pass."""
    if isinstance(value, jax.core.Tracer):
        return
    if not np.all(ok(np.asarray(value))):
        raise ValueError(f"{name}={value!r}: expected {expected}")


def check_int_range(value: Any, name: str, low: int, high: int | None = None) -> int:
    """`value` as a Python int, or `ValueError` ("name=value: expected an integer in low..high")
    unless it is an integer in [`low`, `high`] (`high=None`: no upper bound; a bool is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (
        high is not None and value > high
    ):
        bound = f"in {low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{name}={value!r}: expected an integer {bound}")
    return int(value)
