r"""Exact log-likelihood of a diffusion model through the probability-flow ODE.

Along a solution of $dx/dt = v(t, x) = f(t)x - \tfrac12 g(t)^2 S(x, t)$ the instantaneous change of
variables (Chen et al. 2018; Song et al. 2021) gives

$$ \log p_{t_{min}}(x) = \log p_T(x_T) + \int_{t_{min}}^{t_{max}} \nabla\!\cdot v(t, x_t)\,dt , $$

with $p_T$ the prior of the process. The divergence is exact (the trace of the Jacobian from
`jax.linearize` and one JVP per component: small states) or Hutchinson's estimate
$\tfrac1n\sum_k \epsilon_k^\top J \epsilon_k$ with $n$ Rademacher probes held fixed along the
trajectory (unbiased; variance $\propto 1/n$).

`sample_with_log_density` gives instead the exact density of what a fixed-step sampler actually
draws: EDM's Heun sampler is a deterministic map $x = T(z)$ of the prior draw $z$, a composition of
steps $T = T_N\circ\dots\circ T_1$, so

$$ \log q(x) = \log p_T(z) - \sum_{n=1}^{N}\log\big|\det \partial T_n/\partial x\big| , $$

each step's full Jacobian taken by one JVP per component and its log-determinant by an LU
decomposition, which also gives its sign. No ODE tolerance enters: while every step preserves
orientation ($\det > 0$) and is injective, an independence-Metropolis correction with this
$\log q$ is exact for any number of steps and any score (a worse map only lowers the acceptance).
A step with $\det \le 0$ folds the map; such samples are marked and, by default, rejected
(`sample_with_log_density`, `FOLD_MODES`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PRNGKeyArray, PyTree
from tqdm.auto import tqdm

from dphys.diffusion.processes import AbstractProcess
from dphys.diffusion.samplers import (
    ODE_SAMPLER_SOLVERS,
    EDMHeun,
    SampleInfo,
    check_sampler_args,
    concrete_float,
    denoised_mean,
    heun_step,
    initial_states,
    ode_solve,
    probability_flow,
    state_struct,
    time_grid,
)
from dphys.diffusion.score import check_data, check_score, get_process

__all__ = ["FOLD_MODES", "LikelihoodInfo", "log_likelihood", "sample_with_log_density"]


class LikelihoodInfo(NamedTuple):
    """Parts of `log_likelihood` (per sample): `prior_logp` = log p_T(x_T), `delta_logp` = the
    divergence integral, `x_T` the states at t_max, `n_score_evals` the mean number of
    vector-field (score) evaluations, `n_jvps` the Jacobian-vector products per sample."""

    prior_logp: Float[Array, " batch"]
    delta_logp: Float[Array, " batch"]
    x_T: PyTree[Array]
    n_score_evals: float
    n_jvps: float


def _batch_size(name: str, batch_size, default: int) -> int:
    if batch_size is None:
        return default
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"{name}: batch_size must be None or an integer > 0, got {batch_size!r}")
    return int(batch_size)


@eqx.filter_jit
def _solve(score, process, x, probes, solver, rtol, atol, max_steps, batch_size):
    v = probability_flow(process, score)
    flat0, unravel = ravel_pytree(jtu.tree_map(lambda a: a[0], x))
    d = flat0.size

    def v_flat(t, y):
        return ravel_pytree(v(t, unravel(y)))[0]

    def one(x0, eps):
        def field(t, state):
            y, _ = state
            vy, jvp = jax.linearize(lambda y: v_flat(t, y), y)
            if eps is None:
                div = jnp.trace(jax.vmap(jvp)(jnp.eye(d, dtype=y.dtype)))
            else:
                div = jnp.mean(jnp.sum(eps * jax.vmap(jvp)(eps), axis=1))
            return vy, div

        y0 = (ravel_pytree(x0)[0], jnp.zeros((), flat0.dtype))
        ys, evals = ode_solve(field, y0, process.t_min, process.t_max, np.array([process.t_max]),
                              solver=solver, rtol=rtol, atol=atol, max_steps=max_steps, name="log_likelihood")
        y_T, delta = ys[0][-1], ys[1][-1]
        x_T = unravel(y_T)
        return process.prior_log_prob(x_T), delta, x_T, evals

    if probes is None:
        return jax.lax.map(lambda x0: one(x0, None), x, batch_size=batch_size)
    return jax.lax.map(lambda args: one(*args), (x, probes), batch_size=batch_size)


def log_likelihood(
    score: Callable,
    x: PyTree[Float[Array, "batch ..."]],
    key: PRNGKeyArray | None = None,
    n_probes: int | None = None,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-5,
    solver: str = "tsit5",
    max_steps: int = 100_000,
    batch_size: int | None = None,
    process: AbstractProcess | None = None,
) -> tuple[Float[Array, " batch"], LikelihoodInfo]:
    r"""Log-density $\log p_{t_{min}}(x)$ of each state in nats, by the probability-flow ODE from
    `t_min` to `t_max` plus the prior log-density there (module docstring). With the exact score
    of the data the result is exact up to the ODE tolerance and the prior's mismatch with the true
    marginal at `t_max` (both reported in `info`).

    **Arguments:**

    - `score`: `score(x, t)` on one state with a `process` (or pass `process=`).
    - `x`: states, a PyTree with a leading batch axis; finite.
    - `key`: PRNG key of the Hutchinson probes (required when `n_probes` is set).
    - `n_probes`: None for the exact divergence (cost: one JVP per component per evaluation),
      or the number (> 0) of Rademacher probes of Hutchinson's estimator.
    - `rtol`, `atol`, `solver` (`tsit5`, `dopri5`, `dopri8`), `max_steps`: the adaptive ODE solve.
    - `batch_size`: states solved together (vmapped); the batches run one after another, so memory
      is bounded by `batch_size` states with their d JVPs (exact divergence) or probes. Default:
      `max(1, 4096 // d)` for the exact divergence (a 16x16 lattice: 16 states), all states for
      Hutchinson. The result does not depend on it: every state has its own adaptive steps.

    **Returns:** `(logp, info)`: `logp` of shape `(batch,)`; a `LikelihoodInfo`.
    """
    name = "log_likelihood"
    process = get_process(score, process, name)
    if solver not in ODE_SAMPLER_SOLVERS:
        raise ValueError(f"{name}: unknown solver {solver!r}; expected one of {sorted(ODE_SAMPLER_SOLVERS)}")
    for what, value in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name}: {what} must be a finite number > 0, got {value!r}")
    if not isinstance(max_steps, int) or max_steps <= 0:
        raise ValueError(f"{name}: max_steps must be a positive int, got {max_steps!r}")
    x = check_data(name, x)
    check_score(name, score, jtu.tree_map(lambda a: a[0], x), process.t_min)
    leaves = jtu.tree_leaves(x)
    n = leaves[0].shape[0]
    d = sum(int(np.prod(a.shape[1:])) for a in leaves)
    probes = None
    if n_probes is not None:
        if isinstance(n_probes, bool) or not isinstance(n_probes, (int, np.integer)) or n_probes <= 0:
            raise ValueError(f"{name}: n_probes must be None (exact divergence) or an integer > 0, got {n_probes!r}")
        if key is None:
            raise ValueError(f"{name}: n_probes={n_probes} needs a PRNG key for the Hutchinson probes, got key=None")
        dtype = jnp.result_type(leaves[0])
        probes = jax.random.rademacher(key, (n, int(n_probes), d), dtype=dtype)
    batch_size = _batch_size(name, batch_size, n if n_probes is not None else max(1, 4096 // d))
    prior, delta, x_T, evals = _solve(score, process, x, probes, solver, float(rtol), float(atol), max_steps,
                                      min(int(batch_size), n))
    n_evals = concrete_float(jnp.mean(evals))
    info = LikelihoodInfo(prior, delta, x_T, n_evals, n_evals * (d if n_probes is None else n_probes))
    return prior + delta, info


def _slogdet_step(step, y):
    """(step(y), sign, log|det d step/d y|) of a map of flat vectors: the full Jacobian by d JVPs
    and its LU decomposition (sign 0 for a singular Jacobian)."""
    y_new, jvp = jax.linearize(step, y)
    jac_t = jax.vmap(jvp)(jnp.eye(y.size, dtype=y.dtype))  # rows J e_i: the transpose, same determinant
    sign, log_abs = jnp.linalg.slogdet(jac_t)
    return y_new, sign, log_abs


@eqx.filter_jit
def _heun_density(score, process, x, grid, denoise, batch_size, prior_log_prob):
    """Per state: (Heun sample, log q = log p_T(z) - sum log|det J_n|, whether every step's
    determinant was positive)."""
    grid = jnp.asarray(grid, jnp.result_type(float))
    unravel = ravel_pytree(jtu.tree_map(lambda a: a[0], x))[1]

    def flat(fn):
        return lambda y: ravel_pytree(fn(unravel(y)))[0]

    def one(x0):
        def body(carry, i):
            y, log_q, positive = carry
            y, sign, log_det = _slogdet_step(flat(lambda u: heun_step(process, score, grid, i, u)), y)
            return (y, log_q - log_det, positive & (sign > 0)), None

        y0 = ravel_pytree(x0)[0]
        init = (y0, prior_log_prob(x0), jnp.asarray(True))
        (y, log_q, positive), _ = jax.lax.scan(body, init, jnp.arange(grid.shape[0] - 1))
        if denoise:
            y, sign, log_det = _slogdet_step(flat(lambda u: denoised_mean(process, score, u, process.t_min)), y)
            log_q, positive = log_q - log_det, positive & (sign > 0)
        return unravel(y), log_q, positive

    return jax.lax.map(one, x, batch_size=batch_size)


FOLD_MODES = {
    "reject": "log q = +inf for a sample through a step with det J <= 0 (independence Metropolis rejects it)",
    "ignore": "log q from log|det J| whatever its sign (the sign-blind density; not exact where the map folds)",
}


def sample_with_log_density(
    score: Callable,
    key: PRNGKeyArray,
    shape: tuple[int, ...] | PyTree,
    n_samples: int = 1,
    steps: int = 18,
    *,
    rho: float = 7.0,
    denoise: bool = False,
    x_init: PyTree[Array] | None = None,
    batch_size: int | None = None,
    prior_log_prob: Callable | None = None,
    progress: bool | str = False,
    fold: str = "reject",
    sampler: EDMHeun | None = None,
    process: AbstractProcess | None = None,
) -> tuple[PyTree[Array], Float[Array, " n"], SampleInfo]:
    r"""Samples of EDM's Heun sampler (`sample(..., sampler="heun")`, the same states) together with
    the exact log-density $\log q$ of each under the sampler's own deterministic map (module
    docstring): the proposal density of an exact independence-Metropolis correction.

    **Arguments:** `score`, `key`, `shape`, `n_samples`, `steps`, `rho`, `denoise`, `x_init`,
    `process` as for `sample` (`x_init`, if given, must be prior draws: $\log q$ counts them as
    such). `batch_size`: states processed together, each with its d JVPs per evaluation (default
    `max(1, 4096 // d)`); the result does not depend on it. `prior_log_prob`: the log-density of
    the initial states as a function of one state (default `process.prior_log_prob`); e.g. a
    wrapped normal for states on a torus, where a score periodic in the state makes the Heun map
    commute with the periods, so that the density of the wrapped samples is the wrapped prior's
    divided by the same Jacobian determinant. `progress`: a progress bar over the batches (a
    string is its label); the batches then run as separate calls, with the same results.
    `fold` (`FOLD_MODES`): what to do with a sample whose map passed through a step with
    $\det J \le 0$ (below). `sampler`: an `EDMHeun` object, whose `steps` and `rho` replace the
    arguments of those names.

    **Folds.** A step with $\det J < 0$ at the sample's point reverses orientation there: the
    step folds, is not injective, and the density of its output is a sum over several preimages,
    not the single term computed here. With `fold="reject"` (default) such a sample gets
    $\log q = +\infty$ and is counted in `info.folded`; `dphys.mcmc.independence_chain` (and
    `metropolis_correct`) reject it. Every step's $\det J > 0$ along the sample's own path is
    necessary for the single-term density to be right, not sufficient: two orientation-preserving
    sheets of a folded step can still overlap near the fold. The fraction `info.folded.mean()`
    measures how far the map is from a diffeomorphism; keep it small (more steps, a smoother
    score) for an exact correction.

    **Cost:** per sample, `2 * steps` (+1 with `denoise`) score evaluations, each with d JVPs, and
    `steps` log-determinants of d x d matrices.

    **Returns:** `(x, log_q, info)`: samples with a leading axis `n_samples`, their log-densities in
    nats `(n_samples,)` (`+inf` for a rejected fold), and a `SampleInfo` whose `folded` marks the
    samples with a non-positive step determinant.
    """
    name = "sample_with_log_density"
    if sampler is not None:
        if not isinstance(sampler, EDMHeun):
            raise ValueError(f"{name}: sampler must be an EDMHeun (the map whose density is known), got {sampler!r}")
        steps, rho = sampler.steps, sampler.rho
    if fold not in FOLD_MODES:
        raise ValueError(f"{name}: fold={fold!r}, expected one of {sorted(FOLD_MODES)}")
    process = get_process(score, process, name)
    steps, n_samples, *_ = check_sampler_args(name, "heun", steps, n_samples, None, 0, None, None, None)
    struct = state_struct(name, shape)
    check_score(name, score, struct, process.t_max)
    d = sum(int(np.prod(a.shape)) for a in jtu.tree_leaves(struct))
    batch_size = _batch_size(name, batch_size, max(1, 4096 // d))
    x = initial_states(name, process, jax.random.split(key)[0], struct, n_samples, x_init)  # as `sample` draws
    grid = tuple(float(t) for t in time_grid(process, "heun", steps, rho))
    if prior_log_prob is None:
        prior_log_prob = process.prior_log_prob
    elif not callable(prior_log_prob):
        raise ValueError(f"{name}: prior_log_prob must be a function of one state, got {prior_log_prob!r}")
    batch_size = min(batch_size, n_samples)

    def run(x):
        return _heun_density(score, process, x, grid, bool(denoise), batch_size, prior_log_prob)

    if progress:
        starts = range(0, n_samples, batch_size)
        label = progress if isinstance(progress, str) else name
        parts = [run(jtu.tree_map(lambda a: a[i:i + batch_size], x)) for i in tqdm(starts, desc=label, unit="batch")]
        x, log_q, positive = jtu.tree_map(lambda *a: jnp.concatenate(a), *parts)
    else:
        x, log_q, positive = run(x)
    if fold == "reject":
        log_q = jnp.where(positive, log_q, jnp.inf)
    return x, log_q, SampleInfo(float(2 * steps + bool(denoise)), None, "heun", steps, ~positive)
