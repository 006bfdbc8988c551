r"""Complex Langevin (CL): sampling complex actions with real noise.

For a holomorphic action $S(z)$ of complex variables $z = x + iy$ (one configuration, any shape),
complex Langevin evolves

$$ dz = K(z)\, dt + \sqrt 2\, dW, \qquad K = -\frac{\partial S}{\partial z}, $$

with real Brownian motion $W$: $dx = \mathrm{Re}\,K\, dt + \sqrt 2\, dW$, $dy = \mathrm{Im}\,K\, dt$.
When the distribution $P(x, y)$ it reaches decays fast enough in $y$, averages of holomorphic
observables over $P$ equal the path-integral averages $\int O e^{-S} / \int e^{-S}$.

**State.** A configuration is carried as real pairs: an array of shape `(*sites, 2)` whose last
axis is $(x, y)$ (float32 for complex64 input, float64 for complex128). Samples are returned as
complex arrays $z = x + iy$. The drift comes from the complex derivative of the action,
`jax.grad(action, holomorphic=True)`.

**Steps.**

- Fixed step, `solver="euler"`: Euler-Maruyama $z_{n+1} = z_n + \epsilon K(z_n) + \sqrt{2\epsilon}\,\eta_n$
  in a `lax.scan` (one drift evaluation per step, the noise of `thin` steps drawn at once), per
  chain, so a chain's samples do not depend on how many chains run beside it; this is also the
  scheme of the adaptive step.
- Noise for the Euler schemes: `noise="gaussian"` (default) or `"two-point"`, $\eta_n = \pm 1$ with
  probability 1/2 (the simplified weak Euler scheme, Kloeden & Platen, *Numerical Solution of
  Stochastic Differential Equations*, 1992, Sec. 14.1). Its first three moments equal those of a
  Gaussian, so averages keep weak order 1 (an $O(\epsilon)$ bias with a different coefficient), and
  for a linear drift the stationary covariance is exactly the Gaussian-noise one (it depends on
  the noise variance only). One random 32-bit word serves 32 steps: with a cheap drift the sampler
  is about 4 times faster, since drawing Gaussian numbers dominates its cost.
- Fixed step, `solver="sea"` or `"shark"`: the additive-noise solvers of `dphys.integrate_sde` with
  drift $(\mathrm{Re}\,K, \mathrm{Im}\,K)$ and diffusion $(\sqrt 2, 0)$; ShARK has weak order 2, so
  the step-size bias of averages is $O(\epsilon^2)$ instead of Euler's $O(\epsilon)$. `cl_chains`
  integrates all chains as one batched state driven by the first key (a vmap of per-chain diffrax
  solves of single-site states costs several times more).
- Adaptive step (Aarts, James, Seiler, Stamatescu, Phys. Lett. B 687 (2010) 154): Euler with
  $\epsilon_n = \bar\epsilon \min(1, K_\text{ref} / \max_i |K_i(z_n)|)$, the maximum over the
  sites of one chain, $\bar\epsilon$ = `dt`. The step shrinks where the drift is larger than
  typical, which tames the runaway trajectories of a fixed step; it never exceeds `dt`, so the
  $O(\epsilon)$ bias is at most that of a fixed step `dt`. $K_\text{ref}$ is fixed during sampling
  (so the dynamics is a time-homogeneous Markov chain): given, or the average of $\max_i|K_i|$
  over the thermalisation (`cl_thermalise`).

**Weights.** A state-dependent step changes what a plain per-step average converges to: the chain
spends $1/\epsilon$ more steps where the step is small. Every measurement therefore carries the
Langevin time $\epsilon_n$ of the step taken from it, and averages are Langevin-time averages
$\sum_n \epsilon_n O(z_n) / \sum_n \epsilon_n$ (`weighted_mean`), which converge to the
continuous-time CL average as $\bar\epsilon \to 0$. For a fixed step all weights equal `dt`.

**Runaways.** A sample with $|z|$ above `bound` or non-finite raises `RunawayError` naming the
chain and step (when the samples are concrete; inside a user's `jax.jit` an `eqx.error_if` with a
static message).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float, PRNGKeyArray

from dphys.sde import SDE_SOLVERS, integrate_sde
from dphys.stats import Estimate, jackknife

__all__ = [
    "NOISES",
    "OBSERVABLES",
    "RunawayError",
    "cl_chain",
    "cl_chains",
    "cl_drift",
    "cl_observables",
    "cl_thermalise",
    "cumulants_from_moments",
    "reference_observables",
    "weighted_mean",
]

Action = Callable[[Array], Array]

#: the keys of `cl_observables` / `reference_observables`
OBSERVABLES = (
    *(f"z{n}_{part}" for n in (2, 4, 6) for part in ("re", "im")),
    *(f"kappa{n}_{part}" for n in (2, 4, 6) for part in ("re", "im")),
    "x2", "y2", "xy",
)
#: the increments of the Euler schemes (`noise=`)
NOISES = ("gaussian", "two-point")
_MAX_ORDER = 6
_SOLVERS = tuple(SDE_SOLVERS)  # "euler" runs as a lax.scan, the others through integrate_sde


class RunawayError(FloatingPointError):
    """A complex Langevin trajectory left every sensible region: |z| exceeded the bound or became
    non-finite. Reduce `dt` or use `adaptive=True`.

    **Attributes:** `chain` (index, None for `cl_chain`), `step` (the Langevin step after which the
    first offending sample was taken), `value` (|z| there).
    """

    def __init__(self, message: str, chain: int | None, step: int, value: float):
        super().__init__(message)
        self.chain, self.step, self.value = chain, step, value


# ---------------------------------------------------------------------------
# state and drift
# ---------------------------------------------------------------------------


def _as_start(z: ArrayLike) -> Complex[Array, "..."]:
    """A start configuration as a complex array (real input: y = 0; integers become floats)."""
    z = jnp.asarray(z)
    if jnp.issubdtype(z.dtype, jnp.complexfloating):
        return z
    real = z if jnp.issubdtype(z.dtype, jnp.floating) else z.astype(jnp.result_type(float))
    return jax.lax.complex(real, jnp.zeros_like(real))


def _to_pairs(z: ArrayLike) -> Float[Array, "... 2"]:
    z = _as_start(z)
    return jnp.stack([z.real, z.imag], axis=-1)


def _to_complex(xy: Float[Array, "... 2"]) -> Complex[Array, "..."]:
    return jax.lax.complex(xy[..., 0], xy[..., 1])


def _drift_pairs(action: Action) -> Callable[[Array], Array]:
    grad = jax.grad(action, holomorphic=True)

    def drift(xy):
        k = -grad(_to_complex(xy))
        return jnp.stack([k.real, k.imag], axis=-1)

    return drift


def cl_drift(action: Action) -> Callable[[Any, Array, Any], Array]:
    r"""The CL drift as a vector field `f(t, xy, args)` for `dphys.integrate_sde`: with
    $K = -\partial S/\partial z$ at $z = x + iy$, returns $(\mathrm{Re}\,K, \mathrm{Im}\,K)$ on the
    last axis of `xy` (shape `(*sites, 2)`). Pair it with the diffusion $(\sqrt 2, 0)$.

    **Arguments:** `action`: a holomorphic $S(z)$ of one complex configuration, complex scalar.

    **Returns:** `f(t, xy, args) -> array shaped like xy`.
    """
    drift = _drift_pairs(action)
    return lambda t, xy, args: drift(xy)


def _check_action(action: Action, xy0: Array, name: str = "complex Langevin") -> None:
    """Static check (shapes and dtypes only, also while tracing) that S(z) is a complex scalar."""
    z = jax.ShapeDtypeStruct(xy0.shape[:-1], jnp.result_type(xy0.dtype, jnp.complex64))
    try:
        out = jax.eval_shape(action, z)
    except Exception as e:  # a shape check of the model, a real-only function, ...
        raise ValueError(f"{name}: the action cannot be evaluated on z of shape {z.shape}: {e}") from e
    if out.shape != () or not jnp.issubdtype(out.dtype, jnp.complexfloating):
        raise ValueError(
            f"{name}: the action must return a complex scalar (a holomorphic S(z)), got "
            f"{out.dtype} of shape {out.shape}"
        )


# ---------------------------------------------------------------------------
# Euler steps (fixed and adaptive)
# ---------------------------------------------------------------------------


def _largest_drift(k: Array) -> Array:
    """max over sites of |K|, from the (Re K, Im K) pairs."""
    return jnp.sqrt(jnp.max(jnp.sum(k**2, axis=-1)))


def _adaptive_step_size(dt: float, k_ref: Array, k_max: Array) -> Array:
    """dt * min(1, k_ref / k_max); dt where k_max <= k_ref (also when both vanish)."""
    return jnp.where(k_max > k_ref, dt * k_ref / jnp.where(k_max > k_ref, k_max, 1.0), dt)


def langevin_noise(key, shape: tuple[int, ...], dtype, noise: str) -> Array:
    """The Langevin noise of `shape` and `dtype`: `noise="gaussian"` standard normal numbers,
    `"two-point"` +-1 with probability 1/2 each (same first two moments; drawn from single bits,
    32 per random word)."""
    if noise == "gaussian":
        return jax.random.normal(key, shape, dtype)
    size = math.prod(shape)
    words = jax.random.bits(key, (-(-size // 32),), jnp.uint32)
    bits = (words[:, None] >> jnp.arange(32, dtype=jnp.uint32)) & 1
    return (2 * bits.reshape(-1)[:size].astype(dtype) - 1).reshape(shape)


def _euler_step(xy, k, eps, eta):
    """z + eps K + sqrt(2 eps) eta with real noise: eta enters x only."""
    kick = (jnp.sqrt(2 * eps) * eta)[..., None] * jnp.array([1.0, 0.0], xy.dtype)
    return xy + eps * k + kick


def _euler_scan(drift, xy0, key, *, dt, adaptive, k_ref, n_therm_blocks, n_samples, thin, noise):
    """Euler blocks of `thin` steps: `n_therm_blocks` of thermalisation, then `n_samples` measured.

    One loop and one call of the random generator (per block, keyed by fold_in) serve both phases.
    Adaptive: while thermalising, K_ref is the running mean of max|K| (including the current step);
    afterwards it is `k_ref`, or when that is None the mean over the thermalisation.
    Returns the final carry (xy, K, sum of max|K|, thermalisation steps) and, per measured block,
    (xy, the step size at xy)."""

    def step_size(k_max, total, count, thermalising):
        running = total / jnp.maximum(count, 1)
        reference = jnp.where(thermalising, running, running if k_ref is None else k_ref)
        return _adaptive_step_size(dt, reference, k_max)

    def block(carry, index):
        thermalising = index < n_therm_blocks

        def step(carry, eta):
            xy, k, total, count = carry
            if adaptive:
                k_max = _largest_drift(k)
                total, count = total + jnp.where(thermalising, k_max, 0), count + thermalising
                eps = step_size(k_max, total, count, thermalising)
            else:
                eps = dt
            xy = _euler_step(xy, k, eps, eta)
            return (xy, drift(xy), total, count), None

        eta = langevin_noise(jax.random.fold_in(key, index), (thin, *xy0.shape[:-1]), xy0.dtype, noise)
        carry, _ = jax.lax.scan(step, carry, eta)
        xy, k, total, count = carry
        eps = step_size(_largest_drift(k), total, count, False) if adaptive else jnp.asarray(dt, xy0.dtype)
        return carry, (xy, eps)

    zero = jnp.zeros((), xy0.dtype)
    carry, (xy, eps) = jax.lax.scan(block, (xy0, drift(xy0), zero, zero), jnp.arange(n_therm_blocks + n_samples))
    return carry, xy[n_therm_blocks:], eps[n_therm_blocks:]


# ---------------------------------------------------------------------------
# one chain
# ---------------------------------------------------------------------------


def _therm_blocks(n_therm: int, thin: int) -> int:
    """The Euler scan thermalises in blocks of `thin` steps: n_therm rounded up to a multiple of thin."""
    return -(-n_therm // thin)


def _therm_steps(n_therm: int, thin: int, solver: str) -> int:
    return _therm_blocks(n_therm, thin) * thin if solver == "euler" else n_therm


def _run(action, xy0, key, k_ref, *, dt, n_samples, thin, n_therm, adaptive, solver, noise):
    """One chain, traceable: (xy samples (n_samples, *sites, 2), weights (n_samples,))."""
    drift = _drift_pairs(action)
    if solver == "euler":
        k_ref = None if k_ref is None else jnp.asarray(k_ref, xy0.dtype)
        _, xy, eps = _euler_scan(drift, xy0, key, dt=dt, adaptive=adaptive, k_ref=k_ref,
                                 n_therm_blocks=_therm_blocks(n_therm, thin), n_samples=n_samples, thin=thin,
                                 noise=noise)
        return xy, eps
    therm_key, key = jax.random.split(key)
    field = lambda t, xy, args: drift(xy)
    diffusion = lambda t, xy, args: jnp.array([math.sqrt(2.0), 0.0], xy.dtype)
    if n_therm > 0:
        xy0 = integrate_sde(field, diffusion, xy0, [n_therm * dt], therm_key, dt=dt, t0=0.0, solver=solver)[-1]
    ts = dt * thin * np.arange(1, n_samples + 1)
    xy = integrate_sde(field, diffusion, xy0, ts, key, dt=dt, t0=0.0, solver=solver)
    return xy, jnp.full((n_samples,), dt, xy0.dtype)


def _sample(action, z0, key, k_ref, **static):
    """One chain from a complex start: (complex samples, weights). The action is checked while tracing."""
    xy0 = _to_pairs(z0)
    _check_action(action, xy0)
    xy, weights = _run(action, xy0, key, k_ref, **static)
    return _to_complex(xy), weights


_sample_jit = eqx.filter_jit(_sample)


class _Batched(eqx.Module):
    """The action of a batch of independent chains, the sum of each chain's action: its complex
    gradient is every chain's own drift, so the batch is one state for `integrate_sde`."""

    action: Action

    def __call__(self, z):
        return jnp.sum(jax.vmap(self.action)(z))


@eqx.filter_jit
def _sample_chains(action, z0, keys, k_ref, **static):
    if static["solver"] != "euler":
        # diffrax solvers: the chains as one batched state (diagonal noise keeps them independent),
        # driven by the first key, which costs about a lax.scan instead of a vmap of per-chain solves
        z, weights = _sample(_Batched(action), z0, keys[0], None, **static)
        return z, jnp.broadcast_to(weights[:, None], z.shape[:2])
    k_ref = None if k_ref is None else jnp.broadcast_to(k_ref, keys.shape[:1])
    one = lambda z, key, kr: _sample(action, z, key, kr, **static)
    z, weights = jax.vmap(one, in_axes=(0, 0, None if k_ref is None else 0))(z0, keys, k_ref)
    return jnp.swapaxes(z, 0, 1), weights.T  # time-major: (n_samples, chains, ...)


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}={value!r}: expected an integer >= {minimum}")
    return int(value)


def _check_options(name, *, dt, n_samples, thin, n_therm, adaptive, k_ref, solver, noise, bound) -> dict:
    dt = float(dt)
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"{name}: dt={dt}: expected a finite step > 0")
    bound = float(bound)
    if not bound > 0:
        raise ValueError(f"{name}: bound={bound}: expected a number > 0")
    if solver not in _SOLVERS:
        raise ValueError(f"{name}: solver={solver!r}: expected one of {list(_SOLVERS)}")
    if not isinstance(adaptive, bool):
        raise ValueError(f"{name}: adaptive={adaptive!r}: expected True or False")
    if noise not in NOISES:
        raise ValueError(f"{name}: noise={noise!r}: expected one of {list(NOISES)}")
    if noise != "gaussian" and solver != "euler":
        raise ValueError(f"{name}: noise={noise!r} needs solver='euler'; {solver!r} draws Gaussian increments")
    if adaptive and solver != "euler":
        raise ValueError(f"{name}: the adaptive step is an Euler scheme; got solver={solver!r} with adaptive=True")
    n_therm = _check_int(f"{name}: n_therm", n_therm, 0)
    if adaptive and k_ref is None and n_therm == 0:
        raise ValueError(f"{name}: adaptive=True needs k_ref or n_therm > 0 (K_ref is measured while thermalising)")
    if k_ref is not None and not isinstance(k_ref, jax.core.Tracer):
        k = np.asarray(k_ref, dtype=np.float64)
        if not np.all(np.isfinite(k) & (k > 0)):
            raise ValueError(f"{name}: k_ref={k_ref!r}: expected finite values > 0")
    static = dict(dt=dt, n_samples=_check_int(f"{name}: n_samples", n_samples, 1),
                  thin=_check_int(f"{name}: thin", thin, 1), n_therm=n_therm, adaptive=adaptive, solver=solver,
                  noise=noise)
    return static


def _traced(static: dict, k_ref, dtype) -> tuple[Any, dict]:
    """k_ref as an array and, for the Euler scan, dt too: runs that differ only in these share one
    compilation (integrate_sde needs dt concrete to build its step grid)."""
    k_ref = None if k_ref is None else jnp.asarray(k_ref, dtype)
    if static["solver"] == "euler":
        static = static | {"dt": jnp.asarray(static["dt"], dtype)}
    return k_ref, static


def _check_runaway(z: Array, bound: float, chain_axis: bool, therm_steps: int, thin: int, dt: float) -> Array:
    """Raise RunawayError for the first sample (in time, then chain) with |z| > bound or non-finite."""
    message = (f"complex Langevin ran away: |z| exceeded {bound:g} or became non-finite; "
               f"reduce dt={dt:g} or use adaptive=True")
    lead = 2 if chain_axis else 1
    if isinstance(z, jax.core.Tracer):
        bad = ~(jnp.abs(z) <= bound)
        return eqx.error_if(z, jnp.any(bad), message)
    size = np.abs(np.asarray(z)).reshape(*z.shape[:lead], -1)
    largest = np.where(np.isfinite(size), size, np.inf).max(axis=-1)
    bad = ~(largest <= bound)
    if not bad.any():
        return z
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    chain = index[1] if chain_axis else None
    step = therm_steps + (index[0] + 1) * thin
    where = "" if chain is None else f" in chain {chain}"
    raise RunawayError(
        f"complex Langevin ran away: |z| reached {largest[index]:.3g} (bound {bound:g}) by step {step}"
        f"{where}; reduce dt={dt:g} or use adaptive=True",
        chain, step, float(largest[index]),
    )


def _sample_checked(name: str, chains: bool, action, z0, key, *, k_ref, bound, **kwargs):
    """Validate, run one jitted program (one chain, or vmapped chains), check for runaways."""
    static = _check_options(name, k_ref=k_ref, bound=bound, **kwargs)
    z0 = _as_start(z0)
    if chains and (z0.ndim < 1 or jnp.shape(key)[:1] != z0.shape[:1]):
        raise ValueError(
            f"{name}: z0 of shape {z0.shape} and keys of shape {jnp.shape(key)}: expected z0 of shape "
            "(chains, *sites) and one key per chain"
        )
    k_ref, options = _traced(static, k_ref, z0.real.dtype)
    z, weights = (_sample_chains if chains else _sample_jit)(action, z0, key, k_ref, **options)
    therm_steps = _therm_steps(static["n_therm"], static["thin"], static["solver"])
    return _check_runaway(z, float(bound), chains, therm_steps, static["thin"], static["dt"]), weights


def cl_chain(
    action: Action,
    key: PRNGKeyArray,
    z0: ArrayLike,
    *,
    dt: float,
    n_samples: int,
    thin: int = 1,
    n_therm: int = 0,
    adaptive: bool = False,
    k_ref: float | ArrayLike | None = None,
    solver: str = "euler",
    noise: str = "gaussian",
    bound: float = 1e6,
) -> tuple[Complex[Array, "n_samples *sites"], Float[Array, " n_samples"]]:  # noqa: F821 (jaxtyping dims)
    r"""One complex Langevin chain in one jit: `n_therm` discarded steps, then `n_samples`
    measurements, one every `thin` steps (see the module docstring for the schemes).

    **Arguments:**

    - `action`: holomorphic $S(z)$ of one configuration (e.g. `QuarticAction`), complex scalar.
    - `z0`: initial configuration, complex (or real: y = 0), shape `sites`; complex64 runs in
      float32, complex128 (with x64 enabled) in float64.
    - `key`: PRNG key; the same key gives the same chain.
    - `dt`: the step $\epsilon$ (fixed) or $\bar\epsilon$ (adaptive, the largest step), in Langevin
      time.
    - `n_samples`, `thin`, `n_therm`: measurements, steps between them, thermalisation steps
      (with `solver="euler"` rounded up to a multiple of `thin`: the scan thermalises in blocks).
    - `adaptive`: the adaptive step (Euler). `k_ref`: its $K_\text{ref}$; default: the average of
      $\max|K|$ over the thermalisation (then `n_therm > 0` is required).
    - `solver`: `"euler"` (scan) or `"sea"`/`"shark"` (`dphys.integrate_sde`), fixed step only.
    - `noise`: the Euler increments, `"gaussian"` or `"two-point"` (see the module docstring).
    - `bound`: |z| above it (or non-finite) is a runaway: `RunawayError`.

    **Returns:** `(z, weights)`: the samples (complex, shape `(n_samples, *sites)`) and the
    Langevin-time weight of each (the step $\epsilon_n$ taken from it; `dt` for a fixed step).
    """
    return _sample_checked("cl_chain", False, action, z0, key, dt=dt, n_samples=n_samples, thin=thin,
                           n_therm=n_therm, adaptive=adaptive, k_ref=k_ref, solver=solver, noise=noise, bound=bound)


def cl_chains(
    action: Action,
    keys: PRNGKeyArray,
    z0: ArrayLike,
    *,
    dt: float,
    n_samples: int,
    thin: int = 1,
    n_therm: int = 0,
    adaptive: bool = False,
    k_ref: float | ArrayLike | None = None,
    solver: str = "euler",
    noise: str = "gaussian",
    bound: float = 1e6,
) -> tuple[Complex[Array, "n_samples chains *sites"], Float[Array, "n_samples chains"]]:
    r"""Independent CL chains, `cl_chain` vmapped over initial states and keys, in one jit.

    **Arguments:** as `cl_chain`, except `z0` of shape `(chains, *sites)`, `keys` of shape
    `(chains,)` (e.g. `jax.random.split(key, chains)`), and `k_ref` a scalar or one value per chain
    (e.g. from a vmapped `cl_thermalise`).

    **Returns:** `(z, weights)`, time-major: shapes `(n_samples, chains, *sites)` and
    `(n_samples, chains)`. A runaway names the first chain and step where it happened.
    """
    return _sample_checked("cl_chains", True, action, z0, keys, dt=dt, n_samples=n_samples, thin=thin,
                           n_therm=n_therm, adaptive=adaptive, k_ref=k_ref, solver=solver, noise=noise, bound=bound)


def cl_thermalise(
    action: Action, key: PRNGKeyArray, z0: ArrayLike, *, dt: float, n_steps: int
) -> tuple[Complex[Array, "*sites"], Float[Array, ""]]:
    r"""Thermalise one chain with the adaptive Euler step and measure $K_\text{ref}$.

    Step n uses $\epsilon_n = \bar\epsilon\min(1, \bar K_n/\max_i|K_i(z_n)|)$ with $\bar K_n$ the
    running mean of $\max_i |K_i|$ over steps 0..n, so a poor start cannot run away. Traceable:
    vmap it over `(key, z0)` for chains.

    **Arguments:** `action`, `key`, `z0` as in `cl_chain`; `dt` = $\bar\epsilon$; `n_steps` >= 1.

    **Returns:** `(z, k_ref)`: the final configuration (complex) and $K_\text{ref}$, the mean of
    $\max_i|K_i|$ over the steps.
    """
    dt = _check_options("cl_thermalise", dt=dt, n_samples=1, thin=1, n_therm=n_steps, adaptive=True, k_ref=1.0,
                        solver="euler", noise="gaussian", bound=1.0)["dt"]
    n_steps = _check_int("cl_thermalise: n_steps", n_steps, 1)
    xy0 = _to_pairs(z0)
    _check_action(action, xy0, "cl_thermalise")
    (xy, _, total, count), _, _ = _euler_scan(_drift_pairs(action), xy0, key, dt=dt, adaptive=True, k_ref=None,
                                              n_therm_blocks=1, n_samples=0, thin=n_steps, noise="gaussian")
    z, k_ref = _to_complex(xy), total / count
    if isinstance(z, jax.core.Tracer):
        z = eqx.error_if(z, ~jnp.all(jnp.isfinite(z)), "cl_thermalise: complex Langevin ran away (non-finite z)")
    elif not np.all(np.isfinite(np.asarray(z))):
        raise RunawayError("cl_thermalise: complex Langevin ran away (non-finite z); reduce dt", None, n_steps,
                           math.inf)
    return z, k_ref


# ---------------------------------------------------------------------------
# Langevin-time averages
# ---------------------------------------------------------------------------


def _block_sums(columns: np.ndarray, n_blocks: int) -> np.ndarray:
    """Sums of (units, k) rows over n_blocks contiguous blocks (the jackknife blocks of stats.jackknife)."""
    n = columns.shape[0]
    if not 2 <= n_blocks <= n:
        raise ValueError(f"n_blocks={n_blocks}: expected 2 <= n_blocks <= the number of samples {n}")
    edges = (np.arange(n_blocks) * n) // n_blocks
    return np.add.reduceat(columns, edges, axis=0)


def _weighted_jackknife(fn: Callable[[np.ndarray], np.ndarray], obs: np.ndarray, weights: np.ndarray,
                        n_blocks: int) -> Estimate:
    """Jackknife of fn(sum w O / sum w) over contiguous blocks of the chain-major series.

    `obs` (*lead, k) and `weights` (*lead) with lead = (T,) or (T, C); the chains are laid end to
    end, so a block holds a stretch of one chain (few chains) or whole chains (many)."""
    lead = weights.ndim
    w = np.moveaxis(weights, 0, -1).reshape(-1)  # chain-major
    o = np.moveaxis(obs, 0, lead - 1).reshape(w.size, -1)
    sums = _block_sums(np.concatenate([w[:, None], w[:, None] * o], axis=1), n_blocks)
    return jackknife(lambda s: fn(s[:, 1:].sum(axis=0) / s[:, 0].sum()), sums, n_blocks)


def _as_weights(obs: ArrayLike, weights: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    weights = np.asarray(weights, dtype=np.float64)
    obs = np.asarray(obs)
    if weights.ndim not in (1, 2) or obs.shape[: weights.ndim] != weights.shape:
        raise ValueError(
            f"weights of shape {weights.shape} must be (T,) or (T, chains) and match the leading axes of the "
            f"observable of shape {obs.shape}"
        )
    if not np.all(np.isfinite(weights) & (weights >= 0)) or weights.sum() <= 0:
        raise ValueError("weights must be finite, >= 0 and not all zero")
    return obs, weights


def weighted_mean(obs: ArrayLike, weights: ArrayLike, n_blocks: int = 20) -> Estimate:
    r"""Langevin-time average $\bar O = \sum_n w_n O_n / \sum_n w_n$ with a jackknife error.

    The jackknife deletes one of `n_blocks` contiguous blocks of the series (chains laid end to end)
    and recomputes the ratio of sums, so the error covers the correlation between numerator and
    denominator and autocorrelations shorter than a block.

    **Arguments:** `obs` real, shape `(T, *k)` (one chain) or `(T, chains, *k)`; `weights` of shape
    `(T,)` or `(T, chains)` (the leading axes of `obs`); `n_blocks` >= 2.

    **Returns:** an `Estimate` of shape `k` (floats for scalar observables).
    """
    obs, weights = _as_weights(obs, weights)
    if np.iscomplexobj(obs):
        raise ValueError("obs must be real; average the real and imaginary parts separately")
    shape = obs.shape[weights.ndim:]
    est = _weighted_jackknife(lambda mean: mean, obs.astype(np.float64), weights, n_blocks)
    value, error = (np.asarray(v).reshape(shape) for v in est)
    unwrap = (lambda a: float(a)) if shape == () else (lambda a: a)
    return Estimate(unwrap(value), unwrap(error))


def cumulants_from_moments(moments: ArrayLike) -> np.ndarray:
    r"""Cumulants $\kappa_1..\kappa_n$ from moments $m_1..m_n$ (real or complex, last axis):
    $\kappa_n = m_n - \sum_{k=1}^{n-1}\binom{n-1}{k-1}\kappa_k m_{n-k}$; e.g. for a symmetric
    distribution $\kappa_4 = m_4 - 3m_2^2$, $\kappa_6 = m_6 - 15 m_4 m_2 + 30 m_2^3$.

    **Arguments:** `moments`, entry n-1 on the last axis is $m_n = \langle z^n\rangle$.

    **Returns:** the cumulants, same shape and dtype.
    """
    m = np.asarray(moments)
    kappa = np.zeros_like(m)
    for n in range(1, m.shape[-1] + 1):
        kappa[..., n - 1] = m[..., n - 1] - sum(
            math.comb(n - 1, k - 1) * kappa[..., k - 1] * m[..., n - k - 1] for k in range(1, n))
    return kappa


def _observable_vector(moments: np.ndarray, covariance: np.ndarray | None) -> np.ndarray:
    """The values of OBSERVABLES (NaN for x2, y2, xy without a covariance)."""
    kappa = cumulants_from_moments(moments)
    parts = [f(c[n - 1]) for c in (moments, kappa) for n in (2, 4, 6) for f in (np.real, np.imag)]
    cov = np.full((2, 2), np.nan) if covariance is None else np.asarray(covariance, np.float64)
    return np.array([*parts, cov[0, 0], cov[1, 1], cov[0, 1]], dtype=np.float64)


def reference_observables(moments: ArrayLike, covariance: ArrayLike | None = None) -> dict[str, float]:
    r"""Exact values under the keys of `cl_observables`.

    **Arguments:** `moments`: $\langle z^n\rangle$, n = 1..6 (complex; e.g. `action.moments()`);
    `covariance`: the CL covariance $[[\langle x^2\rangle, \langle xy\rangle], [\cdot, \langle y^2\rangle]]$
    where known (e.g. `GaussianAction.cl_covariance()`), else the x2, y2, xy entries are omitted.

    **Returns:** `{name: value}`.
    """
    moments = np.asarray(moments, dtype=np.complex128)
    if moments.shape != (_MAX_ORDER,):
        raise ValueError(f"moments of shape {moments.shape}: expected <z^1> .. <z^6>, shape (6,)")
    values = _observable_vector(moments, None if covariance is None else np.asarray(covariance))
    return {k: float(v) for k, v in zip(OBSERVABLES, values) if not np.isnan(v)}


def cl_observables(z: ArrayLike, weights: ArrayLike, n_blocks: int = 20) -> dict[str, Estimate]:
    r"""Langevin-time averages of the CL samples, with jackknife errors (see `weighted_mean`).

    Per configuration the site averages of $z^n$ (n = 1..6), $x^2$, $y^2$, $xy$ are formed;
    reported are $\langle z^n\rangle$ (n = 2, 4, 6, real and imaginary parts), the cumulants
    $\kappa_2, \kappa_4, \kappa_6$ of the single-site $z$ (from all six moments,
    `cumulants_from_moments`), and $\langle x^2\rangle, \langle y^2\rangle, \langle xy\rangle$.
    All errors come from one jackknife, so they are consistent with each other.

    **Arguments:** `z` complex samples of shape `(T, *sites)` or `(T, chains, *sites)`; `weights`
    of shape `(T,)` or `(T, chains)` (as returned by `cl_chain` / `cl_chains`); `n_blocks`.

    **Returns:** `{name: Estimate}` with the names of `OBSERVABLES`.
    """
    z, weights = _as_weights(z, weights)
    z = z.astype(np.complex128)
    site_axes = tuple(range(weights.ndim, z.ndim))
    powers = [np.mean(z**n, axis=site_axes) for n in range(1, _MAX_ORDER + 1)]
    columns = [f(p) for p in powers for f in (np.real, np.imag)]
    columns += [np.mean(f(z), axis=site_axes) for f in (lambda z: z.real**2, lambda z: z.imag**2,
                                                       lambda z: z.real * z.imag)]
    obs = np.stack(columns, axis=-1)

    def derived(mean: np.ndarray) -> np.ndarray:
        moments = mean[0 : 2 * _MAX_ORDER : 2] + 1j * mean[1 : 2 * _MAX_ORDER : 2]
        xx, yy, xy = mean[2 * _MAX_ORDER :]
        return _observable_vector(moments, np.array([[xx, xy], [xy, yy]]))

    est = _weighted_jackknife(derived, obs, weights, n_blocks)
    return {k: Estimate(float(v), float(e)) for k, v, e in zip(OBSERVABLES, est.value, est.error)}
