r"""The radial Schroedinger equation of two-body scattering: phase shifts and wave functions.

For partial wave $l$, reduced mass $\mu$ and charges $Z_1 Z_2$ the reduced radial wave function solves

$$ u''(r) = \left[\frac{2\mu V(r)}{(\hbar c)^2} + \frac{2\eta k}{r} + \frac{l(l+1)}{r^2} - k^2\right] u(r),
\qquad u(0) = 0,\ u \sim r^{l+1}, $$

with $\eta = \alpha Z_1 Z_2 \mu / (\hbar c\, k)$ (so $2\eta k = 2 k_C$, $k_C = \alpha Z_1 Z_2\mu/\hbar c$,
independent of $k$). Beyond the range of $V$,

$$ u(r) \to F_l(\eta, kr) \cos\delta_l + G_l(\eta, kr) \sin\delta_l, $$

which defines the phase shift $\delta_l$ (relative to Coulomb for charged pairs; for neutral pairs
$F_l = kr\,j_l(kr)$, $G_l = -kr\,y_l(kr)$ and $u \to \sin(kr - l\pi/2 + \delta_l)$).
Particle-physics convention: $k\cot\delta_0 = -1/a + r k^2/2 + \ldots$ (`dphys.scattering.effective_range`).

**Method.** The equation is integrated with diffrax (Dopri8, adaptive, float64) in Pruefer variables,
$u = R\sin\theta$, $u' = s R\cos\theta$ with $s = k$, which stay smooth where $u$ oscillates, grows or
is suppressed by a repulsive core, and never overflow. Three quantities are integrated from a small
$r_0$ (where the regular series $u = r^{l+1}(1 + c r + d r^2)$ starts them) to the matching radius:

- $\varphi_F = \theta_F - k r$, the Pruefer angle of the regular *free* solution ($V = 0$, Coulomb
  kept), which is a multiple of $F_l$;
- $\Delta = \theta - \theta_F$, integrated as its own equation
  $\Delta' = -(s + P_0/s)\sin(2\theta_F + \Delta)\sin\Delta - (U/s)\sin^2\theta$ with
  $U = 2\mu V/(\hbar c)^2$ and $P_0$ the free part of the bracket, so that $\Delta$ is exactly 0 for
  $V = 0$ and accurate in relative terms when small;
- $\ln R$.

Beyond the potential $\Delta$ is constant, and at the matching radius
$\tan\delta = (R_F \sin\Delta)/(R_G \sin(\alpha - \Delta))$ with $F = R_F\sin\theta_F$,
$G = R_G \sin(\theta_F + \alpha)$ (Steed's Coulomb functions). Since two solutions of the first-order
Pruefer equation never cross, $\delta$ lies in the same interval $(m\pi, (m+1)\pi)$ as $\Delta$: the phase
shift comes out absolutely, with $\delta(k \to \infty) \to 0$, continuous in $k$, and
$\delta(0) = N_b\pi$ (Levinson's theorem) without any unwrapping across $k$. So each $k$ is
independent and a vmap over $k$ is the batch.

The matching radius is $\max(r_\text{match}, \max r_\text{grid}, \rho_c/k)$ where
$\rho_c = \max(\rho_{tp}, 1)$ ($\rho_{tp}$ for neutral pairs) puts $kr$ beyond the turning point of the
Coulomb and centrifugal barrier, where Steed's method is accurate.

Delta shells and steps of $V$ (`AbstractPotential.discontinuities`) restart the integration at
their radius, applying $u'(b^+) = u'(b^-) + g u(b)$.

Everything is differentiable in the potential's parameters (reverse mode through diffrax's
recursive checkpointing); the Coulomb functions depend only on $k$, $\mu$ and the charges.
Needs float64 (`jax.config.update("jax_enable_x64", True)`).
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

from dphys.constants import ALPHA, HBARC
from dphys.scattering.coulomb import CoulombFunctions, check_partial_wave, require_x64, steed, turning_point

__all__ = ["RadialSolution", "phase_shift", "solve_radial", "wavefunction", "coulomb_momentum"]

R0 = 1e-4  # [fm] start of the outward integration
MAX_STEPS = 20_000  # per integration segment
SOLVER = "dphys.scattering radial solver"  # names run-time errors; one name, so one compilation serves
# phase_shift, wavefunction and solve_radial alike


class RadialSolution(NamedTuple):
    """`delta` [rad], the phase shift; `u` (dimensionless), $u_l(r)$ on the requested grid,
    normalised to $F_l\\cos\\delta + G_l\\sin\\delta$ beyond the potential (empty without a grid)."""

    delta: Float[Array, ""]
    u: Float[Array, " n"]


def coulomb_momentum(mass: Float[ArrayLike, ""], coulomb: Float[ArrayLike, ""]) -> Float[Array, ""]:
    r"""$k_C = \alpha Z_1 Z_2 \mu / \hbar c$ [fm^-1], the inverse Bohr radius of the pair
    ($\eta = k_C / k$). **Arguments:** `mass` reduced mass $\mu$ [MeV]; `coulomb` $Z_1 Z_2$."""
    return ALPHA * coulomb * jnp.asarray(mass) / HBARC


# --- validation ----------------------------------------------------------------------------------


def check_positive(name: str, what: str, unit: str, x: ArrayLike) -> Array | np.ndarray:
    """A positive finite scalar. Concrete: checked now (ValueError) and returned as a float64 NumPy
    scalar; traced: returned as it is, and `positive_at_run_time` checks it inside the compiled solver."""
    if isinstance(x, jax.core.Tracer):
        if x.ndim != 0:
            raise ValueError(f"{name}: {what} must be a scalar (vmap for batches), got shape {x.shape}")
        return x
    value = np.asarray(x, dtype=np.float64)
    if value.ndim != 0:
        raise ValueError(f"{name}: {what} must be a scalar (vmap for batches), got shape {value.shape}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name}: {what} must be a finite number > 0 [{unit}], got {float(value)}")
    return value


def positive_at_run_time(name: str, what: str, unit: str, x: Array) -> Array:
    """eqx.error_if for a traced value that must be finite and > 0 (a no-op for checked concrete ones)."""
    return eqx.error_if(x, jnp.any(~(jnp.isfinite(x) & (x > 0))),
                        f"{name}: {what} must be a finite number > 0 [{unit}]")


def check_potential(name: str, potential) -> None:
    if not callable(potential):
        raise ValueError(f"{name}: the potential must be a callable V(r) -> MeV, got {potential!r}")


def check_grid(name: str, r: ArrayLike) -> Array | np.ndarray:
    if isinstance(r, jax.core.Tracer):
        if r.ndim != 1:
            raise ValueError(f"{name}: r must be a 1D grid [fm], got shape {r.shape}")
        return r
    grid = np.asarray(r, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(f"{name}: r must be a non-empty 1D grid [fm], got shape {grid.shape}")
    if not (np.all(np.isfinite(grid)) and np.all(grid >= 0) and np.all(np.diff(grid) >= 0)):
        raise ValueError(f"{name}: r must be finite, >= 0 and ascending [fm], got {grid}")
    return grid


def check_coulomb(name: str, coulomb) -> Array | np.ndarray:
    if isinstance(coulomb, jax.core.Tracer):
        return coulomb
    value = np.asarray(coulomb, dtype=np.float64)
    if value.ndim != 0 or not np.isfinite(value):
        raise ValueError(f"{name}: coulomb (Z1 Z2) must be a finite scalar, got {coulomb}")
    return value


# --- the Pruefer integration, shared with the bound-state solver -----------------------------------


class Channel(eqx.Module):
    r"""What the radial equation needs: $u'' = [U(r) + l(l+1)/r^2 + 2k_C/r - q]\,u$ with
    $U = 2\mu V/(\hbar c)^2$, energy term $q$ ($k^2$ for scattering, $-\kappa^2$ for a bound state) and
    the Pruefer scale $s$ [fm^-1]."""

    potential: Callable
    l: Array
    two_mu: Array  # 2 mu / (hbar c)^2 [MeV^-1 fm^-2]
    kc: Array  # alpha Z1 Z2 mu / hbar c [fm^-1]
    q: Array  # [fm^-2]
    s: Array  # [fm^-1]

    def free(self, r):
        """P_0(r) = l(l+1)/r^2 + 2 k_C/r - q."""
        return self.l * (self.l + 1) / r**2 + 2 * self.kc / r - self.q

    def pot(self, r):
        """U(r) = 2 mu V(r) / (hbar c)^2 [fm^-2]."""
        return self.two_mu * self.potential(r)


def make_channel(potential, l: Array, mass: Array, coulomb: Array, q: Array, s: Array) -> Channel:
    return Channel(potential, l, 2 * mass / HBARC**2, coulomb_momentum(mass, coulomb), q, s)


def _field(r, y, ch: Channel):
    phi_f, delta, _ = y
    s = ch.s
    theta_f = phi_f + s * r
    theta = theta_f + delta
    q0 = s + ch.free(r) / s
    w = ch.pot(r) / s
    sin = jnp.sin(theta)
    return jnp.stack([
        -q0 * jnp.sin(theta_f) ** 2,
        -q0 * jnp.sin(2 * theta_f + delta) * jnp.sin(delta) - w * sin**2,
        (q0 + w) * sin * jnp.cos(theta),
    ])


def _initial_state(ch: Channel, r0: float) -> Array:
    """(phi_F, Delta, ln R) at r0 from the regular series u = r^(l+1) (1 + c r + d r^2) with
    P(r) ~ l(l+1)/r^2 + beta/r + gamma, beta and gamma of U read off r U(r) at r0 and 2 r0."""
    l, s = ch.l, ch.s
    w1, w2 = r0 * ch.pot(r0), 2 * r0 * ch.pot(2 * r0)
    gamma_u = (w2 - w1) / r0
    beta_u = w1 - gamma_u * r0

    def log_derivative(beta, gamma):  # u'/u at r0, minus (l+1)/r0
        c = beta / (2 * (l + 1))
        d = (beta * c + gamma) / (4 * l + 6)
        return c + (2 * d - c**2) * r0

    base = (l + 1) / r0
    y_free = base + log_derivative(2 * ch.kc, -ch.q)
    extra = log_derivative(2 * ch.kc + beta_u, -ch.q + gamma_u) - log_derivative(2 * ch.kc, -ch.q)
    y_full = y_free + extra
    theta_f = jnp.arctan2(s, y_free)
    delta = jnp.arctan2(-s * extra, y_free * y_full + s**2)
    log_r = (l + 1) * jnp.log(r0) + 0.5 * jnp.log1p((y_full / s) ** 2)
    return jnp.stack([theta_f - s * r0, delta, log_r])


def _shell_jump(y: Array, r: Array, g: Array, s: Array) -> Array:
    """Apply u'(b+) = u'(b-) + g u(b) in Pruefer variables: cot(theta) -> cot(theta) + g/s
    (the identity for g = 0). Extra components of y (the bound-state leg) pass through."""
    phi_f, delta, log_r = y[0], y[1], y[2]
    theta = phi_f + s * r + delta
    sin, cos, x = jnp.sin(theta), jnp.cos(theta), g / s
    turn = jnp.arctan2(-x * sin**2, 1 + x * sin * cos)
    jumped = jnp.stack([phi_f, delta + turn, log_r + 0.5 * jnp.log1p(2 * x * sin * cos + (x * sin) ** 2)])
    return jnp.concatenate([jumped, y[3:]])


def _segment_field(t, y, args):
    """d/dt on a segment r = r_a + t (r_b - r_a), t in [0, 1]. With a fourth component (bound states)
    the segment is either outward (Pruefer, the fourth frozen) or the inward leg (the Riccati equation
    y' = P - y^2 of the decaying solution's log-derivative, the Pruefer part frozen)."""
    ch, r_a, length, inward = args
    r = r_a + t * length
    outward = _field(r, y[:3], ch) * length
    if y.shape[0] == 3:
        return outward
    riccati = (ch.free(r) + ch.pot(r) - y[3] ** 2) * length
    zero = jnp.zeros_like(riccati)
    return jnp.where(inward, jnp.stack([zero, zero, zero, riccati]), jnp.concatenate([outward, zero[None]]))


def integrate(ch: Channel, r_end: Array, save: Array | None, *, rtol: float, atol: float, name: str,
              decay: tuple[Array, Array] | None = None) -> tuple[Array, Array | None]:
    """Integrate (phi_F, Delta, ln R) from R0 to r_end, segment by segment between the potential's
    discontinuities (applying the delta-shell jumps), as one `lax.scan` over segments around a single
    diffrax solve (one copy of the solver in the compiled program, whatever the number of segments).
    With `decay = (r_far, y_far)` a fourth component, the log-derivative of the decaying solution, is
    integrated inwards from r_far (where it is y_far) to r_end in a last segment.

    Returns the state at r_end and, if `save` is given, the states at the points of `save` clipped to
    [R0, r_end] (shape (len(save), 3))."""
    shells = tuple(getattr(ch.potential, "discontinuities", lambda: ())())
    start = jnp.asarray([R0])
    if shells:
        radii = jnp.stack([jnp.asarray(b, dtype=float) for b, _ in shells])
        strengths = jnp.stack([jnp.asarray(lam, dtype=float) for _, lam in shells])
        order = jnp.argsort(radii)
        radii, jumps = jnp.clip(radii[order], R0, r_end), ch.two_mu * strengths[order]
    else:
        radii = jumps = jnp.zeros((0,))
    starts = jnp.concatenate([start, radii])
    ends = jnp.concatenate([radii, r_end[None]])
    jumps = jnp.concatenate([jumps, jnp.zeros((1,))])
    inward = jnp.zeros(len(shells) + 1, dtype=bool)
    y0 = _initial_state(ch, R0)
    if decay is not None:
        r_far, y_far = decay
        starts, ends = jnp.append(starts, r_far), jnp.append(ends, r_end)
        jumps, inward = jnp.append(jumps, 0.0), jnp.append(inward, True)
        y0 = jnp.append(y0, y_far)
    last = jnp.arange(starts.size) == len(shells)  # the outward segment that ends at r_end

    def segment(carry, xs):
        y, saved = carry
        r_a, r_b, g, inw, is_last = xs
        length = r_b - r_a
        if save is None:
            saveat = dfx.SaveAt(t1=True)
        else:
            saveat = dfx.SaveAt(ts=jnp.clip((save - r_a) / jnp.where(length == 0, 1.0, length), 0.0, 1.0), t1=True)
        sol = dfx.diffeqsolve(
            dfx.ODETerm(_segment_field), dfx.Dopri8(), 0.0, 1.0, None, y, args=(ch, r_a, length, inw),
            saveat=saveat, stepsize_controller=dfx.PIDController(rtol=rtol, atol=atol),
            max_steps=MAX_STEPS, throw=False,
        )
        ys = eqx.error_if(
            sol.ys, sol.result == dfx.RESULTS.max_steps_reached,
            f"{name}: the radial integration (diffrax Dopri8) reached max_steps={MAX_STEPS}; "
            "is the potential very deep or rapidly varying? loosen rtol/atol",
        )
        ys = eqx.error_if(
            ys, (sol.result != dfx.RESULTS.successful) | ~jnp.all(jnp.isfinite(ys)),
            f"{name}: the radial integration (diffrax Dopri8) failed: non-finite state (the potential "
            "returned NaN/inf, or is more singular than 1/r at the origin)",
        )
        if save is not None:
            inside = (save >= r_a) & ((save < r_b) | is_last)
            saved = jnp.where(inside.reshape((-1,) + (1,) * (ys.ndim - 1)), ys[:-1], saved)
        return (_shell_jump(ys[-1], r_b, g, ch.s), saved), None

    saved = None if save is None else jnp.zeros((save.shape[0],) + y0.shape)
    (y, saved), _ = jax.lax.scan(segment, (y0, saved), (starts, ends, jumps, inward, last))
    return y, saved


def check_finite_potential(name: str, ch: Channel, r_end: Array) -> Channel:
    """A clear error when V(r) is NaN/inf on a probe grid over [R0, r_end]."""
    probe = R0 * (r_end / R0) ** jnp.linspace(0.0, 1.0, 96)
    values = ch.potential(probe)
    return eqx.error_if(
        ch, ~jnp.all(jnp.isfinite(values)),
        f"{name}: the potential returned a non-finite value (NaN or inf) for some r in [{R0}, r_match] fm",
    )


# --- scattering ----------------------------------------------------------------------------------


def _matching_radius(l: Array, eta: Array, k: Array, r_match: Array) -> Array:
    rho_c = jnp.maximum(turning_point(l, eta), jnp.where(eta == 0, 0.0, 1.0))
    return jnp.maximum(r_match, rho_c / k)


@eqx.filter_jit
def integrate_radial(potential, k, r, mass, l, coulomb, r_match, rtol, atol, name):
    """The phase shift (and u on the grid r, for a scalar k). `k` may also be a 1D array of momenta
    solved jointly in one integration with one step sequence (no grid then): their phase shifts then
    share one discretisation, so that differences between them (the effective-range fit) are smooth
    in the potential's parameters."""
    k = positive_at_run_time(name, "k", "fm^-1", k)
    mass = positive_at_run_time(name, "mass (the reduced mass)", "MeV", mass)
    ch = make_channel(potential, l, mass, coulomb, k**2, k)
    eta = ch.kc / k
    r_end = jnp.max(_matching_radius(l, eta, k, r_match if r is None else jnp.maximum(r_match, r[-1])))
    ch = check_finite_potential(name, ch, r_end)
    (phi_f, delta_end, log_r_end), saved = integrate(ch, r_end, r, rtol=rtol, atol=atol, name=name)

    cw = CoulombFunctions(*jnp.vectorize(lambda e, x: tuple(steed(l, e, x)))(eta, k * r_end))
    r_f, r_g = jnp.hypot(cw.F, cw.dF), jnp.hypot(cw.G, cw.dG)
    wronskian = cw.dF * cw.G - cw.F * cw.dG
    alpha = jnp.arctan2(wronskian, cw.F * cw.G + cw.dF * cw.dG)  # theta_G - theta_F, in (0, pi)
    m = jnp.floor(delta_end / jnp.pi)
    rest = delta_end - m * jnp.pi
    phase = m * jnp.pi + jnp.arctan2(r_f * jnp.sin(rest), r_g * jnp.sin(alpha - rest))
    if r is None:
        return RadialSolution(phase, jnp.zeros((0,)))

    # u = A (F cos delta + G sin delta) with A = R_end * amplitude; u = R sin(theta)
    amplitude = r_g * jnp.sin(alpha - delta_end) * jnp.cos(phase) + r_f * jnp.sin(delta_end) * jnp.sin(phase)
    phi, delta, log_r = saved.T
    rc = jnp.clip(r, R0, r_end)
    u = jnp.exp(log_r - log_r_end) * jnp.sin(phi + k * rc + delta) / amplitude
    return RadialSolution(phase, u * (jnp.minimum(r, R0) / R0) ** (l + 1))


def check_scattering_args(name, potential, k, mass, l, coulomb, r_match):
    require_x64(name)
    check_potential(name, potential)
    l = check_partial_wave(name, l)
    k = check_positive(name, "k", "fm^-1", k)
    mass = check_positive(name, "mass (the reduced mass)", "MeV", mass)
    r_match = check_positive(name, "r_match", "fm", r_match)
    return k, mass, np.asarray(float(l)), check_coulomb(name, coulomb), r_match


def solve_radial(
    potential: Callable,
    k: Float[ArrayLike, ""],
    r: Float[ArrayLike, " n"] | None = None,
    *,
    mass: Float[ArrayLike, ""],
    l: int = 0,
    coulomb: Float[ArrayLike, ""] = 0.0,
    r_match: float = 25.0,
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> RadialSolution:
    r"""Solve the radial Schroedinger equation at one momentum: the phase shift $\delta_l(k)$ and the
    wave function $u_l(r)$ normalised to $F_l(\eta, kr)\cos\delta_l + G_l(\eta, kr)\sin\delta_l$
    beyond the potential (module docstring for the equation and method). Float64.

    $\delta_l$ is the phase shift relative to Coulomb for charged pairs, continuous in $k$,
    $\delta_l \to 0$ as $k \to \infty$ and $\delta_l(0^+) = N_b \pi$ with $N_b$ bound states
    (Levinson). Particle-physics sign: an attractive potential without bound state has $\delta > 0$.

    **Arguments:**

    - `potential`: `V(r) -> MeV` with `r` in fm (an `AbstractPotential` or any such callable).
    - `k`: relative momentum [fm^-1] (> 0; a scalar: vmap over `k` for many momenta).
    - `r`: optional ascending grid [fm] (>= 0) on which to return $u_l(r)$.
    - `mass`: the *reduced* mass $\mu$ [MeV] (e.g. $m/2$ for equal masses).
    - `l`: partial wave (Python int >= 0).
    - `coulomb`: $Z_1 Z_2$ (0: no Coulomb; 1: pp).
    - `r_match`: radius [fm] beyond which the potential is negligible (matching radius; moved out
      to the grid's end or beyond the Coulomb/centrifugal turning point when needed).
    - `rtol`, `atol`: tolerances of the adaptive integration.

    **Returns:** `RadialSolution(delta, u)`: `delta` [rad] and `u` like `r` (dimensionless;
    empty if `r` is None).
    """
    name = "solve_radial"
    k, mass, l_arr, coulomb, r_match = check_scattering_args(name, potential, k, mass, l, coulomb, r_match)
    r = None if r is None else check_grid(name, r)
    return integrate_radial(potential, k, r, mass, l_arr, coulomb, r_match, float(rtol), float(atol), SOLVER)


def phase_shift(
    potential: Callable,
    k: Float[ArrayLike, ""],
    *,
    mass: Float[ArrayLike, ""],
    l: int = 0,
    coulomb: Float[ArrayLike, ""] = 0.0,
    r_match: float = 25.0,
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> Float[Array, ""]:
    r"""The phase shift $\delta_l(k)$ [rad] of `potential` (relative to Coulomb when `coulomb` != 0),
    defined by $u_l \to F_l\cos\delta_l + G_l\sin\delta_l$; continuous in $k$ with
    $\delta_l(\infty) = 0$ and $\delta_l(0^+) = N_b\pi$ (Levinson). Particle-physics convention:
    $k\cot\delta_0 = -1/a + r k^2/2$. Float64; one `k`, vmap for many.

    **Arguments:** as `solve_radial` (`potential` V(r) [MeV], `k` [fm^-1], `mass` the reduced mass
    [MeV], `l`, `coulomb` = $Z_1 Z_2$, `r_match` [fm], `rtol`, `atol`).

    **Returns:** $\delta_l(k)$ [rad], a scalar.
    """
    name = "phase_shift"
    k, mass, l_arr, coulomb, r_match = check_scattering_args(name, potential, k, mass, l, coulomb, r_match)
    return integrate_radial(potential, k, None, mass, l_arr, coulomb, r_match, float(rtol), float(atol), SOLVER).delta


def wavefunction(
    potential: Callable,
    k: Float[ArrayLike, ""],
    r: Float[ArrayLike, " n"],
    *,
    mass: Float[ArrayLike, ""],
    l: int = 0,
    coulomb: Float[ArrayLike, ""] = 0.0,
    r_match: float = 25.0,
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> Float[Array, " n"]:
    r"""The reduced radial wave function $u_l(r)$ on the grid `r`, normalised so that beyond the
    potential $u_l = F_l(\eta, kr)\cos\delta_l + G_l(\eta, kr)\sin\delta_l$ (neutral:
    $\sin(kr - l\pi/2 + \delta_l)$). For $V = 0$ it is $F_l(\eta, kr)$ (Riccati-Bessel $kr\,j_l(kr)$
    without Coulomb). The full 3D partial wave is $u_l(r)/(kr)$. Float64; one `k` per call: under
    `jax.vmap` over `k` the same grid serves every momentum.

    **Arguments:** `potential` V(r) [MeV]; `k` [fm^-1] (> 0); `r` ascending grid [fm] (>= 0);
    `mass` the reduced mass [MeV]; `l`; `coulomb` = $Z_1 Z_2$; `r_match` [fm]; `rtol`, `atol`.

    **Returns:** $u_l(r)$ (dimensionless), shaped like `r`.
    """
    name = "wavefunction"
    k, mass, l_arr, coulomb, r_match = check_scattering_args(name, potential, k, mass, l, coulomb, r_match)
    r = check_grid(name, r)
    return integrate_radial(potential, k, r, mass, l_arr, coulomb, r_match, float(rtol), float(atol), SOLVER).u
