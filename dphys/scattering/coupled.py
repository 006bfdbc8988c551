r"""Tensor-coupled partial waves: two channels $L = J \mp 1$ (spin 1) coupled by a 2x2 local potential,
with or without Coulomb, and their phase shifts in the Stapp ("bar") parametrisation.

The matrix of regular solutions $U(r)$ (columns: two independent solutions, rows: the channels) solves

$$ U'' = \left[\frac{2\mu}{(\hbar c)^2} V(r)
   + \mathrm{diag}\Big(\frac{L_i(L_i+1)}{r^2} + \frac{2k_C}{r} - k^2\Big)\right] U,
\qquad U \sim \mathrm{diag}(r^{L_1+1}, r^{L_2+1}) \ (r \to 0), $$

integrated with diffrax (Dopri8, adaptive, float64) from $r_0 = 10^{-4}$ fm to the matching radius. There
$U = F A + G B$ with the Coulomb functions $F = \mathrm{diag}(F_{L_1}, F_{L_2})$, $G$ likewise (Steed's method,
`dphys.scattering.coulomb`), the reactance matrix is $K = B A^{-1}$ (symmetric), $S = (1 + iK)(1 - iK)^{-1}$, and

$$ S = \begin{pmatrix}
       \cos 2\bar\epsilon\, e^{2i\bar\delta_1} & i\sin 2\bar\epsilon\, e^{i(\bar\delta_1 + \bar\delta_2)} \\
       i\sin 2\bar\epsilon\, e^{i(\bar\delta_1 + \bar\delta_2)} & \cos 2\bar\epsilon\, e^{2i\bar\delta_2}
     \end{pmatrix} $$

defines the bar phase shifts $\bar\delta_{1,2} \in (-\pi/2, \pi/2]$ and the mixing angle $\bar\epsilon_J$ (Stapp,
Ypsilantis, Metropolis 1957; the convention of the Nijmegen and Granada analyses). Relative to Coulomb for
charged pairs. Starting at $r_0$ with the leading power only mixes in the irregular solutions at a relative
level $\sim (U r_0^2)\,r_0^{2L+1}$, negligible. Differentiable in the potential's parameters (reverse mode
through diffrax). One momentum per call; vmap for many.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from dphys.constants import HBARC
from dphys.scattering.coulomb import require_x64, steed, turning_point
from dphys.scattering.radial import (
    check_coulomb,
    check_positive,
    coulomb_momentum,
    positive_at_run_time,
)

__all__ = ["CoupledPhases", "coupled_phase_shifts"]

_R0 = 1e-4  # [fm], as the radial solver
_MAX_STEPS = 200_000


class CoupledPhases(NamedTuple):
    """Stapp bar phase shifts [rad] of a tensor-coupled pair of waves: `delta_minus` ($L = J - 1$),
    `delta_plus` ($L = J + 1$) and the mixing angle `epsilon`."""

    delta_minus: Float[Array, ""]
    delta_plus: Float[Array, ""]
    epsilon: Float[Array, ""]


def _field(r, y, args):
    potential, ls, two_mu, kc, k2 = args
    u, du = y[:4].reshape(2, 2), y[4:].reshape(2, 2)
    diag = ls * (ls + 1) / r**2 + 2 * kc / r - k2
    m = two_mu * potential(r) + jnp.diag(diag)
    return jnp.concatenate([du.ravel(), (m @ u).ravel()])


@eqx.filter_jit
def _solve(potential, k, mass, j, coulomb, r_match, rtol, atol):
    k = positive_at_run_time("coupled_phase_shifts", "k", "fm^-1", k)
    ls = jnp.array([j - 1.0, j + 1.0])
    two_mu = 2 * mass / HBARC**2
    kc = coulomb_momentum(mass, coulomb)
    eta = kc / k
    rho_c = jnp.maximum(turning_point(j + 1, eta), jnp.where(eta == 0, 0.0, 1.0))
    r_end = jnp.maximum(r_match, rho_c / k)
    u0 = jnp.eye(2)
    du0 = jnp.diag((ls + 1) / _R0)
    y0 = jnp.concatenate([u0.ravel(), du0.ravel()])
    sol = dfx.diffeqsolve(
        dfx.ODETerm(_field), dfx.Dopri8(), _R0, r_end, None, y0, args=(potential, ls, two_mu, kc, k**2),
        stepsize_controller=dfx.PIDController(rtol=rtol, atol=atol), max_steps=_MAX_STEPS, throw=False,
    )
    y = eqx.error_if(
        sol.ys[-1], (sol.result != dfx.RESULTS.successful) | ~jnp.all(jnp.isfinite(sol.ys[-1])),
        f"coupled_phase_shifts: the radial integration (diffrax Dopri8) failed or reached max_steps={_MAX_STEPS}",
    )
    u, du = y[:4].reshape(2, 2), y[4:].reshape(2, 2) / k
    cw = [steed(l, eta, k * r_end) for l in (ls[0], ls[1])]
    f, df = jnp.stack([c.F for c in cw]), jnp.stack([c.dF for c in cw])
    g, dg = jnp.stack([c.G for c in cw]), jnp.stack([c.dG for c in cw])
    a = g[:, None] * du - dg[:, None] * u  # U = F A + G B, U'/k = F' A + G' B, F' G - F G' = 1
    b = df[:, None] * u - f[:, None] * du
    kmat = jnp.linalg.solve(a.T, b.T).T  # B A^-1
    kmat = (kmat + kmat.T) / 2
    eye = jnp.eye(2)
    s = jnp.linalg.solve((eye - 1j * kmat).T, (eye + 1j * kmat).T).T  # (1 + iK)(1 - iK)^-1 (they commute)
    d1, d2 = jnp.angle(s[0, 0]) / 2, jnp.angle(s[1, 1]) / 2
    sin2e = jnp.real(-1j * s[0, 1] * jnp.exp(-1j * (d1 + d2)))
    return CoupledPhases(d1, d2, jnp.arcsin(jnp.clip(sin2e, -1.0, 1.0)) / 2)


def coupled_phase_shifts(
    potential: Callable,
    k: Float[ArrayLike, ""],
    *,
    mass: Float[ArrayLike, ""],
    j: int,
    coulomb: Float[ArrayLike, ""] = 0.0,
    r_match: float = 25.0,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> CoupledPhases:
    r"""Stapp bar phase shifts $\bar\delta_{J-1}$, $\bar\delta_{J+1}$ and mixing angle $\bar\epsilon_J$ [rad]
    of a tensor-coupled pair of waves at momentum `k` (module docstring for the equation and method),
    relative to Coulomb when `coulomb` != 0. Float64; one `k`, vmap for many.

    **Arguments:**

    - `potential`: `V(r) -> (..., 2, 2)` [MeV], the symmetric potential matrix in the channels
      ($L = J - 1$, $L = J + 1$), e.g. `AV18("3P2").coupled`.
    - `k`: relative momentum [fm^-1] (> 0).
    - `mass`: the reduced mass $\mu$ [MeV].
    - `j`: total angular momentum $J \ge 1$ (Python int).
    - `coulomb`: $Z_1 Z_2$.
    - `r_match`: matching radius [fm] (moved beyond the Coulomb/centrifugal turning point if needed).
    - `rtol`, `atol`: tolerances of the adaptive integration.

    **Returns:** `CoupledPhases(delta_minus, delta_plus, epsilon)` [rad].
    """
    name = "coupled_phase_shifts"
    require_x64(name)
    if not callable(potential):
        raise ValueError(f"{name}: the potential must be a callable V(r) -> (..., 2, 2) MeV, got {potential!r}")
    if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or j < 1:
        raise ValueError(f"{name}: j must be a Python int >= 1, got {j!r}")
    k = check_positive(name, "k", "fm^-1", k)
    mass = check_positive(name, "mass (the reduced mass)", "MeV", mass)
    r_match = check_positive(name, "r_match", "fm", r_match)
    probe = jax.eval_shape(potential, jnp.zeros(()))
    if probe.shape != (2, 2):
        raise ValueError(f"{name}: the potential must return a 2x2 matrix at a scalar r, got shape {probe.shape}")
    return _solve(potential, k, mass, float(j), check_coulomb(name, coulomb), r_match, float(rtol), float(atol))
