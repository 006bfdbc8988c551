r"""Synthetic HAL QCD R-correlators, exact for a known potential, in the form lattice data take.

**The data.** The R-correlator $R(\mathbf r, t) = \psi_\text{NBS}(\mathbf r, t)/(C_1(t)C_2(t))
= \sum_n A_n \psi_n(\mathbf r)\, e^{-\Delta W_n t}$ on a set of time slices $t$ [fm] (times in fm, i.e.
fm/c; energies in MeV; $e^{-\Delta W t/\hbar c}$). Two geometries:

- `"radial"`: the s-wave (A1) radial wave function $R(r) = u(r)/r$ on the grid $r_i = i\,a$,
  $i = 1 \ldots N$, in a spherical box with hard walls at $r = 0$ (regularity, $u(0) = 0$) and
  $r = (N + 1)a$;
- `"box"`: a periodic cubic box of $L^3$ sites with spacing $a$, the relative coordinate measured
  from site 0 with the minimal-image convention ($V(|\mathbf x|)$ with $|\mathbf x|$ the minimal-image
  distance: images of the potential are neglected, which `box_range_warning` checks).

**Exactness.** The states $\psi_n$ are eigenvectors of the *discretised* Hamiltonian
$H = H_0 + U$ with the same finite-difference Laplacian the extraction uses
($H_0 = -(\hbar c)^2\nabla^2/2\mu$; radial: $\nabla^2 R = (u_{i+1} - 2u_i + u_{i-1})/(a^2 r_i)$; box:
the 7-point stencil; a non-local $U$ by the trapezoid rule on the grid). The energies $\Delta W_n$
solve $c\,\Delta W_n^2 + \Delta W_n = E_n$ with $c = (1 + 3\delta^2)/(8\mu)$ [MeV^-1]
(`relativistic=True`; for equal masses $\Delta W_n = 2\sqrt{m^2 + k_n^2} - 2m$ with
$k_n^2 = 2\mu E_n$, the relativistic dispersion) or $\Delta W_n = E_n$ (`relativistic=False`). So
the data satisfy **exactly** (in continuous $t$) the time-dependent HAL QCD equation

$$ \left[c\,\partial_t^2 - \partial_t - H_0\right] R(\mathbf r, t)
   = \int d^3r'\,U(\mathbf r, \mathbf r')R(\mathbf r', t) $$

(with $c = 0$ in the non-relativistic case), and the extraction (`dphys.halqcd.extraction`) makes
only the error of the symmetric time differences, $O(a_t^2)$: the leading-order extraction
reproduces a local potential exactly up to that.

`synthesize_radial` sums `n_states` eigenstates with chosen overlaps $A_n$. `synthesize_box`
evolves a source $R(\mathbf r, 0)$ (a wall source by default, i.e. overlaps with every A1 state)
as $R(t) = e^{-\Delta W(H) t} R(0)$ by a Chebyshev expansion of $e^{-\Delta W(E) t}$ on the spectrum of
$H$ (matrix-free stencil, exact to the stated tolerance, all time slices from one recurrence).
`add_noise` makes gauge-configuration-like noisy copies and returns their jackknife samples.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from dphys.constants import HBARC
from dphys.scattering.non_local import AbstractNonlocalPotential

__all__ = [
    "Correlator",
    "add_noise",
    "box_distances",
    "box_range_warning",
    "radial_hamiltonian",
    "second_derivative_coefficient",
    "synthesize_box",
    "synthesize_radial",
]


class Correlator(eqx.Module):
    r"""An R-correlator on time slices, with what the extraction needs to know about it.

    **Fields:**

    - `R`: the correlator, shape `(T, N)` (radial) or `(T, L, L, L)` (box), with a leading
      jackknife axis `(J, T, ...)` when `jackknife` is True.
    - `t`: the time slices [fm], shape `(T,)`, equally spaced.
    - `spacing`: lattice spacing $a$ [fm] (radial: the grid step).
    - `geometry`: `"radial"` or `"box"` (module docstring).
    - `mass`: the reduced mass $\mu$ [MeV].
    - `delta`: mass asymmetry $(m_1 - m_2)/(m_1 + m_2)$.
    - `relativistic`: whether the data satisfy the equation with the $c\,\partial_t^2$ term.
    - `jackknife`: whether `R` carries a leading axis of jackknife samples.
    """

    R: Float[Array, "..."]
    t: Float[Array, " T"]
    spacing: float = eqx.field(static=True)
    geometry: str = eqx.field(static=True)
    mass: float = eqx.field(static=True)
    delta: float = eqx.field(static=True, default=0.0)
    relativistic: bool = eqx.field(static=True, default=True)
    jackknife: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        check_correlator("Correlator", self)

    @property
    def r(self) -> np.ndarray:
        """Radial distance [fm] of every spatial site: `(N,)` radial, `(L, L, L)` box."""
        if self.geometry == "radial":
            return self.spacing * np.arange(1, self.R.shape[-1] + 1)
        return box_distances(self.R.shape[-1], self.spacing)

    @property
    def samples(self) -> int:
        """The number of jackknife samples (1 without)."""
        return self.R.shape[0] if self.jackknife else 1

    def mean(self) -> Correlator:
        """The central value: the mean of the jackknife samples (itself without)."""
        if not self.jackknife:
            return self
        return Correlator(jnp.mean(self.R, axis=0), self.t, self.spacing, self.geometry, self.mass,
                          self.delta, self.relativistic, False)


def check_correlator(name: str, corr: Correlator) -> None:
    """Static checks of a correlator's axes and metadata (ValueError naming the value)."""
    if corr.geometry not in ("radial", "box"):
        raise ValueError(f"{name}: geometry must be 'radial' or 'box', got {corr.geometry!r}")
    if not (np.isfinite(corr.mass) and corr.mass > 0):
        raise ValueError(f"{name}: the reduced mass must be > 0 [MeV], got {corr.mass}")
    if not (np.isfinite(corr.spacing) and corr.spacing > 0):
        raise ValueError(f"{name}: the lattice spacing must be > 0 [fm], got {corr.spacing}")
    if not -1 < corr.delta < 1:
        raise ValueError(f"{name}: delta = (m1 - m2)/(m1 + m2) must lie in (-1, 1), got {corr.delta}")
    space = 1 if corr.geometry == "radial" else 3
    shape, t = tuple(np.shape(corr.R)), np.shape(corr.t)
    expected = space + 1 + int(corr.jackknife)
    if len(shape) != expected:
        raise ValueError(f"{name}: R must have {expected} axes ({'jackknife, ' if corr.jackknife else ''}t, "
                         f"{'r' if space == 1 else 'x, y, z'}) for geometry {corr.geometry!r}, got shape {shape}")
    if len(t) != 1 or t[0] != shape[-space - 1]:
        raise ValueError(f"{name}: the t axis has {t} slices but R has shape {shape} (t axis "
                         f"{shape[-space - 1]}): mismatched r/t axes")
    if space == 3 and not shape[-1] == shape[-2] == shape[-3]:
        raise ValueError(f"{name}: a box correlator needs a cubic L^3 box, got spatial shape {shape[-3:]}")


def second_derivative_coefficient(mass: float, delta: float = 0.0) -> float:
    r"""$c = (1 + 3\delta^2)/(8\mu)$ [MeV^-1], the coefficient of $\partial_t^2$ in the HAL QCD equation."""
    return (1 + 3 * delta**2) / (8 * mass)


def _energies(e: Array, mass: float, delta: float, relativistic: bool) -> Array:
    """Delta W solving c dW^2 + dW = E (relativistic) or dW = E."""
    if not relativistic:
        return e
    c = second_derivative_coefficient(mass, delta)
    return 2 * e / (1 + jnp.sqrt(1 + 4 * c * e))  # = (sqrt(1 + 4cE) - 1)/(2c), stable


def _check_common(name: str, mass, spacing, sites, times, delta):
    if not (np.isfinite(mass) and mass > 0):
        raise ValueError(f"{name}: mass (the reduced mass) must be a finite number > 0 [MeV], got {mass}")
    if not (np.isfinite(spacing) and spacing > 0):
        raise ValueError(f"{name}: spacing must be a finite number > 0 [fm], got {spacing}")
    if isinstance(sites, bool) or not isinstance(sites, (int, np.integer)) or sites < 3:
        raise ValueError(f"{name}: sites must be an int >= 3, got {sites!r}")
    t = np.asarray(times, dtype=np.float64)
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"{name}: times must be a 1D array of times >= 0 [fm], got {times}")
    if not -1 < delta < 1:
        raise ValueError(f"{name}: delta = (m1 - m2)/(m1 + m2) must lie in (-1, 1), got {delta}")
    return t


def _is_nonlocal(potential) -> bool:
    return isinstance(potential, AbstractNonlocalPotential)


def radial_hamiltonian(potential: Callable | None, *, mass: float, spacing: float, sites: int,
                       local: Callable | None = None) -> Float[Array, "N N"]:
    r"""The discretised s-wave Hamiltonian [MeV] acting on $u_i = r_i R(r_i)$, $r_i = i a$:
    $H_{ij} = \frac{(\hbar c)^2}{2\mu a^2}(2\delta_{ij} - \delta_{i,j\pm1}) + V(r_i)\delta_{ij} + a\,W(r_i, r_j)$
    (hard walls at $0$ and $(N+1)a$; a non-local kernel $W$ [MeV fm^-1] by the trapezoid rule).
    Symmetric.

    **Arguments:** `potential` a local `V(r)` [MeV] or an `AbstractNonlocalPotential` (or None);
    `mass` the reduced mass [MeV]; `spacing` $a$ [fm]; `sites` $N$; `local` an extra local part.

    **Returns:** $H$, shape `(N, N)`.
    """
    r = spacing * jnp.arange(1, sites + 1)
    kin = HBARC**2 / (2 * mass * spacing**2)
    h = kin * (2 * jnp.eye(sites) - jnp.eye(sites, k=1) - jnp.eye(sites, k=-1))
    for p in (potential, local):
        if p is None:
            continue
        if _is_nonlocal(p):
            h = h + spacing * p(r[:, None], r[None, :])
        else:
            h = h + jnp.diag(p(r))
    return h


def synthesize_radial(
    potential: Callable,
    *,
    mass: float,
    spacing: float,
    sites: int,
    times: Float[ArrayLike, " T"],
    n_states: int = 8,
    overlaps: Float[ArrayLike, " n"] | None = None,
    local: Callable | None = None,
    delta: float = 0.0,
    relativistic: bool = True,
) -> Correlator:
    r"""An exact s-wave R-correlator $R(r_i, t) = \sum_{n < n_s} A_n\, \frac{u_n(r_i)}{r_i}\, e^{-\Delta W_n t/\hbar c}$
    from the lowest `n_states` eigenstates of `radial_hamiltonian` (module docstring). The $u_n$ are
    normalised to $a\sum_i u_n(r_i)^2 = 1$ with $\sum_i u_n(r_i) > 0$.

    **Arguments:**

    - `potential`: a local `V(r)` [MeV] or an `AbstractNonlocalPotential` $W(r, r')$ [MeV fm^-1].
    - `mass`: the reduced mass $\mu$ [MeV] (> 0).
    - `spacing`: grid step $a$ [fm]; `sites`: $N$ (the box radius is $(N + 1)a$).
    - `times`: time slices [fm], equally spaced for the extraction.
    - `n_states`: how many eigenstates to sum; `overlaps`: their $A_n$ (default all 1).
    - `local`: an extra local part added to a non-local `potential`.
    - `delta`: mass asymmetry; `relativistic`: energies $\Delta W_n$ with the $c\,\partial_t^2$ term.

    **Returns:** a `Correlator` of geometry `"radial"`, `R` of shape `(T, N)`.
    """
    name = "synthesize_radial"
    t = _check_common(name, mass, spacing, sites, times, delta)
    if not callable(potential):
        raise ValueError(f"{name}: potential must be a callable V(r) or W(r, r'), got {potential!r}")
    if isinstance(n_states, bool) or not isinstance(n_states, (int, np.integer)) or not 1 <= n_states <= sites:
        raise ValueError(f"{name}: n_states must be an int in [1, sites = {sites}], got {n_states!r}")
    amps = np.ones(n_states) if overlaps is None else np.asarray(overlaps, dtype=np.float64)
    if amps.shape != (n_states,):
        raise ValueError(f"{name}: overlaps must have shape ({n_states},) (one per state), got {amps.shape}")
    box_range_warning(potential if not _is_nonlocal(potential) else None, (sites + 1) * spacing, name)
    hamiltonian = radial_hamiltonian(potential, mass=mass, spacing=spacing, sites=sites, local=local)
    energies, states = jnp.linalg.eigh(hamiltonian)
    energies, states = energies[:n_states], states[:, :n_states] / np.sqrt(spacing)
    states = states * jnp.sign(jnp.sum(states, axis=0))
    r = spacing * jnp.arange(1, sites + 1)
    dw = _energies(energies, mass, delta, relativistic)
    R = jnp.einsum("n,tn,in->ti", jnp.asarray(amps), jnp.exp(-jnp.outer(jnp.asarray(t), dw) / HBARC), states) / r
    return Correlator(R, jnp.asarray(t), float(spacing), "radial", float(mass), float(delta), bool(relativistic), False)


def box_distances(sites: int, spacing: float) -> np.ndarray:
    """Minimal-image distance [fm] from site 0 of every site of a periodic $L^3$ box, shape (L, L, L)."""
    n = np.arange(sites)
    n = np.minimum(n, sites - n).astype(np.float64)
    return spacing * np.sqrt(n[:, None, None] ** 2 + n[None, :, None] ** 2 + n[None, None, :] ** 2)


def box_range_warning(potential: Callable | None, size: float, name: str, tol: float = 1e-3) -> None:
    """Warn when |V| at the box's half-size (the largest minimal-image distance along an axis, or
    the radial box's wall) exceeds `tol` times max |V|: the box is too small for the potential's range."""
    if potential is None:
        return
    r = np.linspace(1e-3, size, 400)
    v = np.abs(np.asarray(potential(jnp.asarray(r))))
    if v[-1] > tol * v.max():
        warnings.warn(f"{name}: the box (half-)size {size:.3g} fm is too small for the potential's range: "
                      f"|V({size:.3g} fm)| = {v[-1]:.3g} MeV is more than {tol:g} of max |V| = {v.max():.3g} MeV",
                      stacklevel=3)


def box_laplacian(R: Array, spacing: float) -> Array:
    """The 7-point periodic lattice Laplacian [fm^-2] over the last three axes."""
    lap = -6 * R
    for axis in (-1, -2, -3):
        lap = lap + jnp.roll(R, 1, axis) + jnp.roll(R, -1, axis)
    return lap / spacing**2


def _chebyshev_coefficients(fn, lo: float, hi: float, tol: float) -> np.ndarray:
    """Chebyshev coefficients (degree, n_fns) of fn on [lo, hi], truncated where all fall below tol."""
    m = 1024
    theta = np.pi * (np.arange(m) + 0.5) / m
    x = np.cos(theta)
    vals = fn(lo + (hi - lo) * (x + 1) / 2)  # (m, n_fns)
    coef = 2 / m * np.cos(np.outer(np.arange(m), theta)) @ vals
    coef[0] /= 2
    big = np.max(np.abs(coef), axis=1) > tol * np.max(np.abs(vals))
    keep = int(np.max(np.nonzero(big)[0])) + 2
    if keep >= m // 2:
        raise ValueError("synthesize_box: the Chebyshev expansion needs more than 512 terms: use fewer or "
                         "later time slices or a coarser spacing")
    return coef[:keep]


@eqx.filter_jit
def _chebyshev_evolve(v, source, coef, kin, lo, hi, spacing):
    """sum_k coef[k, t] T_k(H~) source with H~ = (2H - hi - lo)/(hi - lo), by the 3-term recurrence."""
    def apply(x):
        hx = -kin * spacing**2 * box_laplacian(x, spacing) + v * x
        return (2 * hx - (hi + lo) * x) / (hi - lo)

    t1 = apply(source)
    out = coef[0][:, None, None, None] * source + coef[1][:, None, None, None] * t1

    def step(carry, c):
        prev, cur, acc = carry
        nxt = 2 * apply(cur) - prev
        return (cur, nxt, acc + c[:, None, None, None] * nxt), None

    (_, _, out), _ = jax.lax.scan(step, (source, t1, out), coef[2:])
    return out


def synthesize_box(
    potential: Callable,
    *,
    mass: float,
    spacing: float,
    sites: int,
    times: Float[ArrayLike, " T"],
    source: Float[ArrayLike, "L L L"] | str = "wall",
    delta: float = 0.0,
    relativistic: bool = True,
    tol: float = 1e-13,
) -> Correlator:
    r"""An exact R-correlator on a periodic $L^3$ box for a local potential:
    $R(t) = e^{-\Delta W(H)\,t/\hbar c}\, R(0)$ with $H = -(\hbar c)^2\nabla^2_\text{lat}/2\mu + V(|\mathbf x|)$
    (7-point Laplacian, minimal-image distances), i.e. $\sum_n A_n\psi_n e^{-\Delta W_n t}$ over all
    finite-volume eigenstates with overlaps $A_n = \langle\psi_n|R(0)\rangle$ fixed by the source.
    $e^{-\Delta W(E) t}$ is expanded in Chebyshev polynomials on the Gershgorin bounds of the spectrum
    to relative accuracy `tol`; one recurrence of matrix-free stencil applications serves all slices.

    **Arguments:** `potential` V(r) [MeV] (local); `mass` reduced mass [MeV]; `spacing` $a$ [fm];
    `sites` $L$; `times` [fm]; `source` `"wall"` (constant, A1) or an array `(L, L, L)`; `delta`;
    `relativistic` (module docstring); `tol` truncation of the expansion.

    **Returns:** a `Correlator` of geometry `"box"`, `R` of shape `(T, L, L, L)`.
    """
    name = "synthesize_box"
    t = _check_common(name, mass, spacing, sites, times, delta)
    if _is_nonlocal(potential) or not callable(potential):
        raise ValueError(f"{name}: needs a local potential V(r) -> MeV, got {potential!r}")
    if isinstance(source, str):
        if source != "wall":
            raise ValueError(f"{name}: source must be 'wall' or an (L, L, L) array, got {source!r}")
        src = jnp.ones((sites,) * 3)
    else:
        src = jnp.asarray(source, dtype=float)
        if src.shape != (sites,) * 3:
            raise ValueError(f"{name}: source must have shape {(sites,) * 3}, got {src.shape}")
    box_range_warning(potential, sites * spacing / 2, name)
    dist = jnp.asarray(box_distances(sites, spacing))
    v = potential(jnp.where(dist == 0, 1e-6 * spacing, dist))
    vmin, vmax = float(jnp.min(v)), float(jnp.max(v))
    kin = HBARC**2 / (2 * mass * spacing**2)
    lo, hi = vmin, 12 * kin + vmax
    fn = lambda e: np.exp(-np.outer(np.asarray(_energies(e, mass, delta, relativistic)), t) / HBARC)  # noqa: E731
    coef = jnp.asarray(_chebyshev_coefficients(fn, lo, hi, tol))
    R = _chebyshev_evolve(v, src, coef, kin, lo, hi, spacing)
    return Correlator(R, jnp.asarray(t), float(spacing), "box", float(mass), float(delta), bool(relativistic), False)


def add_noise(corr: Correlator, key: PRNGKeyArray, *, configs: int, noise: float, modes: int = 4,
              time_correlation: float = 0.9) -> Correlator:
    r"""Noisy "gauge configurations" of a correlator and their jackknife samples.

    Configuration $c$ is $R_c(\mathbf r, t) = R(\mathbf r, t)\,[1 + \sigma\,\xi_c(r, t)]$ with
    $\xi_c(r, t) = \sum_{m < M} z_{c,t,m} \cos(m\pi r/r_\max)/(1 + m)$, $z$ standard normal: noise that
    is smooth in $r$ (as lattice noise is, being correlated across sites of one configuration),
    independent between configurations and **correlated in t** as lattice noise is (the slices of one
    configuration share its gauge field): $z_{c,t,m}$ is a stationary AR(1) sequence over the time
    slices, $z_{t+1} = \rho z_t + \sqrt{1 - \rho^2}\,\varepsilon_{t+1}$, so that
    $\mathrm{corr}(z_t, z_{t'}) = \rho^{|t - t'|}$ (slice index distance) with $\rho$ =
    `time_correlation` (default 0.9; 0 gives the independent slices of earlier versions). The
    marginal noise of each slice is the same for every $\rho$; the noise of a time difference
    $R_{t+1} - R_{t-1}$ shrinks by $\sqrt{1 - \rho^2}$ relative to independent slices, which is what
    makes real time derivatives usable. Jackknife sample $j$ is the mean over all
    configurations but $c = j$; the jackknife error of an estimate $\theta$ is
    $\sqrt{(J-1)/J\,\sum_j (\theta_j - \bar\theta)^2}$.

    **Arguments:** `corr` a correlator without jackknife axis; `key` PRNG key; `configs` $J \ge 2$;
    `noise` $\sigma \ge 0$ (relative); `modes` $M$; `time_correlation` $\rho \in [0, 1)$.

    **Returns:** a `Correlator` with `jackknife=True`, `R` of shape `(J, T, ...)`.
    """
    if corr.jackknife:
        raise ValueError("add_noise: the correlator already has jackknife samples")
    if isinstance(configs, bool) or not isinstance(configs, (int, np.integer)) or configs < 2:
        raise ValueError(f"add_noise: configs must be an int >= 2, got {configs!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"add_noise: noise must be a finite number >= 0 (relative), got {noise}")
    if not (np.isfinite(time_correlation) and 0 <= time_correlation < 1):
        raise ValueError(f"add_noise: time_correlation must lie in [0, 1), got {time_correlation}")
    r = jnp.asarray(corr.r)
    m = jnp.arange(modes).reshape((modes,) + (1,) * r.ndim)
    basis = jnp.cos(m * jnp.pi * r / jnp.max(r)) / (1 + m)
    eps = jax.random.normal(key, (corr.t.size, configs, modes), dtype=corr.R.dtype)
    rho = float(time_correlation)

    def ar1(prev, e):
        z = rho * prev + np.sqrt(1 - rho**2) * e
        return z, z

    later = jax.lax.scan(ar1, eps[0], eps[1:])[1]  # (T - 1, configs, modes)
    z = jnp.moveaxis(jnp.concatenate([eps[:1], later], axis=0), 0, 1)  # (configs, T, modes), each N(0, 1)
    xi = jnp.tensordot(z, basis, axes=1)
    R = corr.R * (1 + noise * xi)
    jack = (jnp.sum(R, axis=0) - R) / (configs - 1)
    return Correlator(jack, corr.t, corr.spacing, corr.geometry, corr.mass, corr.delta, corr.relativistic, True)
