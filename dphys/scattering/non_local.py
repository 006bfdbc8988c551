r"""s-wave scattering by non-local potentials $U(\mathbf r, \mathbf r')$ (plus an optional local part).

**Kernel convention.** A rotationally invariant non-local potential acts on the s-wave as

$$ \int d^3r'\, U(\mathbf r, \mathbf r')\,\frac{u(r')}{r'} = \frac{1}{r}\int_0^\infty dr'\, W(r, r')\, u(r'),
\qquad W(r, r') = r\,r' \int d\Omega'\, U(\mathbf r, \mathbf r'), $$

so that the reduced radial wave function solves

$$ -\frac{(\hbar c)^2}{2\mu} u''(r) + V(r)\,u(r) + \int_0^\infty W(r, r')\,u(r')\,dr' = E\,u(r),
\qquad u(0) = 0. $$

Every non-local potential here is a callable `W(r, r') -> MeV fm^-1`, the **s-wave radial kernel**,
symmetric in its arguments (Hermitian), elementwise and broadcasting; $V(r)$ [MeV] is an ordinary
local potential (`dphys.scattering.potentials`). A local potential is the kernel
$W(r, r') = V(r)\,\delta(r - r')$.

**Method** (`nonlocal_phase_shift`). The regular solution normalised as $u = \sin kr + O(f)$ solves
the Volterra-type integral equation

$$ u(r) = \sin kr + \frac1k\int_0^r \sin k(r - r')\, f(r')\,dr', \qquad
   f = \frac{2\mu}{(\hbar c)^2}\Big[V u + \int_0^{r_\max} W(\cdot, r') u(r')\,dr'\Big], $$

and beyond the range of the potential $u = \sin kr\,(1 + I_c/k) - \cos kr\, I_s/k$ with
$I_{s,c} = \int_0^{r_\max} \{\sin, \cos\}(kr) f\,dr$, so

$$ \tan\delta_0 = -\frac{I_s}{k + I_c}. $$

Writing $\sin k(r - r') = \sin kr\cos kr' - \cos kr\sin kr'$ turns the integral into two
*indefinite* integrals of smooth functions, which a composite Chebyshev quadrature (`chebyshev_quadrature`:
panels of Chebyshev points, the exact cumulative integral of each panel's interpolant) evaluates with
spectral accuracy; the non-local term uses the same nodes and weights (Nystroem). What is left is one
dense linear solve of size `n` per momentum: exact up to the quadrature, differentiable in the
potential's parameters, and never singular at $\delta = \pi/2$ (the normalisation at the origin is
fixed, not the asymptotic one). Neutral pairs, $l = 0$.

The phase shift comes out modulo $\pi$, in $(-\pi/2, \pi/2]$ (the local solver
`dphys.scattering.phase_shift` gives the absolute one; $k\cot\delta$, $a$ and $r$ do not depend on
the branch). Particle-physics convention $k\cot\delta_0 = -1/a + r k^2/2$.

**Exact check** (`Yamaguchi`): for $W(r, r') = -\lambda\,e^{-\beta r}e^{-\beta r'}$ and
$\Lambda = 2\mu\lambda/(\hbar c)^2$,

$$ k\cot\delta_0 = \frac{(\beta^2 + k^2)^2}{\Lambda} - \frac{\beta^2 - k^2}{2\beta}, $$

whose pole condition $k\cot\delta = -\kappa$ at $k = i\kappa$ is the bound-state condition
$\Lambda = 2\beta(\beta + \kappa)^2$, derived independently from the Green's function
$\sinh(\kappa r_<)e^{-\kappa r_>}/\kappa$ (this fixes the sign that published versions differ in).
Float64 throughout.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from dphys.constants import HBARC
from dphys.scattering.coulomb import require_x64
from dphys.scattering.observables import EffectiveRange
from dphys.scattering.potentials import as_parameter
from dphys.scattering.radial import check_positive

__all__ = [
    "AbstractNonlocalPotential",
    "GaussianKernel",
    "RadialQuadrature",
    "Yamaguchi",
    "nonlocal_effective_range",
    "nonlocal_phase_shift",
    "chebyshev_quadrature",
]

PANELS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.25, 3.25, 4.5, 6.0, 8.0, 10.5, 13.5, 17.0, 21.0, 25.0)  # [fm]
NODES = 24  # Chebyshev points per panel


# --- quadrature -------------------------------------------------------------------------------------


class RadialQuadrature(NamedTuple):
    """Composite Chebyshev quadrature on $[0, r_\\max]$: nodes `r` [fm] (ascending, interior to
    each panel), weights `w` [fm] ($\\int_0^{r_\\max} f \\approx w\\cdot f$) and the cumulative matrix
    `cumulative` [fm] ($\\int_0^{r_i} f \\approx$ `(cumulative @ f)[i]`), all exact for polynomials of
    degree < `nodes` on each panel."""

    r: Float[Array, " n"]
    w: Float[Array, " n"]
    cumulative: Float[Array, "n n"]


def chebyshev_quadrature(panels: tuple[float, ...] = PANELS, nodes: int = NODES) -> RadialQuadrature:
    r"""Build the composite Chebyshev quadrature of `nonlocal_phase_shift` (module docstring).

    **Arguments:** `panels` ascending panel edges [fm] starting at 0 (the last one is $r_\max$,
    beyond which the potential must be negligible); `nodes` Chebyshev points (first kind) per panel.

    **Returns:** `RadialQuadrature(r, w, cumulative)` as float64 NumPy arrays.
    """
    edges = np.asarray(panels, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or edges[0] != 0 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"chebyshev_quadrature: panels must be ascending edges [fm] starting at 0, got {panels}")
    if isinstance(nodes, bool) or not isinstance(nodes, (int, np.integer)) or nodes < 2:
        raise ValueError(f"chebyshev_quadrature: nodes must be an int >= 2, got {nodes!r}")
    cheb = np.polynomial.chebyshev
    x = -np.cos(np.pi * (np.arange(nodes) + 0.5) / nodes)  # ascending in (-1, 1)
    vander_inv = np.linalg.inv(cheb.chebvander(x, nodes - 1))
    eye = np.eye(nodes)
    antideriv = np.stack([cheb.chebint(eye[j], lbnd=-1) for j in range(nodes)])  # (basis, coeffs)
    local = cheb.chebval(x, antideriv.T).T @ vander_inv  # (nodes, nodes) on [-1, 1]
    total = cheb.chebval(1.0, antideriv.T) @ vander_inv  # (nodes,)
    n_panels = edges.size - 1
    half = np.diff(edges) / 2
    r = (edges[:-1, None] + half[:, None] * (x + 1)).ravel()
    w = (half[:, None] * total).ravel()
    cumulative = np.zeros((r.size, r.size))
    for p in range(n_panels):
        rows = slice(p * nodes, (p + 1) * nodes)
        cumulative[rows, : p * nodes] = w[: p * nodes]
        cumulative[rows, rows] = half[p] * local
    return RadialQuadrature(r, w, cumulative)


# --- potentials -------------------------------------------------------------------------------------


class AbstractNonlocalPotential(eqx.Module):
    r"""A rotationally invariant non-local potential, given by its s-wave radial kernel
    $W(r, r') = r r' \int d\Omega'\, U(\mathbf r, \mathbf r')$ [MeV fm^-1] (module docstring): a
    callable `W(r, r')`, elementwise and broadcasting, symmetric in its arguments.

    Subclasses implement `__call__(r, rp)`. Smooth kernels that vanish beyond the quadrature's
    $r_\max$ are integrated with spectral accuracy.
    """

    @abc.abstractmethod
    def __call__(self, r: Float[ArrayLike, "..."], rp: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
        """W(r, r') [MeV fm^-1] at `r`, `rp` [fm]."""


class Yamaguchi(AbstractNonlocalPotential):
    r"""The Yamaguchi separable potential (Yamaguchi, Phys. Rev. 95 (1954) 1628):
    $U(\mathbf r, \mathbf r') = -\frac{\lambda}{4\pi}\,g(r)g(r')$ with $g(r) = e^{-\beta r}/r$, i.e. the
    s-wave kernel

    $$ W(r, r') = -\lambda\, e^{-\beta r} e^{-\beta r'} $$

    ($\lambda > 0$ attractive). In momentum space this is $-\lambda'\,(p^2+\beta^2)^{-1}(p'^2+\beta^2)^{-1}$.
    Exact s-wave scattering (module docstring), with $\Lambda = 2\mu\lambda/(\hbar c)^2$ [fm^-3]:
    $k\cot\delta_0 = (\beta^2+k^2)^2/\Lambda - (\beta^2-k^2)/(2\beta)$, so
    $a = 2\Lambda/(\beta(\Lambda - 2\beta^3))$, $r = 1/\beta + 4\beta^2/\Lambda$; a bound state exists iff
    $\Lambda > 2\beta^3$, with $\kappa = \sqrt{\Lambda/(2\beta)} - \beta$.

    `Yamaguchi.from_scattering(a, beta, mass)` sets $\lambda$ from a scattering length.

    **Fields:** `lam` [MeV fm^-1] strength, `beta` [fm^-1] inverse range.
    """

    lam: Float[Array, ""] = eqx.field(converter=as_parameter)
    beta: Float[Array, ""] = eqx.field(converter=as_parameter)

    def __call__(self, r, rp):
        return -self.lam * jnp.exp(-self.beta * (jnp.asarray(r) + jnp.asarray(rp)))

    def strength(self, mass: float) -> Array:
        r"""$\Lambda = 2\mu\lambda/(\hbar c)^2$ [fm^-3] for the reduced mass `mass` [MeV]."""
        return 2 * mass * self.lam / HBARC**2

    def k_cot_delta(self, k: Float[ArrayLike, "..."], mass: float) -> Float[Array, "..."]:
        r"""The exact $k\cot\delta_0$ [fm^-1] at momenta `k` [fm^-1] (reduced mass `mass` [MeV])."""
        k2, b2 = jnp.asarray(k) ** 2, self.beta**2
        return (b2 + k2) ** 2 / self.strength(mass) - (b2 - k2) / (2 * self.beta)

    def phase_shift(self, k: Float[ArrayLike, "..."], mass: float) -> Float[Array, "..."]:
        r"""The exact $\delta_0(k)$ [rad] modulo $\pi$, in $(-\pi/2, \pi/2]$ (as `nonlocal_phase_shift`)."""
        k = jnp.asarray(k)
        return _fold(jnp.arctan2(k, self.k_cot_delta(k, mass)))

    def effective_range(self, mass: float) -> EffectiveRange:
        """The exact scattering length and effective range [fm] (particle-physics sign)."""
        lam, b = self.strength(mass), self.beta
        return EffectiveRange(a=2 * lam / (b * (lam - 2 * b**3)), r=1 / b + 4 * b**2 / lam)

    def binding_energy(self, mass: float) -> Array:
        r"""The exact binding energy $B = (\hbar c\,\kappa)^2/2\mu$ [MeV] (NaN when unbound)."""
        kappa = jnp.sqrt(self.strength(mass) / (2 * self.beta)) - self.beta
        return jnp.where(kappa > 0, (HBARC * kappa) ** 2 / (2 * mass), jnp.nan)

    @classmethod
    def from_scattering(cls, a: float, beta: float, mass: float) -> Yamaguchi:
        r"""The Yamaguchi potential of inverse range `beta` [fm^-1] with scattering length `a` [fm]
        (particle-physics sign) for reduced mass `mass` [MeV]: $\Lambda = 2\beta^4 a/(\beta a - 2)$."""
        big = 2 * beta**4 * a / (beta * a - 2)
        if not big > 0:
            raise ValueError(
                f"Yamaguchi.from_scattering: no attractive potential has a = {a} fm with beta = {beta} fm^-1")
        return cls(lam=big * HBARC**2 / (2 * mass), beta=beta)


class GaussianKernel(AbstractNonlocalPotential):
    r"""A smooth non-local potential of Perey-Buck type with a Gaussian non-locality, as an s-wave kernel:

    $$ W(r, r') = v_0\, \exp\!\left[-\left(\frac{r + r'}{2R}\right)^2\right]
       \frac{\exp[-((r - r')/b)^2]}{\sqrt\pi\, b}, $$

    which tends to the local Gaussian $V(r) = v_0\,e^{-(r/R)^2}$ as the non-locality $b \to 0$.

    **Fields:** `v0` [MeV] strength ($< 0$ attractive), `range_` $R$ [fm], `b` [fm] non-locality.
    """

    v0: Float[Array, ""] = eqx.field(converter=as_parameter)
    range_: Float[Array, ""] = eqx.field(converter=as_parameter)
    b: Float[Array, ""] = eqx.field(converter=as_parameter)

    def __call__(self, r, rp):
        r, rp = jnp.asarray(r), jnp.asarray(rp)
        centre = jnp.exp(-(((r + rp) / (2 * self.range_)) ** 2))
        return self.v0 * centre * jnp.exp(-(((r - rp) / self.b) ** 2)) / (jnp.sqrt(jnp.pi) * self.b)


# --- the solver -------------------------------------------------------------------------------------


def _fold(delta: Array) -> Array:
    """delta modulo pi, in (-pi/2, pi/2]."""
    return delta - jnp.pi * jnp.ceil(delta / jnp.pi - 0.5)


def _check(name: str, potential, local, k, mass, grid):
    require_x64(name)
    if potential is None and local is None:
        raise ValueError(f"{name}: give a non-local kernel W(r, r') [MeV fm^-1], a local V(r) [MeV], or both")
    if potential is not None and not callable(potential):
        raise ValueError(f"{name}: the non-local potential must be a callable W(r, r') -> MeV fm^-1, got {potential!r}")
    if local is not None and not callable(local):
        raise ValueError(f"{name}: the local potential must be a callable V(r) -> MeV, got {local!r}")
    mass = check_positive(name, "mass (the reduced mass)", "MeV", mass)
    if grid is None:
        grid = chebyshev_quadrature()
    if not isinstance(grid, RadialQuadrature):
        raise ValueError(f"{name}: grid must be a RadialQuadrature (chebyshev_quadrature()), got {type(grid).__name__}")
    return mass, grid


def _interaction(potential, local, mass, grid) -> Array:
    """A = 2 mu / (hbar c)^2 [V(r_i) delta_ij + W(r_i, r_j) w_j] [fm^-2], the operator f = A u."""
    r = jnp.asarray(grid.r)
    a = jnp.zeros((r.size, r.size))
    if potential is not None:
        a = a + potential(r[:, None], r[None, :]) * jnp.asarray(grid.w)[None, :]
    if local is not None:
        a = a + jnp.diag(local(r))
    return 2 * mass / HBARC**2 * a


def _tan_delta(interaction: Array, k: Array, grid: RadialQuadrature) -> tuple[Array, Array]:
    """(numerator, denominator) of tan(delta) = -I_s / (k + I_c)."""
    r, w, q = jnp.asarray(grid.r), jnp.asarray(grid.w), jnp.asarray(grid.cumulative)
    s, c = jnp.sin(k * r), jnp.cos(k * r)
    # u = s + (1/k) [s * Q (c f) - c * Q (s f)],  f = A u
    volterra = (s[:, None] * q * c[None, :] - c[:, None] * q * s[None, :]) / k
    u = jnp.linalg.solve(jnp.eye(r.size) - volterra @ interaction, s)
    f = interaction @ u
    return -jnp.dot(w, s * f), k + jnp.dot(w, c * f)


@eqx.filter_jit
def _phase(potential, local, k, mass, grid):
    k = eqx.error_if(k, ~(jnp.isfinite(k) & (k > 0)), "nonlocal_phase_shift: k must be a finite number > 0 [fm^-1]")
    num, den = _tan_delta(_interaction(potential, local, mass, grid), k, grid)
    return _fold(jnp.arctan2(num, den))


def nonlocal_phase_shift(
    potential: Callable | None,
    k: Float[ArrayLike, ""],
    *,
    mass: Float[ArrayLike, ""],
    local: Callable | None = None,
    grid: RadialQuadrature | None = None,
) -> Float[Array, ""]:
    r"""The s-wave phase shift $\delta_0(k)$ [rad], modulo $\pi$ in $(-\pi/2, \pi/2]$, of the non-local
    kernel `potential` $W(r, r')$ plus the local `local` $V(r)$ (module docstring for the equation
    and the method). Particle-physics convention: an attractive potential without bound state has
    $\delta > 0$ at low $k$; $k\cot\delta_0 = -1/a + r k^2/2$. Float64; one `k`, vmap for many;
    differentiable in the potentials' parameters.

    **Arguments:**

    - `potential`: s-wave kernel `W(r, r') -> MeV fm^-1` (an `AbstractNonlocalPotential` or any
      symmetric broadcasting callable), or None for a purely local problem.
    - `k`: relative momentum [fm^-1] (> 0).
    - `mass`: the *reduced* mass $\mu$ [MeV].
    - `local`: optional local part `V(r) -> MeV`.
    - `grid`: the quadrature (`chebyshev_quadrature()`, default: 14 panels of 24 points up to 25 fm).

    **Returns:** $\delta_0(k)$ [rad] in $(-\pi/2, \pi/2]$.
    """
    mass, grid = _check("nonlocal_phase_shift", potential, local, k, mass, grid)
    if not isinstance(k, jax.core.Tracer):
        k = check_positive("nonlocal_phase_shift", "k", "fm^-1", k)
    return _phase(potential, local, k, mass, grid)


@eqx.filter_jit
def _nonlocal_ere(potential, local, ks, mass, grid):
    interaction = _interaction(potential, local, mass, grid)
    num, den = jax.vmap(lambda k: _tan_delta(interaction, k, grid))(ks)
    kcot = ks * den / num
    c = jnp.linalg.solve((ks**2)[:, None] ** jnp.arange(ks.size), kcot)
    return EffectiveRange(a=-1 / c[0], r=2 * c[1])


def nonlocal_effective_range(
    potential: Callable | None,
    *,
    mass: Float[ArrayLike, ""],
    local: Callable | None = None,
    k_fit: Float[ArrayLike, " n"] = (0.0125, 0.025, 0.0375, 0.05),
    grid: RadialQuadrature | None = None,
) -> EffectiveRange:
    r"""Scattering length and effective range [fm] of a non-local (plus local) potential: the
    polynomial in $k^2$ through $k\cot\delta_0$ at the momenta `k_fit` [fm^-1] gives $a = -1/c_0$,
    $r = 2c_1$ (particle-physics convention, as `dphys.scattering.effective_range`). Float64,
    differentiable.

    **Arguments:** `potential` W(r, r') [MeV fm^-1] or None; `mass` the reduced mass [MeV]; `local`
    optional V(r) [MeV]; `k_fit` >= 2 distinct positive momenta [fm^-1]; `grid` the quadrature.

    **Returns:** `EffectiveRange(a, r)` [fm].
    """
    name = "nonlocal_effective_range"
    k_fit = np.asarray(k_fit, dtype=np.float64)
    if k_fit.ndim != 1 or k_fit.size < 2 or np.any(k_fit <= 0) or np.unique(k_fit).size != k_fit.size:
        raise ValueError(f"{name}: k_fit must be >= 2 distinct positive momenta [fm^-1], got {k_fit}")
    mass, grid = _check(name, potential, local, 1.0, mass, grid)
    return _nonlocal_ere(potential, local, k_fit, mass, grid)
