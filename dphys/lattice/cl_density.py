r"""The exact complex Langevin distribution $P(x, y)$ of Gaussian actions (real noise).

For $S(z) = \tfrac12 z^T M z$ with a complex symmetric $n\times n$ matrix $M = M_r + iM_i$, the
CL drift $K = -Mz$ is linear, so with real noise CL is an Ornstein-Uhlenbeck process for the
real state $v = (x, y) \in \mathbb R^{2n}$:

$$ dv = A v\, dt + B\, dW, \qquad A = \begin{pmatrix} -M_r & M_i \\ -M_i & -M_r\end{pmatrix},
   \qquad BB^T = D = \begin{pmatrix} 2I & 0 \\ 0 & 0\end{pmatrix}. $$

$A$ is the real form of $-M$: its eigenvalues are $-\lambda_k$ and $-\bar\lambda_k$ for the
eigenvalues $\lambda_k$ of $M$. When every $\mathrm{Re}\,\lambda_k > 0$ the process has a unique
stationary distribution, the Gaussian $\mathcal N(0, \Sigma)$ whose covariance solves the
continuous Lyapunov equation

$$ A\Sigma + \Sigma A^T + D = 0 $$

(`gaussian_cl_covariance`). For the Euler scheme with step $\epsilon$,
$v_{k+1} = (I + \epsilon A)v_k + \sqrt{\epsilon}\,B\eta_k$, the stationary covariance solves the
discrete Lyapunov equation $\Sigma = F\Sigma F^T + \epsilon D$, $F = I + \epsilon A$ (it exists
when the spectral radius of $F$ is below 1). For one variable, $M = \sigma = a + ib$, this gives
the closed forms $\langle x^2\rangle = (2a^2 + b^2)/(2a|\sigma|^2)$, $\langle y^2\rangle =
b^2/(2a|\sigma|^2)$, $\langle xy\rangle = -b/(2|\sigma|^2)$ of `GaussianAction.cl_covariance`, derived
there independently from the mode equations.

The state is ordered $(x_1..x_n, y_1..y_n)$ in the covariance; `gaussian_cl_log_density` takes
states in the `(..., n, 2)` pair layout of `dphys.lattice.complex_langevin`.

For any action, samples of $P(x, y)$ and estimates from them: `cl_model` (the three models of the
complex-Langevin workflows with their exact references), `cl_ensemble` (adaptive thermalisation,
then fixed-step chains in chunks; a runaway chain is a `ValueError`), `moment_estimates`
($\langle z^n\rangle$ with weighted jackknife errors) and `neighbour_correlations`.
"""

from __future__ import annotations

import cmath
import math
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
from jaxtyping import ArrayLike, Complex, Float, PRNGKeyArray
from tqdm.auto import tqdm

from dphys.lattice.complex_langevin import (
    RunawayError,
    cl_chains,
    cl_thermalise,
    reference_observables,
    weighted_mean,
)
from dphys.lattice.complex_models import AnharmonicChainAction, GaussianAction, QuarticAction
from dphys.stats import Estimate

__all__ = [
    "CL_MODELS",
    "MAX_RELATIVE_ERROR",
    "check_cl_couplings",
    "cl_ensemble",
    "cl_model",
    "drift_matrix",
    "gaussian_cl_covariance",
    "gaussian_cl_log_density",
    "moment_estimates",
    "neighbour_correlations",
]

#: the models of `cl_model`
CL_MODELS = ("gauss", "quartic", "chain")
#: `moment_estimates` warns when the relative standard error of a moment exceeds this
MAX_RELATIVE_ERROR = 0.3


def _check_matrix(matrix: ArrayLike) -> np.ndarray:
    m = np.atleast_2d(np.asarray(matrix, dtype=np.complex128))
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"the action matrix M has shape {np.shape(matrix)}: expected a square (n, n) matrix")
    if not np.all(np.isfinite(m)):
        raise ValueError("the action matrix M has non-finite entries")
    if not np.allclose(m, m.T, rtol=1e-12, atol=1e-12 * np.abs(m).max()):
        raise ValueError("the action matrix M must be complex symmetric (S = z^T M z / 2, M = M^T; not Hermitian)")
    eig = np.linalg.eigvals(m)
    if np.any(eig.real <= 0):
        bad = eig[np.argmin(eig.real)]
        raise ValueError(
            f"the action matrix M has an eigenvalue {bad:.6g} with Re <= 0: the integral of exp(-z^T M z/2) "
            "diverges and complex Langevin has no stationary distribution; expected Re of every eigenvalue > 0"
        )
    return m


def drift_matrix(matrix: ArrayLike) -> Float[np.ndarray, "two_n two_n"]:
    r"""$A = [[-M_r, M_i], [-M_i, -M_r]]$, the CL drift $dv/dt = Av$ of $v = (x, y)$ for $S = z^TMz/2$.

    **Arguments:** `matrix` $M$, complex symmetric (n, n) (a scalar for one variable).

    **Returns:** float64 array (2n, 2n).
    """
    m = _check_matrix(matrix)
    return np.block([[-m.real, m.imag], [-m.imag, -m.real]])


def gaussian_cl_covariance(matrix: ArrayLike, dt: float = 0.0) -> Float[np.ndarray, "two_n two_n"]:
    r"""Stationary covariance $\Sigma$ of complex Langevin (real noise) for $S = z^TMz/2$, over
    $v = (x_1..x_n, y_1..y_n)$: the continuous Lyapunov solution for `dt = 0`, else the exact
    stationary covariance of the Euler scheme with step `dt` (module docstring).

    **Arguments:** `matrix` $M$ (complex symmetric, every eigenvalue with Re > 0, otherwise
    `ValueError`: the integral diverges); `dt` >= 0.

    **Returns:** float64 (2n, 2n), symmetric positive semi-definite.
    """
    a = drift_matrix(matrix)
    n = a.shape[0] // 2
    dt = float(dt)
    if not (np.isfinite(dt) and dt >= 0):
        raise ValueError(f"dt={dt}: expected a finite step >= 0")
    d = np.zeros_like(a)
    d[:n, :n] = 2 * np.eye(n)
    if dt == 0:
        sigma = scipy.linalg.solve_continuous_lyapunov(a, -d)
    else:
        f = np.eye(2 * n) + dt * a
        radius = np.abs(np.linalg.eigvals(f)).max()
        if radius >= 1:
            raise ValueError(
                f"dt={dt}: the Euler scheme is unstable (spectral radius of I + dt A = {radius:.6g} >= 1): "
                "there is no stationary distribution; reduce dt"
            )
        sigma = scipy.linalg.solve_discrete_lyapunov(f, dt * d)
    return (sigma + sigma.T) / 2


def gaussian_cl_log_density(matrix: ArrayLike, xy: ArrayLike, dt: float = 0.0) -> np.ndarray:
    r"""$\log P(x, y)$ (nats) of the stationary CL distribution $\mathcal N(0, \Sigma)$ of
    $S = z^TMz/2$ at states `xy` of shape `(..., n, 2)` (pairs $(x_i, y_i)$; for one variable
    `(..., 2)` is accepted too).

    **Returns:** float64 array of shape `xy.shape[:-2]` (or `xy.shape[:-1]` for one variable).
    """
    sigma = gaussian_cl_covariance(matrix, dt)
    n = sigma.shape[0] // 2
    xy = np.asarray(xy, dtype=np.float64)
    if n == 1 and xy.shape[-1:] == (2,) and (xy.ndim < 2 or xy.shape[-2] != 1):
        xy = xy[..., None, :]
    if xy.shape[-2:] != (n, 2):
        raise ValueError(f"states of shape {xy.shape}: expected (..., {n}, 2) pairs (x, y) of {n} variables")
    v = np.concatenate([xy[..., 0], xy[..., 1]], axis=-1)
    if np.linalg.eigvalsh(sigma).min() <= 1e-12 * np.abs(sigma).max():
        raise ValueError("the CL distribution is degenerate (singular covariance; e.g. y = 0 for a real M): "
                         "it has no density in (x, y)")
    chol = np.linalg.cholesky(sigma)
    w = scipy.linalg.solve_triangular(chol, v.reshape(-1, 2 * n).T, lower=True).T.reshape(v.shape)
    log_det = 2 * np.sum(np.log(np.diag(chol)))
    return -0.5 * np.sum(w**2, axis=-1) - 0.5 * log_det - n * np.log(2 * np.pi)


# ---------------------------------------------------------------------------
# samples of P(x, y) for any action, and estimates from them
# ---------------------------------------------------------------------------


def check_cl_couplings(model: str, sigma: complex, lam: complex) -> None:
    r"""`ValueError` naming the value unless `model` is one of `CL_MODELS` and the integral of
    $e^{-S}$ converges: Re sigma > 0 for a Gaussian action (`gauss`, or `lam` = 0), Re lam > 0
    otherwise, both finite."""
    if model not in CL_MODELS:
        raise ValueError(f"model={model!r}: expected one of {list(CL_MODELS)}")
    for name, value in (("sigma", sigma), ("lam", lam)):
        if not cmath.isfinite(complex(value)):
            raise ValueError(f"{name}={value!r}: expected a finite complex number")
    if lam != 0 and complex(lam).real <= 0:
        raise ValueError(f"lam={lam!r} needs Re lam > 0 for exp(-lam z^4/4) to decay (or 0: a Gaussian)")
    if (model == "gauss" or lam == 0) and complex(sigma).real <= 0:
        raise ValueError(f"sigma={sigma!r} needs Re sigma > 0 when the action is Gaussian: the integral diverges")


def cl_model(model: str, sigma: complex, lam: complex = 0, *, n_sites: int = 16, spacing: float = 0.5):
    r"""One of the actions of the complex-Langevin studies with its exact references.

    `gauss`: $S = \sigma z^2/2$; `quartic`: $S = \sigma z^2/2 + \lambda z^4/4$ (the Gaussian for
    $\lambda = 0$); `chain`: `n_sites` complex anharmonic oscillators on a periodic imaginary-time
    lattice of spacing `spacing` (`AnharmonicChainAction`).

    **Arguments:** `model` (`CL_MODELS`), couplings `sigma`, `lam` (complex; `check_cl_couplings`),
    `n_sites`, `spacing` (chain only).

    **Returns:** `(action, site_shape, reference)`: the action, the shape of one configuration (`()`
    or `(n_sites,)`), and `reference_observables` of the exact moments (and of the exact CL
    covariance where it is known: the Gaussian actions).
    """
    check_cl_couplings(model, sigma, lam)
    sigma, lam = complex(sigma), complex(lam)
    if model == "gauss" or (model == "quartic" and lam == 0):
        action = GaussianAction(sigma)
        return action, (), reference_observables(action.moments(), action.cl_covariance())
    if model == "quartic":
        action = QuarticAction(sigma, lam)
        return action, (), reference_observables(action.moments())
    action = AnharmonicChainAction(sigma, lam, a=spacing, n_sites=n_sites)
    covariance = action.cl_covariance() if lam == 0 else None
    return action, (n_sites,), reference_observables(action.moments(), covariance)


def cl_ensemble(action: Any, key: PRNGKeyArray, site_shape: tuple[int, ...] = (), *, dt: float, chains: int,
                time: float, therm: float, measure_every: float, chunks: int = 1, solver: str = "shark",
                adaptive: bool = False, noise: str = "gaussian", bound: float | None = None,
                progress: bool = False):
    r"""Complex Langevin samples of `action`: `chains` chains start at z = 0, thermalise for Langevin
    time `therm` with the adaptive step (`cl_thermalise`, which also measures $K_\text{ref}$), then
    run for Langevin time `time` in `chunks` (a progress bar shows the running Re<z^2>), storing a
    state every `measure_every`, with a fixed step `dt` of `solver` or the adaptive Euler step.

    **Arguments:** `action`; `key`; `site_shape` of one configuration; `dt` (Langevin time, the
    largest step if `adaptive`), `chains`, `time`, `therm`, `measure_every`, `chunks`; `solver`,
    `adaptive`, `noise` as `cl_chains`; `bound`: if given, a state with |z| > `bound` or non-finite
    is a runaway and a `ValueError` (as is a `RunawayError` of the sampler); `progress`.

    **Returns:** `(z, weights, k_ref)`: z (measurements, chains, *site_shape) complex, the
    Langevin-time weights (measurements, chains) and $K_\text{ref}$ per chain.
    """
    for name, value in (("dt", dt), ("time", time), ("measure_every", measure_every)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"cl_ensemble: {name}={value!r} must be a finite number > 0 (Langevin time)")
    if not (math.isfinite(therm) and therm >= 0):
        raise ValueError(f"cl_ensemble: therm={therm!r} must be a finite number >= 0 (Langevin time)")
    for name, value in (("chains", chains), ("chunks", chunks)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"cl_ensemble: {name}={value!r} must be a positive int")
    thin = max(1, round(measure_every / dt))
    per_chunk = max(1, round(time / (thin * dt) / chunks))
    key, therm_key = jax.random.split(key)
    n_therm = max(1, round(therm / dt))
    thermalise = jax.jit(jax.vmap(lambda z, k: cl_thermalise(action, k, z, dt=dt, n_steps=n_therm)))
    z, k_ref = thermalise(jnp.zeros((chains, *site_shape), jnp.complex64), jax.random.split(therm_key, chains))
    options = dict(dt=dt, n_samples=per_chunk, thin=thin, adaptive=adaptive, k_ref=k_ref if adaptive else None,
                   solver="euler" if adaptive else solver, noise=noise)
    samples, weights = [], []
    try:
        with tqdm(total=chunks, desc="complex-langevin", disable=not progress) as bar:
            for i in range(chunks):
                zs, ws = cl_chains(action, jax.random.split(jax.random.fold_in(key, i), chains), z, **options)
                z = zs[-1]
                samples.append(np.asarray(zs))
                weights.append(np.asarray(ws))
                z2 = np.mean(np.concatenate(samples) ** 2, axis=tuple(range(2, zs.ndim)))
                bar.set_postfix(re_z2=f"{weighted_mean(z2.real, np.concatenate(weights)).value:.4f}")
                bar.update()
    except RunawayError as e:
        if bound is None:
            raise
        raise ValueError(f"complex Langevin ran away ({e}): use a smaller dt (now {dt}) or another solver") from e
    z, w = np.concatenate(samples), np.concatenate(weights)
    if bound is not None:
        size = np.abs(z)
        if not np.all(np.isfinite(size)) or size.max() > bound:
            top = np.nanmax(np.where(np.isfinite(size), size, np.inf))
            raise ValueError(f"complex Langevin ran away: |z| reached {top:.3g} (bound={bound}): use a smaller "
                             f"dt (now {dt})")
    return z, w, np.asarray(k_ref)


def moment_estimates(z: Complex[ArrayLike, "T ..."], weights: Float[ArrayLike, "T ..."], orders,
                     n_blocks: int = 20) -> dict[int, tuple[Estimate, Estimate]]:
    r"""$\langle z^n\rangle$ (averaged over the sites) for each order: `{n: (Re estimate, Im estimate)}`,
    Langevin-time weighted jackknife (`weighted_mean`). Warns when the sample cannot support an order:
    the relative standard error of $|\langle z^n\rangle|$ above `MAX_RELATIVE_ERROR`.

    **Arguments:** `z` (T, [chains,] *sites) complex states; `weights` (T,) or (T, chains), the
    leading axes of `z`; `orders`, positive ints; `n_blocks` >= 2.

    **Returns:** a dict from order to a pair of `Estimate`s (real, imaginary part).
    """
    z = np.asarray(z, np.complex128)
    weights = np.asarray(weights, np.float64)
    if z.shape[:weights.ndim] != weights.shape:
        raise ValueError(f"moment_estimates: weights of shape {weights.shape}: expected the leading axes of z "
                         f"{z.shape}")
    site_axes = tuple(range(weights.ndim, z.ndim))
    out = {}
    for n in orders:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"moment_estimates: order {n!r}: expected a positive int")
        p = np.mean(z**n, axis=site_axes)
        est = weighted_mean(np.stack([p.real, p.imag], axis=-1), weights, n_blocks)
        re, im = (Estimate(float(est.value[i]), float(est.error[i])) for i in (0, 1))
        rel = math.hypot(re.error, im.error) / max(math.hypot(re.value, im.value), 1e-300)
        if rel > MAX_RELATIVE_ERROR:
            warnings.warn(
                f"<z^{n}>: the sample of {weights.size} measurements cannot support order {n}: its relative "
                f"standard error is {rel:.2g} (> {MAX_RELATIVE_ERROR}); use more samples or lower orders",
                stacklevel=2)
        out[int(n)] = (re, im)
    return out


def neighbour_correlations(z: Complex[ArrayLike, "T ... sites"], weights: Float[ArrayLike, "T ..."],
                           n_blocks: int = 20) -> dict[str, Estimate]:
    r"""Site-averaged $\langle x_i x_{i+1}\rangle$, $\langle y_i y_{i+1}\rangle$, $\langle x_i y_{i+1}\rangle$
    (keys `x0x1`, `y0y1`, `x0y1`) of periodic chain states `z` (T, [chains,] sites), weighted
    jackknife (`weighted_mean`).

    **Returns:** a dict of `Estimate`s.
    """
    z = np.asarray(z, np.complex128)
    x, y = z.real, z.imag
    nx, ny = np.roll(x, -1, axis=-1), np.roll(y, -1, axis=-1)
    obs = np.stack([np.mean(x * nx, -1), np.mean(y * ny, -1), np.mean(x * ny, -1)], axis=-1)
    est = weighted_mean(obs, weights, n_blocks)
    return {k: Estimate(float(est.value[i]), float(est.error[i])) for i, k in enumerate(("x0x1", "y0y1", "x0y1"))}
