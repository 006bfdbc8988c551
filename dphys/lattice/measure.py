r"""Measuring observables on ensembles of lattice configurations (shared by `phi4`, `u1` and
`quantum`): `measure` applies a function to every configuration in one jitted vmap, and
`jackknife_dict` gives a block-jackknife `Estimate` for every entry of a dict of observables.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from dphys.stats import Estimate, jackknife

__all__ = ["jackknife_dict", "measure"]


@functools.partial(jax.jit, static_argnums=(0, 1))
def _vmapped(fn: Callable, static: tuple, configs: Array, *args: Any) -> Any:
    return jax.vmap(lambda c, *a: fn(c, *a, *static), in_axes=(0,) + (None,) * len(args))(configs, *args)


def measure(
    fn: Callable, ensemble: ArrayLike, config_ndim: int, args: tuple = (), static: tuple = ()
) -> tuple[dict, int]:
    """Apply `fn(config, *args, *static) -> dict of arrays` to every configuration of an ensemble
    of shape `(n_samples, *config)` or `(n_samples, n_chains, *config)`, in one jitted vmap
    (compiled once per shape, `fn` and hashable `static`; `args` are traced PyTrees). Returns the
    dict as float64 NumPy arrays with the leading (sample[, chain]) axes restored, and the number
    of leading axes."""
    ensemble = jnp.asarray(ensemble)
    n_lead = ensemble.ndim - config_ndim
    if n_lead not in (1, 2):
        raise ValueError(
            f"ensemble of shape {ensemble.shape}: expected (n_samples, *config) or "
            f"(n_samples, n_chains, *config) with a {config_ndim}-dimensional configuration"
        )
    lead = ensemble.shape[:n_lead]
    out = _vmapped(fn, static, ensemble.reshape((-1,) + ensemble.shape[n_lead:]), *args)
    return {k: np.asarray(v, np.float64).reshape(lead + v.shape[1:]) for k, v in out.items()}, n_lead


def jackknife_dict(fn: Callable[[dict], dict], data: dict, n_blocks: int) -> dict[str, Estimate]:
    """Block jackknife of a function returning a dict of arrays: one `dphys.stats.jackknife` call
    on the concatenated values, split back into one `Estimate` per key."""

    def quiet(d):  # NaN/inf where an estimator is undefined (e.g. an effective mass in noise)
        with np.errstate(invalid="ignore", divide="ignore"):
            return fn(d)

    template = quiet(data)
    keys = list(template)
    shapes = [np.shape(template[k]) for k in keys]
    sizes = [int(np.prod(s)) for s in shapes]

    def flat(d):
        out = quiet(d)
        return np.concatenate([np.ravel(np.asarray(out[k], np.float64)) for k in keys])

    est = jackknife(flat, data, n_blocks)
    value, error = np.atleast_1d(est.value), np.atleast_1d(est.error)
    result, start = {}, 0
    for key, shape, size in zip(keys, shapes, sizes):
        v, e = value[start : start + size].reshape(shape), error[start : start + size].reshape(shape)
        result[key] = Estimate(float(v) if v.ndim == 0 else v, float(e) if e.ndim == 0 else e)
        start += size
    return result
