r"""Bound states of the radial Schroedinger equation by root finding (optimistix bisection).

At energy $E = -B = -(\hbar c\,\kappa)^2/(2\mu)$ the regular solution is integrated outwards in Pruefer
variables with a fixed scale $s$ (`dphys.scattering.radial`) to a matching point $r_m$ just beyond the
outer classical turning point and every delta shell or step of $V$. Its Pruefer angle $\theta(r_m)$
counts the nodes and rises monotonically with $E$ (Sturm). The decaying solution's log-derivative
$y = u'/u$ at $r_m$ comes from the Riccati equation $y' = P(r) - y^2$ integrated inwards from
$r_m + 12/\kappa$, started on the WKB value $-\sqrt{P}$: inwards the decaying solution is the stable
one, so the start error is damped by $e^{-24}$. Both legs run in one diffrax solve (a scan over
segments). Any $l$ and a repulsive Coulomb tail are handled alike. The state with $n$ nodes satisfies

$$ f_n(\kappa) = \theta(r_m; \kappa) - \operatorname{atan2}(s, y(r_m; \kappa)) - n\pi = 0, $$

with $f_n$ decreasing in $\kappa$ and its sign independent of $r_m$ beyond the turning point (matching
there, not far out, keeps $f_n$ well conditioned: far out the outward solution's growing part makes
$f_n$ a near-step). The number of bound states is the number of $n$ with $f_n(\kappa_\min) > 0$
(states bound by less than $(\hbar c\,\kappa_\min)^2/2\mu$ are not resolved).

Derivatives: a custom VJP applies the implicit function theorem at the root,
$d\kappa/dp = -(\partial f/\partial p)/(\partial f/\partial\kappa)$, with $\partial f/\partial p$ by
reverse mode through diffrax and $\partial f/\partial\kappa$ by a central difference; the bisection
itself is never differentiated. Float64.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float, Int

from dphys.constants import HBARC
from dphys.scattering.coulomb import check_partial_wave, require_x64
from dphys.scattering.radial import (
    R0,
    Channel,
    check_coulomb,
    check_finite_potential,
    check_positive,
    check_potential,
    integrate,
    make_channel,
    positive_at_run_time,
)

__all__ = ["binding_energy", "count_bound_states"]

_SCALE = 1.0  # Pruefer scale s [fm^-1] of the bound-state integration
_DECAY_LENGTHS = 12.0  # the inward Riccati integration starts this many 1/kappa beyond the matching point
_GRID = 2001  # grid (quadratic in r) for the turning point and the depth of the potential
_BISECTION_STEPS = 100
_MARGIN = 0.1  # [fm] the matching point lies this far beyond the outer turning point


def _grid(r_match: Array) -> Array:
    return R0 + (r_match - R0) * jnp.linspace(0.0, 1.0, _GRID) ** 2


def _matching_point(ch: Channel, r_match: Array) -> Array:
    """Where the outward and decaying solutions meet: just beyond the outer classical turning point
    at this energy (last grid point with P(r) < 0) and beyond every delta shell or step of V. Beyond
    it the decaying solution has no node, and matching there is well conditioned (far out, the
    outward solution's growing part would make the matching function a near-step in kappa)."""
    grid = _grid(r_match)
    allowed = ch.free(grid) + ch.pot(grid) < 0
    r_tp = jnp.max(jnp.where(allowed, grid, 0.0))
    shells = tuple(getattr(ch.potential, "discontinuities", lambda: ())())
    r_shell = jnp.max(jnp.stack([jnp.asarray(b, dtype=float) for b, _ in shells])) if shells else 0.0
    spacing = 2 * (r_match - R0) / _GRID
    point = jnp.maximum(r_tp, r_shell) + _MARGIN + spacing
    return jax.lax.stop_gradient(jnp.minimum(point, r_match))


def _channel(args, kappa: Array) -> Channel:
    potential, _, l, mass, coulomb, _ = args
    return make_channel(potential, l, mass, coulomb, -(kappa**2), jnp.asarray(_SCALE))


def _matching(kappa: Array, r_m: Array, args, rtol: float, atol: float, name: str) -> Array:
    """f_n(kappa) = theta_out(r_m) - atan2(s, y_decay(r_m)) - n pi, matched at r_m;
    args = (potential, n, l, mass, coulomb, r_match)."""
    ch = _channel(args, kappa)
    r_far = r_m + _DECAY_LENGTHS / kappa
    y_far = -jnp.sqrt(jnp.maximum(ch.free(r_far) + ch.pot(r_far), kappa**2 / 4))  # WKB start
    (phi_f, delta, _, y), _ = integrate(ch, r_m, None, rtol=rtol, atol=atol, name=name, decay=(r_far, y_far))
    theta = phi_f + _SCALE * r_m + delta
    return theta - jnp.arctan2(_SCALE, y) - args[1] * jnp.pi


def _kappa_max(potential, mass: Array, r_match: Array) -> Array:
    """An upper bound on kappa of any bound state: from min V on a dense grid and the delta shells
    (for a shell g delta(r - b), kappa <= |g|)."""
    depth = jnp.maximum(-jnp.min(potential(_grid(r_match))), 0.0)
    two_mu = 2 * mass / HBARC**2
    shells = tuple(getattr(potential, "discontinuities", lambda: ())())
    kappa2 = two_mu * depth + sum((two_mu * jnp.minimum(lam, 0.0)) ** 2 for _, lam in shells)
    return jax.lax.stop_gradient(1.05 * jnp.sqrt(kappa2) + 1e-3)


def _prepare(name, potential, mass, l, coulomb, r_match, kappa_min):
    require_x64(name)
    check_potential(name, potential)
    l = check_partial_wave(name, l)
    mass = check_positive(name, "mass (the reduced mass)", "MeV", mass)
    r_match = check_positive(name, "r_match", "fm", r_match)
    kappa_min = check_positive(name, "kappa_min", "fm^-1", kappa_min)
    return mass, np.asarray(float(l)), check_coulomb(name, coulomb), r_match, kappa_min


def _checked_args(name, potential, n, l, mass, coulomb, r_match, kappa_min):
    mass = positive_at_run_time(name, "mass (the reduced mass)", "MeV", mass)
    args = (potential, n, l, mass, coulomb, r_match)
    potential = check_finite_potential(name, _channel(args, kappa_min), r_match).potential
    return (potential,) + args[1:]


@eqx.filter_jit
def _count(potential, mass, l, coulomb, r_match, kappa_min, rtol, atol, name):
    args = _checked_args(name, potential, 0.0, l, mass, coulomb, r_match, kappa_min)
    r_m = _matching_point(_channel(args, kappa_min), r_match)
    f = _matching(kappa_min, r_m, args, rtol, atol, name)
    return jnp.maximum(jnp.ceil(f / jnp.pi), 0).astype(int)


def count_bound_states(
    potential: Callable,
    *,
    mass: Float[ArrayLike, ""],
    l: int = 0,
    coulomb: Float[ArrayLike, ""] = 0.0,
    r_match: float = 25.0,
    kappa_min: float = 1e-3,
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> Int[Array, ""]:
    r"""The number of bound states in partial wave `l` (nodes of the regular solution at
    $E = -(\hbar c\,\kappa_\min)^2/2\mu$, Sturm's oscillation theorem). Equal to $\delta_l(0^+)/\pi$
    by Levinson's theorem. Float64.

    **Arguments:** `potential` V(r) [MeV]; `mass` the reduced mass [MeV]; `l`; `coulomb` = $Z_1 Z_2$
    ($\ge 0$); `r_match` [fm] beyond which V is negligible; `kappa_min` [fm^-1], states bound by
    less than $(\hbar c\,\kappa_\min)^2/2\mu$ are not counted; `rtol`, `atol` integration tolerances.

    **Returns:** the number of bound states, an int scalar.
    """
    name = "count_bound_states"
    mass, l_arr, coulomb, r_match, kappa_min = _prepare(name, potential, mass, l, coulomb, r_match, kappa_min)
    return _count(potential, mass, l_arr, coulomb, r_match, kappa_min, float(rtol), float(atol), name)


def _find_kappa(diff, static) -> Array:
    """kappa of the bound state by bisection on f_n (decreasing in kappa), without gradients."""
    potential, mass = diff
    n, l, coulomb, r_match, kappa_min, rtol, atol, name = static
    args = (potential, n, l, mass, coulomb, r_match)

    def match(kappa, args):
        return _matching(kappa, _matching_point(_channel(args, kappa), r_match), args, rtol, atol, name)

    kappa_max = _kappa_max(potential, mass, r_match)
    sol = optx.root_find(
        match, optx.Bisection(rtol=1e-12, atol=1e-12, flip=True), 0.5 * (kappa_min + kappa_max), args,
        options=dict(lower=kappa_min, upper=kappa_max), max_steps=_BISECTION_STEPS, throw=False,
    )
    root, lower, upper = sol.value, sol.state.lower, sol.state.upper
    # Without a sign change in [kappa_min, kappa_max] the bisection runs into an end of the interval.
    root = eqx.error_if(
        root, (root - kappa_min < 1e-9 * kappa_max) | (kappa_max - root < 1e-9 * kappa_max),
        f"{name}: no bound state with this many nodes: the potential has fewer bound states in this "
        "partial wave (or they are bound by less than the kappa_min threshold)",
    )
    # |f| < atol may stay out of reach by the integration's noise; a narrow bracket is success too.
    return eqx.error_if(
        root, (sol.result != optx.RESULTS.successful) & (upper - lower > 1e-9 * root),
        f"{name}: the bisection (optimistix) did not converge in {_BISECTION_STEPS} steps",
    )


@eqx.filter_custom_vjp
def _kappa(diff, static) -> Array:
    return _find_kappa(diff, static)


@_kappa.def_fwd
def _kappa_fwd(perturbed, diff, static):
    kappa = _find_kappa(diff, static)
    return kappa, kappa


@_kappa.def_bwd
def _kappa_bwd(kappa, grad, perturbed, diff, static):
    """Implicit function theorem: d kappa/dp = -(df/dp)/(df/dkappa) at the root, with df/dp by
    reverse mode through diffrax and df/dkappa by a central difference (h = 1e-4 kappa), all three
    evaluations in one vmapped call (one copy of the solver in the compiled program)."""
    n, l, coulomb, r_match, _, rtol, atol, name = static
    r_m = _matching_point(_channel((diff[0], n, l, diff[1], coulomb, r_match), kappa), r_match)
    h = 1e-4 * kappa

    def stencil(diff):
        args = (diff[0], n, l, diff[1], coulomb, r_match)
        return jax.vmap(lambda k: _matching(k, r_m, args, rtol, atol, name))(kappa + jnp.array([-h, 0.0, h]))

    f, vjp = eqx.filter_vjp(stencil, diff)
    slope = (f[2] - f[0]) / (2 * h)
    (out,) = vjp(jnp.array([0.0, -grad / slope, 0.0]))
    return out


@eqx.filter_jit
def _binding(potential, n, mass, l, coulomb, r_match, kappa_min, rtol, atol, name):
    args = _checked_args(name, potential, n, l, mass, coulomb, r_match, kappa_min)
    kappa = _kappa((args[0], mass), (n, l, coulomb, r_match, kappa_min, rtol, atol, name))
    return (HBARC * kappa) ** 2 / (2 * mass)


def binding_energy(
    potential: Callable,
    *,
    mass: Float[ArrayLike, ""],
    n: int = 0,
    l: int = 0,
    coulomb: Float[ArrayLike, ""] = 0.0,
    r_match: float = 25.0,
    kappa_min: float = 1e-3,
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> Float[Array, ""]:
    r"""The binding energy $B_n > 0$ [MeV] of the bound state with `n` nodes ($n = 0$: the ground state)
    in partial wave `l`: $E = -B = -(\hbar c\,\kappa)^2/2\mu$, found by bisection (optimistix) on the
    matching function of the outward and decaying solutions (module docstring). Differentiable in the
    potential's parameters (implicit function theorem). Raises a clear error if the state does not
    exist. Float64.

    **Arguments:** `potential` V(r) [MeV]; `mass` the reduced mass [MeV]; `n` number of nodes
    (int >= 0); `l`; `coulomb` = $Z_1 Z_2$ ($\ge 0$); `r_match` [fm] beyond which V is negligible;
    `kappa_min` [fm^-1] the shallowest resolvable state; `rtol`, `atol` integration tolerances.

    **Returns:** $B$ [MeV], a positive scalar.
    """
    name = "binding_energy"
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"{name}: n (the number of nodes) must be a Python int >= 0, got {n!r}")
    mass, l_arr, coulomb, r_match, kappa_min = _prepare(name, potential, mass, l, coulomb, r_match, kappa_min)
    return _binding(potential, np.asarray(float(n)), mass, l_arr, coulomb, r_match, kappa_min,
                    float(rtol), float(atol), name)
