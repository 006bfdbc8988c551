r"""Potentials from R-correlators: the leading-order HAL QCD extraction and unsupervised neural fits.

Both use the time-dependent HAL QCD equation (REFERENCES.md), in MeV with $t$ in fm,

$$ K(\mathbf r, t) \equiv \Big[c\,(\hbar c)^2\partial_t^2 - \hbar c\,\partial_t
   + \frac{(\hbar c)^2}{2\mu}\nabla^2\Big] R(\mathbf r, t)
 = \int d^3r'\, U(\mathbf r, \mathbf r')\, R(\mathbf r', t), \qquad c = \frac{1 + 3\delta^2}{8\mu} $$

($c = 0$ for data declared non-relativistic), with symmetric differences between time slices
($\partial_t R \approx (R_{t+1} - R_{t-1})/2a_t$, $\partial_t^2 R \approx (R_{t+1} - 2R_t + R_{t-1})/a_t^2$, so
$K$ exists on the interior slices; `order=4` uses the 5-point differences) and the lattice
Laplacian of the data's geometry (radial:
$(u_{i+1} - 2u_i + u_{i-1})/(a^2 r_i)$ with $u = rR$ and $u_0 = u_{N+1} = 0$; box: the periodic
7-point stencil). On synthetic data (`dphys.halqcd.synthesis`) the only error of $K$ is the
$O(a_t^2)$ (`order=4`: $O(a_t^4)$) of the time differences.

- `lo_potential`: leading order, $U = V(r)\delta(\mathbf r - \mathbf r')$, so $V_\text{LO}(\mathbf r, t) = K/R$
  on every site and interior slice (the published baseline). Exact for a local potential; for a
  non-local one it depends on $t$ and on the states in $R$.
- `fit_potential`: an unsupervised neural potential (a local `NeuralPotential` $V_\theta(r)$ or a
  separable non-local `NeuralNonlocalPotential` $U_\theta$, symmetric by construction) trained so
  that the equation holds on every site and interior slice: the loss is
  $\sum_{\mathbf r, t} (K - U_\theta R)^2 / \sum_{\mathbf r, t} R^2$ (radial data in the $u = rR$ form, i.e.
  with the 3D measure), no potential labels. With jackknife data one network per sample is
  trained in one vmapped program, which gives error bands.

The residual never materialises an $r \times r'$ matrix: a local $V_\theta$ is evaluated once per
distinct radius (shell) and gathered; a separable $U_\theta = \sum_k s_k \phi_k(r)\phi_k(r')$ acts as
$\sum_k s_k \phi_k(r)\,[\sum_{\mathbf r'} \phi_k(r') R(\mathbf r', t)\,d^3r']$, linear in the number of sites.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from dphys.constants import HBARC
from dphys.halqcd.potentials import NeuralNonlocalPotential
from dphys.halqcd.synthesis import Correlator, box_laplacian, check_correlator, second_derivative_coefficient
from dphys.train import TrainResult, fit

__all__ = [
    "FitData",
    "ensemble_member",
    "equation_lhs",
    "fit_data",
    "fit_potential",
    "jackknife_band",
    "lo_potential",
    "residual_loss",
]

_VANISH = 1e-10  # |R| below this times max |R| counts as vanishing


def _check_slices(name: str, corr: Correlator, order: int) -> float:
    check_correlator(name, corr)
    if order not in (2, 4):
        raise ValueError(f"{name}: order (of the time differences) must be 2 or 4, got {order!r}")
    t = np.asarray(corr.t, dtype=np.float64)
    if t.size < order + 1:
        raise ValueError(f"{name}: the order-{order} time derivatives need at least {order + 1} equally spaced "
                         f"time slices, got {t.size} (t = {t.tolist()} fm)")
    dt = np.diff(t)
    if not (np.all(dt > 0) and np.allclose(dt, dt[0], rtol=1e-9, atol=0)):
        raise ValueError(f"{name}: the time slices must be ascending and equally spaced, got t = {t.tolist()} fm")
    return float(dt[0])


def _laplacian(corr: Correlator, R: Array) -> Array:
    if corr.geometry == "box":
        return box_laplacian(R, corr.spacing)
    r = jnp.asarray(corr.r)
    u = R * r
    pad = jnp.pad(u, [(0, 0)] * (u.ndim - 1) + [(1, 1)])
    return (pad[..., 2:] - 2 * u + pad[..., :-2]) / (corr.spacing**2 * r)


def equation_lhs(corr: Correlator, order: int = 2) -> tuple[Float[Array, "..."], Float[Array, "..."]]:
    r"""$K = [c(\hbar c)^2\partial_t^2 - \hbar c\,\partial_t + (\hbar c)^2\nabla^2/2\mu] R$ [MeV times the
    unit of R] on the interior time slices, and $R$ there (module docstring).

    **Arguments:** `corr` a `Correlator` with >= `order + 1` equally spaced time slices; `order` of
    the symmetric time differences: 2 (3-point, $O(a_t^2)$, the published HAL QCD choice) or 4
    (5-point, $(-R_{t+2} + 8R_{t+1} - 8R_{t-1} + R_{t-2})/12a_t$ and
    $(-R_{t+2} + 16R_{t+1} - 30R_t + 16R_{t-1} - R_{t-2})/12a_t^2$, $O(a_t^4)$).

    **Returns:** `(K, R_mid)`, each shaped like `corr.R` with `order` fewer time slices (the first
    is `corr.t[order // 2]`).
    """
    dt = _check_slices("equation_lhs", corr, order)
    axis = 1 if corr.jackknife else 0
    R = jnp.moveaxis(corr.R, axis, 0)
    if order == 2:
        prev, mid, nxt = R[:-2], R[1:-1], R[2:]
        d1 = (nxt - prev) / (2 * dt)
        d2 = (nxt - 2 * mid + prev) / dt**2
    else:
        m2, m1, mid, p1, p2 = R[:-4], R[1:-3], R[2:-2], R[3:-1], R[4:]
        d1 = (-p2 + 8 * p1 - 8 * m1 + m2) / (12 * dt)
        d2 = (-p2 + 16 * p1 - 30 * mid + 16 * m1 - m2) / (12 * dt**2)
    c = second_derivative_coefficient(corr.mass, corr.delta) if corr.relativistic else 0.0
    K = c * HBARC**2 * d2 - HBARC * d1 + HBARC**2 / (2 * corr.mass) * _laplacian(corr, mid)
    return jnp.moveaxis(K, 0, axis), jnp.moveaxis(mid, 0, axis)


def lo_potential(corr: Correlator, order: int = 2) -> Float[Array, "..."]:
    r"""The leading-order HAL QCD potential $V_\text{LO}(\mathbf r, t) = K(\mathbf r, t)/R(\mathbf r, t)$ [MeV]
    on every site and interior time slice (module docstring). Raises ValueError if $R$ vanishes
    (below $10^{-10}\max|R|$) at a site, naming it.

    **Arguments:** `corr` a `Correlator` (with or without jackknife samples); `order` of the time
    differences (2 or 4, `equation_lhs`).

    **Returns:** $V_\text{LO}$ [MeV], shaped like `corr.R` with `order` fewer time slices (slice $i$
    is `corr.t[i + order // 2]`).
    """
    K, R = equation_lhs(corr, order)
    small = np.abs(np.asarray(R)) <= _VANISH * np.max(np.abs(np.asarray(R)))
    if small.any():
        where = np.argwhere(small)[0]
        t_index = where[1 if corr.jackknife else 0] + order // 2
        site = tuple(int(i) for i in where[(2 if corr.jackknife else 1):])
        r = np.asarray(corr.r)[site]
        raise ValueError(f"lo_potential: R vanishes at r = {float(r):.4g} fm (site {site}), t = "
                         f"{float(corr.t[t_index]):.4g} fm: the leading-order potential K/R is undefined there")
    return K / R


class FitData(NamedTuple):
    """The equation in the form the neural fits use: `R` and `K` (shape (J, T', X): samples,
    interior slices, flattened sites; radial data as u = rR and rK), the shell of every site
    `shell` (X,), the shells' radii `radii` (S,) [fm] and the volume element `measure`
    (radial: a [fm]; box: a^3 [fm^3])."""

    R: Float[Array, "J T X"]
    K: Float[Array, "J T X"]
    shell: np.ndarray
    radii: Float[Array, " S"]
    measure: float


def fit_data(corr: Correlator, slices: tuple[int, ...] | None = None, order: int = 2) -> FitData:
    """Prepare `corr` for `fit_potential`: the left-hand side (time differences of `order`) on the
    interior slices (or on those listed in `slices`, indices into `corr.t`), flattened over sites,
    grouped in shells of equal distance. Raises ValueError if R vanishes on every site of a fitted
    slice."""
    K, R = equation_lhs(corr, order)
    if not corr.jackknife:
        K, R = K[None], R[None]
    interior = list(range(order // 2, corr.t.size - order // 2))
    if slices is not None:
        bad = [s for s in slices if s not in interior]
        if bad or not slices:
            raise ValueError(
                f"fit_data: slices must be non-empty indices of interior time slices {interior}, got {slices}")
        pick = np.asarray([interior.index(s) for s in slices])
        K, R = K[:, pick], R[:, pick]
    r = np.asarray(corr.r)
    if corr.geometry == "radial":
        rr = jnp.asarray(r)
        K, R = K * rr, R * rr
        radii, shell, measure = r, np.arange(r.size), corr.spacing
    else:
        radii, shell = np.unique(np.round(r.ravel() / corr.spacing, 9) * corr.spacing, return_inverse=True)
        measure = corr.spacing**3
    J, T = K.shape[:2]
    K, R = K.reshape(J, T, -1), R.reshape(J, T, -1)
    norm = np.sqrt(np.sum(np.asarray(R) ** 2, axis=-1))
    if np.any(norm == 0) or not np.all(np.isfinite(norm)):
        j, t = np.argwhere(~(norm > 0))[0]
        raise ValueError(f"fit_data: R vanishes (or is not finite) on the whole fitting grid at time slice "
                         f"t = {float(corr.t[interior[t] if slices is None else slices[t]]):.4g} fm (sample {j})")
    return FitData(R, K, np.asarray(shell), jnp.asarray(radii), float(measure))


def apply_potential(model, R: Array, data: FitData) -> Array:
    r"""The potential acting on R-correlators: $(UR)(\mathbf x, t)$ on the fit's sites, `R` of shape
    (T, X); $V(r) R$ for a local potential, $\int d^3y\, U(\mathbf x, \mathbf y) R(\mathbf y)$ (the
    separable rank-$n$ form on the site measure) for a `NeuralNonlocalPotential`."""
    if isinstance(model, NeuralNonlocalPotential):
        phi = model.factors(data.radii)[data.shell]  # (X, rank)
        proj = data.measure * R @ phi  # (T, rank)
        return model.scale * (proj * model.coeff) @ phi.T
    return model(data.radii)[data.shell] * R


def residual_loss(model, R: Float[Array, "T X"], K: Float[Array, "T X"], data: FitData,
                  scale: float) -> Float[Array, ""]:
    r"""$\sum (K - U_\theta R)^2 / (\text{scale}^2 \sum R^2)$ for one sample (dimensionless; `scale` in
    MeV): the mean squared equation residual in units of `scale`, weighted by $R^2$."""
    res = K - apply_potential(model, R, data)
    return jnp.sum(res**2) / jnp.sum(R**2) / scale**2


def fit_potential(
    corr: Correlator,
    init: Callable[[PRNGKeyArray], eqx.Module],
    *,
    key: PRNGKeyArray,
    steps: int = 3000,
    learning_rate: float = 3e-3,
    scale: float = 100.0,
    slices: tuple[int, ...] | None = None,
    order: int = 2,
    progress: bool = True,
    checkpoint_dir: str | None = None,
) -> TrainResult:
    r"""Train a neural potential on a correlator without potential labels (module docstring): one
    network per jackknife sample (one without), in one vmapped program, with Adam and a cosine
    learning-rate decay (`dphys.fit`, checkpoints in `checkpoint_dir`).

    **Arguments:**

    - `corr`: a `Correlator` (>= 3 equally spaced slices).
    - `init`: `init(key) -> model`, a local potential module (`NeuralPotential`) or a
      `NeuralNonlocalPotential`.
    - `key`: PRNG key of the initial weights; `steps`; `learning_rate` (peak).
    - `scale`: [MeV] the unit of the loss (about the size of the potential).
    - `slices`: interior time slices to fit (indices into `corr.t`), default all.
    - `order`: of the symmetric time differences, 2 or 4 (`equation_lhs`).

    **Returns:** `dphys.TrainResult` whose `model` is the ensemble (leading axis: samples; take one
    with `ensemble_member(model, j)` or evaluate all with `eqx.filter_vmap`) and whose
    `losses` are the summed losses.
    """
    if not callable(init):
        raise ValueError(f"fit_potential: init must be a callable key -> model, got {init!r}")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"fit_potential: scale must be > 0 [MeV], got {scale}")
    data = fit_data(corr, slices, order)
    J = data.R.shape[0]
    ensemble = eqx.filter_vmap(init)(jax.random.split(key, J))
    schedule = optax.cosine_decay_schedule(learning_rate, steps, alpha=1e-3)
    optimizer = optax.adam(schedule)
    arrays = (data.R, data.K)

    def loss_fn(model, batch, _):
        R, K = batch
        per = eqx.filter_vmap(lambda m, r, k: residual_loss(m, r, k, data, scale))(model, R, K)
        return jnp.sum(per)

    return fit(loss_fn, ensemble, optimizer, lambda _: arrays, steps=steps, key=jax.random.fold_in(key, 1),
               log_every=min(250, steps), progress=progress, checkpoint_dir=checkpoint_dir,
               desc="halqcd fit")


def ensemble_member(ensemble, j: int):
    """Member `j` of an ensemble from `fit_potential` (every array leaf indexed at `j`)."""
    return jax.tree.map(lambda x: x[j] if eqx.is_array(x) else x, ensemble)


def jackknife_band(samples: Float[Array, "J ..."], jackknife: bool = True) -> tuple[np.ndarray, np.ndarray]:
    r"""Central value and error of an estimate over jackknife samples (axis 0): the mean and
    $\sqrt{(J-1)/J\,\sum_j(\theta_j - \bar\theta)^2}$ (zero error for a single sample or `jackknife=False`)."""
    x = np.asarray(samples, dtype=np.float64)
    mean = x.mean(axis=0)
    if not jackknife or x.shape[0] < 2:
        return mean, np.zeros_like(mean)
    J = x.shape[0]
    return mean, np.sqrt((J - 1) / J * np.sum((x - mean) ** 2, axis=0))
