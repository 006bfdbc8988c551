r"""Reading and writing R-correlators as NumPy files, so that lattice data can be brought in.

Format: a `.npz` archive with arrays `R`, `t` [fm] and either `r` [fm] (radial data on the grid
$r_i = i a$, `R` of shape `(J, T, N)` or `(T, N)`) or `L` (a periodic box, `R` of shape
`(J, T, L, L, L)` or `(T, L, L, L)`, with the scalar `spacing` $a$ [fm]); the leading `J` axis,
when present, holds jackknife samples (set `jackknife`). Masses and the equation's form are
arguments of `load_correlator` (they are not part of lattice data files).
"""

from __future__ import annotations

import os

import jax.numpy as jnp
import numpy as np

from dphys.halqcd.synthesis import Correlator

__all__ = ["load_correlator", "save_correlator"]


def save_correlator(path: str | os.PathLike, corr: Correlator) -> None:
    """Write `corr` as a `.npz` archive (module docstring) readable by `load_correlator`."""
    arrays = {"R": np.asarray(corr.R), "t": np.asarray(corr.t), "spacing": np.asarray(corr.spacing)}
    if corr.geometry == "radial":
        arrays["r"] = np.asarray(corr.r)
    else:
        arrays["L"] = np.asarray(corr.R.shape[-1])
    np.savez(path, **arrays)


def load_correlator(
    path: str | os.PathLike,
    *,
    mass: float,
    jackknife: bool,
    delta: float = 0.0,
    relativistic: bool = True,
) -> Correlator:
    r"""Read an R-correlator file (module docstring) into a `Correlator`.

    **Arguments:** `path` of the `.npz`; `mass` the reduced mass $\mu$ [MeV] (> 0); `jackknife`
    whether `R` has a leading axis of jackknife samples; `delta` the mass asymmetry
    $(m_1 - m_2)/(m_1 + m_2)$; `relativistic` whether to use the $c\,\partial_t^2$ term.

    **Returns:** the `Correlator`. Raises ValueError for missing arrays, mismatched r/t axes, a
    radial grid that is not $r_i = i a$, or a mass <= 0.
    """
    if not (np.isfinite(mass) and mass > 0):
        raise ValueError(f"load_correlator: mass (the reduced mass) must be > 0 [MeV], got {mass}")
    with np.load(path, allow_pickle=False) as f:
        files = dict(f)
    missing = [k for k in ("R", "t") if k not in files]
    if missing or ("r" not in files and "L" not in files):
        raise ValueError(f"load_correlator: {os.fspath(path)!r} must hold arrays R, t and r (radial) or L and "
                         f"spacing (box); it holds {sorted(files)}")
    R, t = files["R"].astype(np.float64), files["t"].astype(np.float64)
    lead = 1 if jackknife else 0
    if R.ndim < lead + 2 or t.ndim != 1 or R.shape[lead] != t.size:
        raise ValueError(f"load_correlator: mismatched r/t axes: t has shape {t.shape} but R has shape {R.shape} "
                         f"(expected {'(J, ' if jackknife else '('}T = {t.size}, ...))")
    if "r" in files:
        r = files["r"].astype(np.float64)
        if r.ndim != 1 or R.ndim != lead + 2 or R.shape[-1] != r.size:
            raise ValueError(f"load_correlator: mismatched r/t axes: r has shape {r.shape} but R has shape "
                             f"{R.shape} (expected (..., T = {t.size}, N = {r.size}))")
        spacing = float(r[0])
        if not (spacing > 0 and np.allclose(r, spacing * np.arange(1, r.size + 1), rtol=1e-8, atol=0)):
            raise ValueError(f"load_correlator: radial data need the grid r_i = i a (i = 1 ... N), got r = {r[:5]}...")
        geometry = "radial"
    else:
        if "spacing" not in files:
            raise ValueError("load_correlator: box data need the lattice spacing (array 'spacing' [fm])")
        spacing, L = float(files["spacing"]), int(files["L"])
        if R.ndim != lead + 4 or R.shape[-3:] != (L, L, L):
            raise ValueError(f"load_correlator: mismatched axes: L = {L} but R has shape {R.shape}")
        geometry = "box"
    return Correlator(jnp.asarray(R), jnp.asarray(t), spacing, geometry, float(mass), float(delta),
                      bool(relativistic), bool(jackknife))
