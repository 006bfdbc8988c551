r"""Low-energy scattering parameters: the effective-range function, scattering length and effective
range, in the particle-physics convention

$$ K(k) = k\cot\delta_0(k) = -\frac{1}{a} + \frac{r}{2}k^2 + O(k^4) \qquad \text{(neutral pairs)}, $$

$a > 0$ for a shallow bound state, $a < 0$ for an attractive potential without one (nn: $a \approx -18$
fm). The femtoscopy convention of Lednicky and CATS, $f(k) = (1/f_0 + d_0 k^2/2 - ik)^{-1}$, has
$f_0 = -a$, $d_0 = r$.

For charged pairs ($Z_1 Z_2 > 0$), with $\delta_0$ the phase shift relative to Coulomb,
$\eta = k_C/k$, $k_C = \alpha Z_1 Z_2 \mu/\hbar c$, the Coulomb-modified effective-range function

$$ K_C(k) = C_0^2(\eta)\, k\cot\delta_0 + 2 k\eta\, h(\eta) = -\frac{1}{a_C} + \frac{r_C}{2}k^2 + O(k^4), $$

with the Gamow factor $C_0^2(\eta) = 2\pi\eta/(e^{2\pi\eta} - 1)$ and
$h(\eta) = \eta^2\sum_{n\ge1} 1/(n(n^2+\eta^2)) - \gamma_E - \ln\eta$ (`coulomb_h`; $\ln\eta$, not
$\ln\eta^2$: only with $\ln\eta$ is $K_C$ analytic in $k^2$).

$a$ and $r$ come from a polynomial in $k^2$ through $K$ at a few small momenta (`k_fit`), whose
truncation error is $O(k_\text{fit}^8)$ for four points: exact, smooth and differentiable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from dphys.scattering.coulomb import coulomb_h, gamow_factor
from dphys.scattering.radial import SOLVER, check_scattering_args, coulomb_momentum, integrate_radial, phase_shift

__all__ = ["EffectiveRange", "effective_range", "effective_range_function"]

K_FIT = (0.0125, 0.025, 0.0375, 0.05)  # [fm^-1] default fit momenta


class EffectiveRange(NamedTuple):
    """Scattering length `a` [fm] and effective range `r` [fm] (particle-physics sign,
    $k\\cot\\delta = -1/a + r k^2/2$; Coulomb-modified $a_C$, $r_C$ for charged pairs)."""

    a: Float[Array, ""]
    r: Float[Array, ""]


def effective_range_function(
    potential: Callable,
    k: Float[ArrayLike, ""],
    *,
    mass: Float[ArrayLike, ""],
    coulomb: Float[ArrayLike, ""] = 0.0,
    r_match: float = 25.0,
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> Float[Array, ""]:
    r"""The s-wave effective-range function at momentum `k`: $K = k\cot\delta_0$ for neutral pairs,
    $K_C = C_0^2(\eta)\,k\cot\delta_0 + 2k\eta\,h(\eta)$ for charged ones (module docstring), so that
    $K = -1/a + r k^2/2 + \ldots$ (particle-physics convention). Float64; one `k`, vmap for many.

    **Arguments:** `potential` V(r) [MeV]; `k` [fm^-1]; `mass` the reduced mass [MeV]; `coulomb`
    = $Z_1 Z_2$ (0 or > 0); `r_match` [fm]; `rtol`, `atol` integration tolerances.

    **Returns:** $K(k)$ [fm^-1].
    """
    _check_charges("effective_range_function", coulomb)
    delta = phase_shift(potential, k, mass=mass, l=0, coulomb=coulomb, r_match=r_match, rtol=rtol, atol=atol)
    return _from_phase(delta, k, coulomb_momentum(mass, coulomb))


def _check_charges(name: str, coulomb) -> None:
    if not isinstance(coulomb, jax.core.Tracer) and np.any(np.asarray(coulomb) < 0):
        raise ValueError(f"{name}: coulomb (Z1 Z2) must be >= 0 for the Coulomb-modified expansion, "
                         f"got {coulomb}")


@jax.jit
def _from_phase(delta: Array, k: Array, kc: Array) -> Array:
    """K = k cot(delta), or C0^2(eta) k cot(delta) + 2 k_C h(eta) when k_C = k eta > 0."""
    kcot = k * jnp.cos(delta) / jnp.sin(delta)
    charged = kc > 0
    eta = jnp.where(charged, kc / k, 1.0)
    return jnp.where(charged, gamow_factor(eta) * kcot + 2 * kc * coulomb_h(eta), kcot)


def effective_range(
    potential: Callable,
    *,
    mass: Float[ArrayLike, ""],
    coulomb: Float[ArrayLike, ""] = 0.0,
    k_fit: Float[ArrayLike, " n"] = K_FIT,
    r_match: float = 25.0,
    rtol: float = 1e-12,
    atol: float = 1e-12,
) -> EffectiveRange:
    r"""Scattering length and effective range from the effective-range function at the momenta
    `k_fit`: the polynomial $K(k) = c_0 + c_1 k^2 + \ldots$ of degree `len(k_fit) - 1` in $k^2$
    through them gives $a = -1/c_0$, $r = 2c_1$ (particle-physics convention
    $k\cot\delta = -1/a + r k^2/2$; $f_0 = -a$ in the femtoscopy convention). For charged pairs
    the Coulomb-modified $a_C$, $r_C$. `k_fit` must lie well inside the radius of convergence of the
    expansion (below the nearest left-hand cut, about $m_\pi/2$, and the first zero of $\delta$).
    Differentiable in the potential's parameters. Float64.

    **Arguments:** `potential` V(r) [MeV]; `mass` the reduced mass [MeV]; `coulomb` = $Z_1 Z_2$
    ($\ge 0$); `k_fit` distinct positive momenta [fm^-1] (default 0.0125 ... 0.05, four points);
    `r_match` [fm]; `rtol`, `atol` integration tolerances (tighter than for a phase shift: the fit
    divides differences of $K$ by $k^2 \sim 10^{-3}$ fm^-2).

    **Returns:** `EffectiveRange(a, r)`, both in fm.
    """
    k_fit = np.asarray(k_fit, dtype=np.float64)
    if k_fit.ndim != 1 or k_fit.size < 2 or np.any(k_fit <= 0) or np.unique(k_fit).size != k_fit.size:
        raise ValueError(f"effective_range: k_fit must be >= 2 distinct positive momenta [fm^-1], got {k_fit}")
    name = "effective_range"
    _check_charges(name, coulomb)
    _, mass, l, coulomb, r_match = check_scattering_args(name, potential, 1.0, mass, 0, coulomb, r_match)
    return _effective_range(potential, k_fit, mass, l, coulomb, r_match, float(rtol), float(atol), SOLVER)


@eqx.filter_jit
def _effective_range(potential, ks, mass, l, coulomb, r_match, rtol, atol, name) -> EffectiveRange:
    # all momenta in one integration (one step sequence), so that the fit's differences between them
    # carry no step-size noise
    delta = integrate_radial(potential, ks, None, mass, l, coulomb, r_match, rtol, atol, name).delta
    K = _from_phase(delta, ks, coulomb_momentum(mass, coulomb))
    c = jnp.linalg.solve((ks**2)[:, None] ** jnp.arange(ks.size), K)
    return EffectiveRange(a=-1 / c[0], r=2 * c[1])
