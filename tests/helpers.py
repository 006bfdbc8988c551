"""Shared test helpers: gradient checks against central finite differences in float64."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree


def finite_difference_grad(fn: Callable, params, eps: float = 1e-6) -> np.ndarray:
    """Central differences (f(p + eps e_i) - f(p - eps e_i)) / 2 eps of a scalar function of a
    PyTree, over its flattened parameters. Call inside `jax.enable_x64(True)`."""
    flat, unravel = ravel_pytree(params)
    flat = np.asarray(flat, dtype=np.float64)
    fn_flat = jax.jit(lambda p: fn(unravel(p)))
    grad = np.empty_like(flat)
    for i in range(flat.size):
        step = np.zeros_like(flat)
        step[i] = eps
        grad[i] = (float(fn_flat(flat + step)) - float(fn_flat(flat - step))) / (2 * eps)
    return grad


def check_grad(fn: Callable, params, *, eps: float = 1e-6, rtol: float = 1e-6, atol: float = 1e-9):
    """Assert that `jax.grad(fn)(params)` agrees with central finite differences in float64.

    With eps = 1e-6 the truncation error is O(eps^2 f''') ~ 1e-12 and the rounding error
    O(1e-16 |f| / eps) ~ 1e-10, so agreement to rtol = 1e-6 tests the derivative, not the noise.
    Returns (autodiff gradient, finite-difference gradient) as flat float64 arrays."""
    with jax.enable_x64(True):
        params = jax.tree_util.tree_map(lambda p: jnp.asarray(p, dtype=jnp.float64), params)
        auto, _ = ravel_pytree(jax.grad(fn)(params))
        auto = np.asarray(auto)
        numeric = finite_difference_grad(fn, params, eps)
    assert np.all(np.isfinite(auto)), f"autodiff gradient not finite: {auto}"
    np.testing.assert_allclose(auto, numeric, rtol=rtol, atol=atol)
    return auto, numeric


def assert_within_sigma(value, reference, error, n_sigma: float = 4.0, what: str = "value"):
    """Assert |value - reference| <= n_sigma * error (a statistical check stated in standard errors)."""
    value, reference, error = (np.asarray(v, dtype=np.float64) for v in (value, reference, error))
    assert np.all(error > 0), f"{what}: standard error must be positive, got {error}"
    z = np.abs(value - reference) / error
    assert np.all(z <= n_sigma), f"{what}: {value} vs {reference} is {z} standard errors off (> {n_sigma})"
