r"""Samplers of score-based diffusion models: the reverse-time SDE and the probability-flow ODE.

For a forward process $dx = f(t)x\,dt + g(t)\,dW$ with score $S(x, t) \approx \nabla\log p_t(x)$,

- reverse SDE (Anderson 1982): $dx = [f(t)x - g(t)^2 S(x,t)]\,dt + g(t)\,d\bar W$, integrated from
  `t_max` down to `t_min`;
- probability-flow ODE (Song et al. 2021): $dx/dt = f(t)x - \tfrac12 g(t)^2 S(x,t)$, which has the
  same marginals $p_t$.

Samplers (`SAMPLERS`), each counting its score evaluations per sample:

- `"em"`: Euler-Maruyama on the reverse SDE through `dphys.integrate_sde` (the fast sampling path),
  `steps` steps on the process's time schedule $t(u)$, $u = 0 .. 1$ uniform: the SDE is written in
  $u$, $dx = F(t(u), x)\,t'(u)\,du + g(t(u))\sqrt{-t'(u)}\,dW_u$, so EDM's $\rho$-schedule is an
  equal-step solve. One evaluation per step.
- `"pc"`: predictor-corrector (Song et al. 2021, Alg. 4/5): at every step `n_corrector` Langevin
  corrector steps $x \leftarrow x + \epsilon S + \sqrt{2\epsilon}\,z$ with
  $\epsilon = 2(r\langle\|z\|\rangle/\langle\|S\|\rangle)^2$ (norms per sample, averaged over the
  batch, as in score_sde) at signal-to-noise ratio $r$ = `snr`, then one Euler-Maruyama
  predictor step. `steps * (n_corrector + 1)` evaluations.
- `"ode"`: the probability-flow ODE with a diffrax adaptive Runge-Kutta solver (tolerances `rtol`,
  `atol`), one solve per sample; the count is the solver's exact count of vector-field evaluations
  ($1 + (\text{stages} - 1)$ per step for the FSAL solvers), averaged over samples.
- `"heun"`: the deterministic EDM sampler (Karras et al. 2022, Alg. 1): Heun's method on the
  PF-ODE written in the noise level $\sigma = s_t/\alpha_t$ for the scaled state $\hat x = x/\alpha_t$,
  $d\hat x/d\sigma = -\sigma\alpha_t S(\alpha_t\hat x, t)$ (the VE flow, for every process), over EDM's
  noise-level schedule (`process.karras_schedule`, exponent `rho`), 2 evaluations
  per step. EDM's "18 steps, 35 evaluations" is `steps=17, denoise=True`.

With `denoise=True` a last evaluation maps $x_{t_{min}}$ to Tweedie's posterior mean
$\mathbb E[x_0 \mid x_t] = (x + s_t^2 S)/\alpha_t$ (EDM's final Euler step to $\sigma = 0$).
States may be arrays or PyTrees; the batch is a leading axis of every leaf and the score is vmapped.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, ClassVar

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, PRNGKeyArray, PyTree

from dphys._checks import positive_number
from dphys.diffusion.processes import AbstractProcess
from dphys.diffusion.score import check_score, get_process
from dphys.sde import integrate_sde

__all__ = ["SAMPLERS", "ODE_SAMPLER_SOLVERS", "AbstractSampler", "EDMHeun", "EulerMaruyama", "PredictorCorrector",
           "ProbabilityFlowODE", "SampleInfo", "sample", "forward", "probability_flow"]

SAMPLERS = {
    "em": "reverse-SDE Euler-Maruyama (dphys.integrate_sde), 1 evaluation per step",
    "pc": "predictor-corrector: Langevin corrector at snr + Euler-Maruyama predictor",
    "ode": "probability-flow ODE, diffrax adaptive Runge-Kutta (rtol, atol)",
    "heun": "EDM deterministic Heun sampler on the probability-flow ODE, 2 evaluations per step",
}

# explicit FSAL Runge-Kutta solvers whose evaluation count is 1 + (stages - 1) * num_steps
ODE_SAMPLER_SOLVERS: dict[str, type[dfx.AbstractSolver]] = {
    "tsit5": dfx.Tsit5,
    "dopri5": dfx.Dopri5,
    "dopri8": dfx.Dopri8,
}


class SampleInfo(eqx.Module):
    """What `sample` reports besides the samples (a PyTree: `jax.jit(sample)` returns it).

    - `n_score_evals`: score evaluations per sample (for `"ode"` the mean over samples; an array
      when computed under a transformation).
    - `trajectory`: `(times, states)` when `save_every` was set, else None: `times` an array
      of decreasing times, `states` a PyTree with leading axes `(len(times), n_samples)`.
    - `sampler`, `steps`: as passed (static).
    - `folded`: from `sample_with_log_density`, per sample whether a step of the map had a
      non-positive Jacobian determinant (else None).
    """

    n_score_evals: float | Array
    trajectory: tuple[Array, PyTree[Array]] | None
    sampler: str = eqx.field(static=True)
    steps: int = eqx.field(static=True)
    folded: Array | None = None


def concrete_float(x) -> float | Array:
    """`float(x)` when `x` is concrete, else `x` itself (inside a user's jit or vmap)."""
    return x if isinstance(x, jax.core.Tracer) else float(x)


class AbstractSampler(eqx.Module):
    """A sampler of `sample`, as an object: its settings are fields and it knows its number of
    score evaluations per sample (`n_score_evals`; for the adaptive ODE only an upper bound is
    unknown beforehand, so it is None there and `SampleInfo.n_score_evals` has the measured one).
    Concrete samplers: `EulerMaruyama`, `PredictorCorrector`, `ProbabilityFlowODE`, `EDMHeun`."""

    name: ClassVar[str]

    @abc.abstractmethod
    def options(self) -> dict[str, Any]:
        """The keyword arguments of `sample` this sampler stands for."""

    @property
    @abc.abstractmethod
    def n_score_evals(self) -> int | None:
        """Score evaluations per sample (None where only the solve knows it)."""


class EulerMaruyama(AbstractSampler):
    """Euler-Maruyama on the reverse SDE through `dphys.integrate_sde`: `steps` steps, one score
    evaluation each."""

    name: ClassVar[str] = "em"
    steps: int = eqx.field(static=True, default=500)

    def options(self):
        return {"steps": self.steps}

    @property
    def n_score_evals(self):
        return self.steps


class PredictorCorrector(AbstractSampler):
    """Predictor-corrector (Song et al. 2021): per step `n_corrector` Langevin corrector steps at
    signal-to-noise ratio `snr`, then an Euler-Maruyama predictor; `steps * (n_corrector + 1)`
    evaluations."""

    name: ClassVar[str] = "pc"
    steps: int = eqx.field(static=True, default=500)
    snr: float = eqx.field(static=True, default=0.16)
    n_corrector: int = eqx.field(static=True, default=1)

    def options(self):
        return {"steps": self.steps, "snr": self.snr, "n_corrector": self.n_corrector}

    @property
    def n_score_evals(self):
        return self.steps * (self.n_corrector + 1)


class ProbabilityFlowODE(AbstractSampler):
    """The probability-flow ODE with an adaptive diffrax Runge-Kutta solver (`solver`: a name of
    `ODE_SAMPLER_SOLVERS` or an instance of one of those classes) at tolerances `rtol`, `atol`
    (PID controller), at most `max_steps` steps; `steps` is only the grid of a saved trajectory."""

    name: ClassVar[str] = "ode"
    solver: str = eqx.field(static=True, default="tsit5")
    rtol: float = eqx.field(static=True, default=1e-5)
    atol: float = eqx.field(static=True, default=1e-5)
    max_steps: int = eqx.field(static=True, default=100_000)
    steps: int = eqx.field(static=True, default=500)

    def __check_init__(self):
        solver = self.solver
        if not isinstance(solver, str):
            names = [k for k, cls in ODE_SAMPLER_SOLVERS.items() if type(solver) is cls]
            if not names:
                raise ValueError(f"ProbabilityFlowODE: solver {solver!r} must be one of {sorted(ODE_SAMPLER_SOLVERS)} "
                                 f"or an instance of their diffrax classes")

    def options(self):
        solver = self.solver if isinstance(self.solver, str) else next(
            k for k, cls in ODE_SAMPLER_SOLVERS.items() if type(self.solver) is cls)
        return {"steps": self.steps, "solver": solver, "rtol": self.rtol, "atol": self.atol,
                "max_steps": self.max_steps}

    @property
    def n_score_evals(self):
        return None


class EDMHeun(AbstractSampler):
    """EDM's deterministic Heun sampler (Karras et al. 2022, Alg. 1) over the noise-level schedule
    with exponent `rho`: `steps` steps, 2 evaluations each (`denoise=True` in `sample` adds one;
    EDM's "18 steps, 35 evaluations" is `EDMHeun(17)` with `denoise=True`)."""

    name: ClassVar[str] = "heun"
    steps: int = eqx.field(static=True, default=18)
    rho: float = eqx.field(static=True, default=7.0)

    def options(self):
        return {"steps": self.steps, "rho": self.rho}

    @property
    def n_score_evals(self):
        return 2 * self.steps


def _positive_int(name: str, what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}: {what} must be a positive integer, got {value!r}")
    return int(value)


_positive_float = positive_number


def state_struct(name: str, shape: Any) -> PyTree:
    """A PyTree of ShapeDtypeStructs from a shape tuple (one array) or a PyTree of arrays/structs."""
    if isinstance(shape, (tuple, list)) and all(isinstance(s, (int, np.integer)) for s in shape):
        if any(s <= 0 for s in shape):
            raise ValueError(f"{name}: shape {tuple(shape)} must have positive sizes")
        return jax.ShapeDtypeStruct(tuple(int(s) for s in shape), jnp.result_type(float))
    leaves = jtu.tree_leaves(shape)
    if not leaves:
        raise ValueError(f"{name}: shape must be a tuple of ints or a PyTree of arrays/ShapeDtypeStructs, "
                         f"got {shape!r}")
    return jtu.tree_map(lambda a: jax.ShapeDtypeStruct(jnp.shape(a), getattr(a, "dtype", jnp.result_type(float))),
                        shape)


def _with_guidance(score: Callable, guidance: Callable | None) -> Callable:
    if guidance is None:
        return score
    if not callable(guidance):
        raise ValueError(f"guidance must be a callable fn(x, t) -> like x, got {guidance!r}")
    return lambda x, t: jtu.tree_map(jnp.add, score(x, t), guidance(x, t))


def _batched(score: Callable) -> Callable:
    return jax.vmap(score, in_axes=(0, None))


def _axpy(a, x, y):
    return jtu.tree_map(lambda xi, yi: a * xi + yi, x, y)


def _normal_like(key: PRNGKeyArray, tree: PyTree) -> PyTree:
    leaves, treedef = jtu.tree_flatten(tree)
    keys = jax.random.split(key, len(leaves))
    return jtu.tree_unflatten(treedef, [jax.random.normal(k, a.shape, a.dtype) for a, k in zip(leaves, keys)])


def _prior(process: AbstractProcess, key: PRNGKeyArray, struct: PyTree, n: int) -> PyTree:
    batch = jtu.tree_map(lambda s: jax.ShapeDtypeStruct((n, *s.shape), s.dtype), struct)
    return jtu.tree_map(lambda z: process.prior_std * z, _normal_like(key, batch))


def _norm(tree: PyTree, n: int) -> Array:
    """Per-sample Euclidean norm over all components of a batched PyTree."""
    return jnp.sqrt(sum(jnp.sum(a.reshape(n, -1) ** 2, axis=1) for a in jtu.tree_leaves(tree)))


def _per_sample(c: Array, a: Array) -> Array:
    return c.reshape((-1,) + (1,) * (a.ndim - 1))


def denoised_mean(process, score_b, x, t):
    alpha, s = process.mean_std(t)
    return jtu.tree_map(lambda xi, si: (xi + s**2 * si) / alpha, x, score_b(x, t))


def _save_grid(name: str, steps: int, save_every: int | None) -> np.ndarray:
    """Indices of the saved steps (0 .. steps) for fixed-step samplers."""
    if save_every is None:
        return np.array([steps])
    save_every = _positive_int(name, "save_every", save_every)
    if steps % save_every:
        raise ValueError(f"{name}: save_every={save_every} must divide steps={steps}")
    return np.arange(0, steps + 1, save_every)


def _em(process, score_b, x, key, steps, save_idx):
    def t_and_rate(u):
        return jax.jvp(process.schedule, (u,), (jnp.ones_like(u),))

    def drift(u, x, args):
        t, dt_du = t_and_rate(u)
        f, g2 = process.drift_coefficient(t), process.diffusion(t) ** 2
        return jtu.tree_map(lambda xi, si: (f * xi - g2 * si) * dt_du, x, score_b(x, t))

    def diffusion(u, x, args):
        t, dt_du = t_and_rate(u)
        return process.diffusion(t) * jnp.sqrt(-dt_du)

    us = save_idx / steps
    if us[0] == 0.0:  # the initial state is saved without a solve
        out = integrate_sde(drift, diffusion, x, us, key, dt=1.0 / steps)
    else:
        out = integrate_sde(drift, diffusion, x, us, key, dt=1.0 / steps, t0=0.0)
    return out


def _fixed_loop(step_fn, x, key, steps, save_idx):
    """Run `step_fn(i, x, key) -> x` for i = 0..steps-1 and stack the states at `save_idx`."""
    every = int(save_idx[1] - save_idx[0]) if len(save_idx) > 1 else steps

    def chunk(x, c):
        def body(x, j):
            i = c * every + j
            return step_fn(i, x, jax.random.fold_in(key, i)), None

        x = jax.lax.scan(body, x, jnp.arange(every))[0]
        return x, x

    n_chunks = steps // every
    _, xs = jax.lax.scan(chunk, x, jnp.arange(n_chunks))
    if len(save_idx) > 1:  # saved from step 0
        xs = jtu.tree_map(lambda a0, a: jnp.concatenate([a0[None], a]), x, xs)
    return xs


def _pc(process, score_b, x, key, grid, save_idx, snr, n_corrector):
    n = jtu.tree_leaves(x)[0].shape[0]
    steps = len(grid) - 1
    grid = jnp.asarray(grid, jnp.result_type(float))

    def step(i, x, key):
        t, t_next = grid[i], grid[i + 1]
        ck, pk = jax.random.split(key)

        def corrector(x, k):
            sc = score_b(x, t)
            z = _normal_like(k, x)
            # Song et al.'s step: norms averaged over the batch, so one step size for all samples
            eps = 2 * (snr * jnp.mean(_norm(z, n)) / jnp.mean(_norm(sc, n))) ** 2
            return jtu.tree_map(lambda xi, si, zi: xi + eps * si + jnp.sqrt(2 * eps) * zi, x, sc, z), None

        x = jax.lax.scan(corrector, x, jax.random.split(ck, n_corrector))[0] if n_corrector else x
        dt = t_next - t  # negative
        f, g = process.drift_coefficient(t), process.diffusion(t)
        z = _normal_like(pk, x)
        return jtu.tree_map(lambda xi, si, zi: xi + (f * xi - g**2 * si) * dt + g * jnp.sqrt(-dt) * zi,
                            x, score_b(x, t), z)

    return _fixed_loop(step, x, key, steps, save_idx)


def probability_flow(process: AbstractProcess, score: Callable) -> Callable:
    r"""The probability-flow vector field $v(t, x) = f(t)x - \tfrac12 g(t)^2 S(x, t)$ of one state."""

    def v(t, x):
        f, g2 = process.drift_coefficient(t), process.diffusion(t) ** 2
        return jtu.tree_map(lambda xi, si: f * xi - 0.5 * g2 * si, x, score(x, t))

    return v


def heun_step(process: AbstractProcess, score: Callable, grid: Array, i, x: PyTree) -> PyTree:
    """Step `i` (grid[i] -> grid[i + 1]) of EDM's Heun sampler in the noise level sigma = s/alpha on
    the scaled state x_hat = x/alpha, which follows the VE flow dx_hat/dsigma = -sigma alpha
    S(alpha x_hat, t(sigma)) for every process. `score` takes what `x` is (one state or a batch)."""

    def d(x_hat, t):
        alpha, s = process.mean_std(t)
        sigma = s / alpha
        sc = score(jtu.tree_map(lambda a: alpha * a, x_hat), t)
        return jtu.tree_map(lambda si: -sigma * alpha * si, sc)

    t, t_next = grid[i], grid[i + 1]
    alpha, alpha_next = process.mean_std(t)[0], process.mean_std(t_next)[0]
    h = process.sigma_of_t(t_next) - process.sigma_of_t(t)
    x_hat = jtu.tree_map(lambda a: a / alpha, x)
    d1 = d(x_hat, t)
    d2 = d(_axpy(h, d1, x_hat), t_next)
    return jtu.tree_map(lambda a, u, v: alpha_next * (a + 0.5 * h * (u + v)), x_hat, d1, d2)


def _heun(process, score_b, x, key, grid, save_idx):
    grid = jnp.asarray(grid, jnp.result_type(float))
    return _fixed_loop(lambda i, x, key: heun_step(process, score_b, grid, i, x), x, key, len(grid) - 1, save_idx)


def ode_solve(vector_field, y0, t0, t1, ts, *, solver, rtol, atol, max_steps, name):
    """Adaptive diffrax solve of `dy/dt = vector_field(t, y)` returning (ys at ts, vector-field
    evaluations). Fails with a clear message on max_steps or solver failure."""
    solver_obj = ODE_SAMPLER_SOLVERS[solver]()
    sol = dfx.diffeqsolve(
        dfx.ODETerm(lambda t, y, args: vector_field(t, y)),
        solver_obj, t0=t0, t1=t1, dt0=None, y0=y0,
        saveat=dfx.SaveAt(ts=ts),
        stepsize_controller=dfx.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps, throw=False,
    )
    ys = eqx.error_if(sol.ys, sol.result == dfx.RESULTS.max_steps_reached,
                      f"{name}: solver '{solver}' reached max_steps={max_steps}; raise max_steps or loosen rtol/atol")
    ys = eqx.error_if(ys, sol.result != dfx.RESULTS.successful,
                      f"{name}: solver '{solver}' failed (step size collapsed or non-finite state)")
    evals = 1 + len(solver_obj.tableau.c) * sol.stats["num_steps"]
    return ys, evals


def time_grid(process, sampler, steps, rho):
    """The times t_0 = t_max > t_1 > ... > t_steps = t_min (float64 NumPy) of the fixed-step samplers."""
    u = np.arange(steps + 1, dtype=np.float64) / steps
    with jax.ensure_compile_time_eval():  # a grid of concrete numbers also inside a user's jit
        if sampler == "heun":
            grid = np.array(jax.vmap(lambda u: process.karras_schedule(u, rho))(u), dtype=np.float64)
        else:
            grid = np.array(jax.vmap(process.schedule)(u), dtype=np.float64)
    grid[0], grid[-1] = process.t_max, process.t_min
    return grid


def initial_states(name, process, key, struct, n_samples, x_init):
    """`n_samples` prior draws at t_max, or the checked `x_init`."""
    if x_init is None:
        return _prior(process, key, struct, n_samples)
    x = jtu.tree_map(jnp.asarray, x_init)
    for a, s in zip(jtu.tree_leaves(x), jtu.tree_leaves(struct)):
        if a.shape != (n_samples, *s.shape):
            raise ValueError(f"{name}: x_init has a leaf of shape {a.shape}, expected {(n_samples, *s.shape)}")
        if not isinstance(a, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(a))):
            raise ValueError(f"{name}: x_init contains NaN or inf")
    return x


def check_sampler_args(name, sampler, steps, n_samples, snr, n_corrector, solver, rtol, atol):
    if sampler not in SAMPLERS:
        raise ValueError(f"{name}: unknown sampler {sampler!r}; expected one of {sorted(SAMPLERS)}")
    steps = _positive_int(name, "steps", steps)
    n_samples = _positive_int(name, "n_samples", n_samples)
    if sampler == "pc":
        snr = _positive_float(name, "snr", snr)
        if isinstance(n_corrector, bool) or not isinstance(n_corrector, (int, np.integer)) or n_corrector < 0:
            raise ValueError(f"{name}: n_corrector must be an integer >= 0, got {n_corrector!r}")
    if sampler == "ode":
        if solver not in ODE_SAMPLER_SOLVERS:
            raise ValueError(f"{name}: unknown ODE solver {solver!r}; expected one of {sorted(ODE_SAMPLER_SOLVERS)}")
        rtol, atol = _positive_float(name, "rtol", rtol), _positive_float(name, "atol", atol)
    return steps, n_samples, snr, rtol, atol


def sample(
    score: Callable,
    key: PRNGKeyArray,
    shape: tuple[int, ...] | PyTree,
    n_samples: int = 1,
    sampler: str | AbstractSampler = "em",
    steps: int = 500,
    snr: float = 0.16,
    rtol: float = 1e-5,
    atol: float = 1e-5,
    guidance: Callable | None = None,
    save_every: int | None = None,
    *,
    n_corrector: int = 1,
    denoise: bool = False,
    solver: str = "tsit5",
    max_steps: int = 100_000,
    rho: float = 7.0,
    x_init: PyTree[Array] | None = None,
    process: AbstractProcess | None = None,
) -> tuple[PyTree[Array], SampleInfo]:
    r"""Draw `n_samples` states from a diffusion model by integrating from the prior at `t_max`
    back to `t_min` (module docstring for the samplers).

    **Arguments:**

    - `score`: `score(x, t) -> like x` on one state with a `process` attribute (`ScoreModel`,
      `GaussianScore`, ...), or any such callable together with `process=`.
    - `key`: PRNG key (prior draw and noise).
    - `shape`: shape of one state (a tuple), or a PyTree of arrays/ShapeDtypeStructs for PyTree states.
    - `n_samples`: number of samples (> 0).
    - `sampler`: a sampler object (`EulerMaruyama(steps)`, `PredictorCorrector(steps, snr,
      n_corrector)`, `ProbabilityFlowODE(solver, rtol, atol, max_steps)`, `EDMHeun(steps, rho)`),
      whose fields replace the keyword arguments below, or one of the names `"em"`, `"pc"`,
      `"ode"`, `"heun"` with those keyword arguments.
    - `steps`: steps of the fixed-step samplers (> 0); for `"ode"` only the trajectory grid.
    - `snr`: signal-to-noise ratio of the `"pc"` corrector (> 0); `n_corrector` its steps per step.
    - `rtol`, `atol`, `solver` (`ODE_SAMPLER_SOLVERS`), `max_steps`: the `"ode"` solve.
    - `guidance`: optional `fn(x, t) -> like x` added to the score (e.g. `-w(t) grad S(x)`).
    - `save_every`: save the batch every `save_every` steps (must divide `steps`) into
      `info.trajectory`, including the initial state.
    - `rho`: exponent of EDM's noise-level schedule used by `"heun"` (`process.karras_schedule`).
    - `denoise`: finish with Tweedie's posterior mean (one more evaluation).
    - `x_init`: start from these states at `t_max` (leading axis `n_samples`) instead of the prior.
    - `process`: the forward process, if `score` has no `process` attribute.

    **Returns:** `(x, info)`: samples with a leading axis `n_samples`; a `SampleInfo`.
    """
    name = "sample"
    if isinstance(sampler, AbstractSampler):
        options = sampler.options()
        sampler = sampler.name
        steps = options.get("steps", steps)
        snr, n_corrector = options.get("snr", snr), options.get("n_corrector", n_corrector)
        solver, rtol, atol = options.get("solver", solver), options.get("rtol", rtol), options.get("atol", atol)
        max_steps, rho = options.get("max_steps", max_steps), options.get("rho", rho)
    process = get_process(score, process, name)
    steps, n_samples, snr, rtol, atol = check_sampler_args(
        name, sampler, steps, n_samples, snr, n_corrector, solver, rtol, atol)
    struct = state_struct(name, shape)
    if not isinstance(max_steps, int) or max_steps <= 0:
        raise ValueError(f"{name}: max_steps must be a positive int, got {max_steps!r}")
    check_score(name, score, struct, process.t_max)
    if guidance is not None:
        out = jax.eval_shape(guidance, struct, jax.ShapeDtypeStruct((), jnp.result_type(float)))
        if jtu.tree_structure(out) != jtu.tree_structure(struct) or any(
                a.shape != b.shape for a, b in zip(jtu.tree_leaves(out), jtu.tree_leaves(struct))):
            raise ValueError(f"{name}: guidance returned {out}, expected the state's shapes {struct}")
    save_idx = _save_grid(name, steps, save_every)
    prior_key, key = jax.random.split(key)
    x = initial_states(name, process, prior_key, struct, n_samples, x_init)
    grid = time_grid(process, sampler, steps, rho)
    times = grid[save_idx]
    xs, x_final, evals = _run(score, guidance, process, x, key, sampler, steps, tuple(int(i) for i in save_idx),
                              tuple(float(t) for t in grid), snr, int(n_corrector), solver, rtol, atol, max_steps,
                              bool(denoise), rho)
    evals = concrete_float(evals)
    trajectory = (times, xs) if save_every is not None else None
    return x_final, SampleInfo(evals, trajectory, sampler, steps)


@eqx.filter_jit
def _run(score, guidance, process, x, key, sampler, steps, save_idx, grid, snr, n_corrector, solver, rtol,
         atol, max_steps, denoise, rho):
    """The jitted body of `sample`: returns (saved states, final samples, evaluations per sample)."""
    full = _with_guidance(score, guidance)
    score_b = _batched(full)
    save_idx = np.asarray(save_idx)
    if sampler == "em":
        xs = _em(process, score_b, x, key, steps, save_idx)
        evals = jnp.asarray(float(steps))
    elif sampler == "pc":
        xs = _pc(process, score_b, x, key, np.asarray(grid), save_idx, snr, n_corrector)
        evals = jnp.asarray(float(steps * (n_corrector + 1)))
    elif sampler == "heun":
        xs = _heun(process, score_b, x, key, np.asarray(grid), save_idx)
        evals = jnp.asarray(float(2 * steps))
    else:
        times = np.asarray(grid)[save_idx]
        v = probability_flow(process, full)

        def one(x0):
            return ode_solve(v, x0, process.t_max, process.t_min, times, solver=solver, rtol=rtol,
                             atol=atol, max_steps=max_steps, name="sample")

        xs, n_evals = jax.vmap(one, out_axes=(1, 0))(x)
        evals = jnp.mean(n_evals.astype(float))
    x_final = jtu.tree_map(lambda a: a[-1], xs)
    if denoise:
        x_final = denoised_mean(process, score_b, x_final, process.t_min)
        evals = evals + 1
    return xs, x_final, evals


def forward(
    process: AbstractProcess,
    key: PRNGKeyArray,
    x0: PyTree[Array],
    ts: np.ndarray,
    *,
    dt: float = 1e-3,
    solver: str = "euler",
) -> PyTree[Array]:
    r"""Integrate the forward SDE $dx = f(t)x\,dt + g(t)\,dW$ from clean data `x0` (any leading
    batch axes; the noise is diagonal) at `ts[0]` to the times `ts` with `dphys.integrate_sde`.
    The solve is exact in distribution for `"euler"` only as `dt -> 0`; the marginals are
    `process.mean_std` (closed form, `process.perturb`).

    **Arguments:** `process`; `key`; `x0` states; `ts` increasing times in `[t_min, t_max]`; `dt` step;
    `solver` of `dphys.integrate_sde` (additive noise: `"euler"`, `"sea"`, `"shark"`).

    **Returns:** states at `ts` (leading axis `len(ts)`).
    """
    ts = np.asarray(ts, dtype=np.float64)
    if ts.ndim != 1 or np.any(ts < process.t_min - 1e-12) or np.any(ts > process.t_max + 1e-12):
        raise ValueError(f"forward: ts={ts} must be a 1D array of times in [{process.t_min}, {process.t_max}]")
    return integrate_sde(lambda t, x, args: process.drift(t, x), lambda t, x, args: process.diffusion(t),
                         x0, ts, key, dt=dt, solver=solver)
