r"""Coulomb wave functions $F_l(\eta, \rho)$, $G_l(\eta, \rho)$ and their derivatives, the Coulomb
phase $\sigma_l$, the Gamow factor and the function $h(\eta)$ of the Coulomb-modified effective-range
expansion, in JAX and float64.

$F_l$ and $G_l$ are the regular and irregular solutions of

$$ u''(\rho) = \left[\frac{2\eta}{\rho} + \frac{l(l+1)}{\rho^2} - 1\right] u(\rho), $$

normalised so that $F_l \to \sin\theta_l$, $G_l \to \cos\theta_l$ with
$\theta_l = \rho - \eta \ln 2\rho - l\pi/2 + \sigma_l$ as $\rho \to \infty$, and with Wronskian
$F_l' G_l - F_l G_l' = 1$ (primes: $d/d\rho$). For $\eta = 0$ they are the Riccati-Bessel functions
$F_l = \rho j_l(\rho)$, $G_l = -\rho y_l(\rho)$.

Method (Barnett's Steed algorithm, written afresh here):

- at and beyond $\rho_c = \max(\rho_{tp}, 1)$, with the turning point
  $\rho_{tp} = \eta + \sqrt{\eta^2 + l(l+1)}$: the continued fractions CF1 for $F_l'/F_l$ (modified
  Lentz, the sign of $F_l$ from the signs of its denominators) and CF2 for
  $(G_l' + iF_l')/(G_l + iF_l) = p + iq$, combined through the Wronskian;
- below $\rho_c$: $F_l$ from its power series (Abramowitz-Stegun 14.1.3) and $G_l$ by integrating
  the Coulomb equation inwards from $\rho_c$ in Pruefer variables with diffrax. $G_l$ is the
  dominant solution inwards, so its relative error stays at the integration tolerance.

Accuracy (tests/scattering/test_coulomb.py, against mpmath): relative error below 1e-10 for
$|\eta| \le 5$, $10^{-3} \le \rho \le 50$, $l \le 5$, except near zeros of $F$ or $G$, where the
error is below 1e-10 times $\sqrt{F^2 + G^2}$.

The continued fractions run in `lax.while_loop`s: derivatives with respect to $\eta$ and $\rho$ are
available in forward mode (`jax.jvp`, `jax.jacfwd`), not in reverse mode.
"""

from __future__ import annotations

from typing import NamedTuple

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jaxtyping import Array, ArrayLike, Float

__all__ = [
    "CoulombFunctions",
    "coulomb_functions",
    "coulomb_normalization",
    "coulomb_phase",
    "coulomb_h",
    "gamow_factor",
    "turning_point",
]

_TINY = 1e-300
_CF_TOL = 1e-15  # stop a continued fraction when its last factor is within this of 1
_CF_MAX_ITER = 100_000
_SERIES_TERMS = 90  # enough for rho <= rho_c up to |eta| ~ 10 (the terms fall like (2 eta rho)^m / m!^2)
_STIRLING_SHIFT = 12  # evaluate log-gamma / digamma at z + 12 with the asymptotic series
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)  # B_2 .. B_16


class CoulombFunctions(NamedTuple):
    """$F_l$, $dF_l/d\\rho$, $G_l$, $dG_l/d\\rho$ (dimensionless), each shaped like the broadcast
    of `eta` and `rho`."""

    F: Array
    dF: Array
    G: Array
    dG: Array


def require_x64(name: str) -> None:
    """Raise ValueError unless float64 is enabled (the scattering solvers need it)."""
    if not jax.config.jax_enable_x64:
        raise ValueError(
            f"{name} needs float64: call jax.config.update('jax_enable_x64', True) at start-up "
            "or run inside `with jax.enable_x64(True):`"
        )


def check_partial_wave(name: str, l: int) -> int:
    if isinstance(l, bool) or not isinstance(l, (int, np.integer)) or l < 0:
        raise ValueError(f"{name}: the partial wave l must be a Python int >= 0, got {l!r}")
    return int(l)


def turning_point(l: int, eta: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    r"""The outer classical turning point $\rho_{tp} = \eta + \sqrt{\eta^2 + l(l+1)}$ of the Coulomb
    equation (0 for $l = 0$, $\eta \le 0$), where $2\eta/\rho + l(l+1)/\rho^2 = 1$.

    **Arguments:** `l` partial wave (int >= 0); `eta` Sommerfeld parameter (dimensionless).

    **Returns:** $\rho_{tp}$ (dimensionless), shaped like `eta`.
    """
    eta = jnp.asarray(eta, dtype=float)
    return jnp.maximum(eta + jnp.sqrt(eta**2 + l * (l + 1)), 0.0)


def gamow_factor(eta: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    r"""The Gamow (Sommerfeld) factor $C_0^2(\eta) = A_c = 2\pi\eta / (e^{2\pi\eta} - 1)$, the
    probability density of the Coulomb wave at the origin relative to the plane wave (1 at $\eta = 0$).

    **Arguments:** `eta` Sommerfeld parameter $\eta = \alpha Z_1 Z_2 \mu / (\hbar c\, k)$.

    **Returns:** $C_0^2(\eta)$ (dimensionless), shaped like `eta`.
    """
    x = 2 * jnp.pi * jnp.asarray(eta, dtype=float)
    small = jnp.abs(x) < 1e-8
    safe = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 - x / 2, safe / jnp.expm1(safe))


def _log_gamma(z: Array) -> Array:
    """ln Gamma(z) (principal branch) for complex z with Re z >= 1: Stirling's series at z + 12,
    shifted back with ln Gamma(z) = ln Gamma(z + n) - sum_{j<n} ln(z + j)."""
    j = jnp.arange(_STIRLING_SHIFT, dtype=float).reshape((-1,) + (1,) * z.ndim)
    w = z + _STIRLING_SHIFT
    series = sum(b / ((2 * n + 2) * (2 * n + 1) * w ** (2 * n + 1)) for n, b in enumerate(_BERNOULLI))
    return (w - 0.5) * jnp.log(w) - w + 0.5 * jnp.log(2 * jnp.pi) + series - jnp.sum(jnp.log(z + j), axis=0)


def _digamma(z: Array) -> Array:
    """psi(z) for complex z with Re z >= 1: asymptotic series at z + 12, psi(z) = psi(z + n) - sum 1/(z + j)."""
    j = jnp.arange(_STIRLING_SHIFT, dtype=float).reshape((-1,) + (1,) * z.ndim)
    w = z + _STIRLING_SHIFT
    series = sum(b / ((2 * n + 2) * w ** (2 * n + 2)) for n, b in enumerate(_BERNOULLI))
    return jnp.log(w) - 1 / (2 * w) - series - jnp.sum(1 / (z + j), axis=0)


def _normalization(l: Array, eta: Array) -> Array:
    """C_l(eta) for a (possibly traced) float l: 2^l e^(-pi eta/2) |Gamma(l+1+i eta)| / Gamma(2l+2)."""
    log_c = (l * jnp.log(2.0) - jnp.pi * eta / 2 + _log_gamma(l + 1 + 1j * eta).real
             - jax.scipy.special.gammaln(2 * l + 2))
    return jnp.exp(log_c)


def coulomb_normalization(l: int, eta: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    r"""$C_l(\eta) = 2^l e^{-\pi\eta/2} |\Gamma(l + 1 + i\eta)| / (2l+1)!$, so that
    $F_l \approx C_l(\eta) \rho^{l+1}$ as $\rho \to 0$; $C_0^2$ is the Gamow factor.

    **Arguments:** `l` partial wave (int >= 0); `eta` Sommerfeld parameter.

    **Returns:** $C_l(\eta)$ (dimensionless), shaped like `eta`.
    """
    l = check_partial_wave("coulomb_normalization", l)
    return _normalization(jnp.asarray(float(l)), jnp.asarray(eta, dtype=float))


def coulomb_phase(l: int, eta: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    r"""The Coulomb phase $\sigma_l(\eta) = \arg\Gamma(l + 1 + i\eta)$, on the branch
    $\operatorname{Im}\ln\Gamma(l + 1 + i\eta)$ that is continuous in $\eta$ ($\sigma_l(0) = 0$), in
    radians; from Stirling's series of $\ln\Gamma$ at $l + 13 + i\eta$, shifted back by the recurrence.

    **Arguments:** `l` partial wave (int >= 0); `eta` Sommerfeld parameter.

    **Returns:** $\sigma_l$ [rad], shaped like `eta`.
    """
    l = check_partial_wave("coulomb_phase", l)
    return _log_gamma(l + 1 + 1j * jnp.asarray(eta, dtype=float)).imag


def coulomb_h(eta: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    r"""$h(\eta) = \eta^2 \sum_{n \ge 1} 1/(n(n^2 + \eta^2)) - \gamma_E - \ln|\eta|
    = \operatorname{Re}\psi(1 + i\eta) - \ln|\eta|$, the function of the Coulomb-modified
    effective-range expansion (note $\ln\eta$, not $\ln\eta^2$).

    **Arguments:** `eta` Sommerfeld parameter ($\ne 0$).

    **Returns:** $h(\eta)$ (dimensionless), shaped like `eta`.
    """
    eta = jnp.asarray(eta, dtype=float)
    return _digamma(1 + 1j * eta).real - jnp.log(jnp.abs(eta))


# --- Steed's method ------------------------------------------------------------------------------


def _cf1(l: Array, eta: Array, rho: Array) -> tuple[Array, Array, Array]:
    """F'/F by CF1, f = S_{l+1} - R_{l+1}^2 / (T_{l+1} - R_{l+2}^2 / (T_{l+2} - ...)), with
    S_j = j/rho + eta/j, R_j^2 = 1 + eta^2/j^2, T_j = S_j + S_{j+1} (modified Lentz).
    The sign of F_l is the product of the signs of the Lentz denominators D (Sturm sequence).
    Returns (f, sign of F, converged)."""
    s = lambda j: j / rho + eta / j
    f0 = s(l + 1.0)
    f0 = jnp.where(f0 == 0, _TINY, f0)

    def cond(state):
        n, _, _, _, _, factor = state
        return (jnp.abs(factor - 1) >= _CF_TOL) & (n < _CF_MAX_ITER)

    def body(state):
        n, f, c, d, sign, _ = state
        j = l + n
        a = -(1 + (eta / j) ** 2)
        b = s(j) + s(j + 1.0)
        d = b + a * d
        d = 1 / jnp.where(d == 0, _TINY, d)
        c = b + a / c
        c = jnp.where(c == 0, _TINY, c)
        factor = c * d
        return n + 1, f * factor, c, d, jnp.where(d < 0, -sign, sign), factor

    init = (jnp.ones((), int), f0, f0, jnp.zeros_like(f0), jnp.ones_like(f0), jnp.full_like(f0, 2.0))
    n, f, _, _, sign, _ = lax.while_loop(cond, body, init)
    return f, sign, n < _CF_MAX_ITER


def coulomb_cf2(l: Array, eta: Array, rho: Array) -> tuple[Array, Array, Array]:
    """p + iq = (G' + iF')/(G + iF) by CF2:
    p + iq = i(1 - eta/rho) + (i/rho) a_1/(b_1 + a_2/(b_2 + ...)),
    a_n = (i eta - l + n - 1)(i eta + l + n), b_n = 2(rho - eta + i n) (modified Lentz, complex).
    For eta = 0 the fraction terminates at n = l + 1. Returns (p, q, converged)."""

    def cond(state):
        n, _, _, _, factor = state
        return (jnp.abs(factor - 1) >= _CF_TOL) & (n < _CF_MAX_ITER)

    def body(state):
        n, f, c, d, _ = state
        a = (1j * eta - l + n - 1) * (1j * eta + l + n)
        b = 2 * (rho - eta + 1j * n)
        d = b + a * d
        d = 1 / jnp.where(d == 0, _TINY, d)
        c = b + a / c
        c = jnp.where(c == 0, _TINY, c)
        factor = c * d
        return n + 1, f * factor, c, d, factor

    tiny = jnp.asarray(_TINY + 0j, dtype=complex)
    init = (jnp.ones((), int), tiny, tiny, jnp.zeros((), complex), jnp.asarray(2.0 + 0j))
    n, f, _, _, _ = lax.while_loop(cond, body, init)
    pq = 1j * (1 - eta / rho) + (1j / rho) * f
    return pq.real, pq.imag, n < _CF_MAX_ITER


def steed(l: Array, eta: Array, rho: Array) -> CoulombFunctions:
    """F, F', G, G' at one (eta, rho) by Steed's method; accurate for rho >= max(rho_tp, 1).
    A continued fraction that does not converge raises an error."""
    f, sign, ok1 = _cf1(l, eta, rho)
    p, q, ok2 = coulomb_cf2(l, eta, rho)
    gamma = (f - p) / q
    F = sign / jnp.sqrt((f - p) * gamma + q)
    F = eqx.error_if(
        F, ~(ok1 & ok2),
        f"Coulomb functions: a continued fraction (CF1/CF2) did not converge in {_CF_MAX_ITER} "
        "iterations (l, eta, rho out of range?)",
    )
    G = gamma * F
    return CoulombFunctions(F, f * F, G, p * G - q * F)


def coulomb_series_f(l: Array, eta: Array, rho: Array) -> tuple[Array, Array]:
    """F = C_l rho^(l+1) sum_m a_m rho^m, a_0 = 1, a_1 = eta/(l+1),
    m (m + 2l + 1) a_m = 2 eta a_{m-1} - a_{m-2} (Abramowitz-Stegun 14.1.3); and F'."""

    def term(carry, m):
        a1, a2, power, total, dtotal = carry  # a_{m-1}, a_{m-2}, rho^(m-1)
        a = (2 * eta * a1 - a2) / (m * (m + 2 * l + 1))
        power = power * rho
        return (a, a1, power, total + a * power, dtotal + (m + l + 1) * a * power), None

    one = jnp.ones_like(rho)
    init = (one, jnp.zeros_like(rho), one, one, (l + 1.0) * one)
    (_, _, _, total, dtotal), _ = lax.scan(term, init, jnp.arange(1, _SERIES_TERMS, dtype=float))
    c = _normalization(l, eta)
    return c * rho ** (l + 1) * total, c * rho**l * dtotal


def _inward_g(l: Array, eta: Array, start: CoulombFunctions, rho0: Array, rho: Array) -> tuple[Array, Array]:
    """Integrate G inwards from rho0 (values `start`) to rho <= rho0 in Pruefer variables
    G = R sin(theta), G' = R cos(theta), against x = ln(rho) mapped onto t in [0, 1]."""
    span = jnp.log(rho) - jnp.log(rho0)

    def field(t, y, args):
        theta, _ = y
        r = rho0 * jnp.exp(t * span)
        p = 2 * eta / r + l * (l + 1) / r**2 - 1
        sin, cos = jnp.sin(theta), jnp.cos(theta)
        return span * r * jnp.stack([cos**2 - p * sin**2, (1 + p) * sin * cos])

    y0 = jnp.stack([jnp.arctan2(start.G, start.dG), 0.5 * jnp.log(start.G**2 + start.dG**2)])
    sol = dfx.diffeqsolve(
        dfx.ODETerm(field), dfx.Dopri8(), 0.0, 1.0, None, y0,
        stepsize_controller=dfx.PIDController(rtol=1e-13, atol=1e-13),
        max_steps=20_000, throw=False,
    )
    theta, log_r = eqx.error_if(
        sol.ys[-1], sol.result != dfx.RESULTS.successful,
        "Coulomb functions: the inward integration of G (diffrax Dopri8) failed or hit max_steps=20000",
    )
    return jnp.exp(log_r) * jnp.sin(theta), jnp.exp(log_r) * jnp.cos(theta)


def _coulomb_scalar(l: Array, eta: Array, rho: Array) -> tuple[Array, Array, Array, Array]:
    rho_c = jnp.maximum(turning_point(l, eta), 1.0)
    rho_s = jnp.maximum(rho, rho_c)
    outer = steed(l, eta, rho_s)
    inside = rho < rho_c
    f_in, df_in = coulomb_series_f(l, eta, jnp.minimum(rho, rho_c))
    g, dg = _inward_g(l, eta, outer, rho_s, jnp.minimum(rho, rho_s))
    return (
        jnp.where(inside, f_in, outer.F),
        jnp.where(inside, df_in, outer.dF),
        jnp.where(inside, g, outer.G),
        jnp.where(inside, dg, outer.dG),
    )


def coulomb_functions(l: int, eta: Float[ArrayLike, "..."], rho: Float[ArrayLike, "..."]) -> CoulombFunctions:
    r"""The Coulomb wave functions $F_l(\eta, \rho)$, $G_l(\eta, \rho)$ and their derivatives
    $dF_l/d\rho$, $dG_l/d\rho$, elementwise over the broadcast of `eta` and `rho`, in float64.

    They solve $u'' = [2\eta/\rho + l(l+1)/\rho^2 - 1]\,u$ with $F_l \sim C_l(\eta)\rho^{l+1}$ at
    the origin, $F_l \to \sin(\rho - \eta\ln 2\rho - l\pi/2 + \sigma_l)$ and
    $G_l \to \cos(\ldots)$ at infinity, and $F_l' G_l - F_l G_l' = 1$. For $\eta = 0$:
    $F_l = \rho j_l(\rho)$, $G_l = -\rho y_l(\rho)$ (Riccati-Bessel). Steed's continued fractions
    beyond $\max(\rho_{tp}, 1)$, power series for $F$ and inward integration for $G$ below (module
    docstring). Needs float64.

    **Arguments:**

    - `l`: partial wave, a Python int >= 0.
    - `eta`: Sommerfeld parameter $\eta = \alpha Z_1 Z_2 \mu/(\hbar c\, k)$ (> 0 repulsive).
    - `rho`: $\rho = k r$ (> 0).

    **Returns:** `CoulombFunctions(F, dF, G, dG)`, dimensionless arrays of the broadcast shape.
    """
    name = "coulomb_functions"
    require_x64(name)
    l = check_partial_wave(name, l)
    if not isinstance(rho, jax.core.Tracer) and np.any(np.asarray(rho) <= 0):
        raise ValueError(f"{name}: rho must be > 0, got {np.asarray(rho)}")
    return CoulombFunctions(*_coulomb_vectorized(np.asarray(float(l)), eta, rho))


@jax.jit
def _coulomb_vectorized(l: Array, eta: Array, rho: Array) -> tuple[Array, ...]:
    rho = eqx.error_if(jnp.asarray(rho, dtype=float), jnp.any(rho <= 0), "coulomb_functions: rho must be > 0")
    return jnp.vectorize(lambda e, r: _coulomb_scalar(l, e, r))(jnp.asarray(eta, dtype=float), rho)
