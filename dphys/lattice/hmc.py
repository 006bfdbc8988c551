r"""Hybrid (Hamiltonian) Monte Carlo for a target $e^{-S(x)}/Z$, with $x$ any PyTree of arrays.

One HMC update draws unit-mass Gaussian momenta $p$, integrates Hamilton's equations for
$H(x, p) = S(x) + \sum p^2/2$ with `n_leapfrog` leapfrog (velocity Verlet) steps of size
$\epsilon$,

$$ p \leftarrow p - \tfrac{\epsilon}{2} \nabla S(x),\quad x \leftarrow x + \epsilon p,\quad
   p \leftarrow p - \tfrac{\epsilon}{2} \nabla S(x), $$

and accepts the end point with probability $\min(1, e^{-\Delta H})$. Leapfrog is reversible and
volume preserving, so the chain samples $e^{-S}$ exactly for any $\epsilon$; the energy error is
$\Delta H = O(\epsilon^2)$ per trajectory and $\langle \Delta H \rangle = O(\epsilon^4)$ at
equilibrium, where also $\langle e^{-\Delta H} \rangle = 1$ exactly.

Samplers follow blackjax: a kernel is a module with `init(position) -> state` and
`step(key, state) -> (state, info)`. `run_chain` runs one chain (thermalisation, optional
step-size adaptation by dual averaging, thinning) as one `lax.scan` inside one jit;
`sample_chains` vmaps it over chains. Both accept any kernel with that interface and a
`step_size` field (HMC here, MALA in `dphys.lattice.langevin`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray, PyTree

__all__ = [
    "HMC",
    "HMCInfo",
    "HMCState",
    "check_acceptance",
    "leapfrog",
    "run_chain",
    "sample_chains",
]

Action = Callable[[PyTree[Array]], Float[Array, ""]]


class HMCState(NamedTuple):
    """The state of a chain: the position and the action and its gradient there (cached, so
    that a trajectory starts without re-evaluating the force)."""

    position: PyTree[Float[Array, "..."]]
    action: Float[Array, ""]
    action_grad: PyTree[Float[Array, "..."]]


class HMCInfo(NamedTuple):
    r"""What one Metropolis update did: `acceptance_probability` $= \min(1, e^{-\Delta H})$,
    `is_accepted`, the energy error `delta_H` (`+inf` for a diverged, non-finite trajectory,
    which is always rejected) and the `step_size` used."""

    acceptance_probability: Float[Array, ""]
    is_accepted: Bool[Array, ""]
    delta_H: Float[Array, ""]
    step_size: Float[Array, ""]


# --------------------------------------------------------------------------------------------
# Validation and PyTree arithmetic shared with dphys.lattice.langevin
# --------------------------------------------------------------------------------------------


def _check_callable(name: str, what: str, fn: Any) -> None:
    if not callable(fn):
        raise ValueError(f"{name}: {what} must be callable, got {fn!r}")


def _check_step_size(name: str, step_size: Any, what: str = "step_size", concrete: bool = False) -> Array:
    """A positive finite step size as a JAX array, checked when concrete; a traced one passes
    unless `concrete` is required."""
    if isinstance(step_size, jax.core.Tracer):
        if concrete:
            raise ValueError(f"{name}: {what} must be a concrete number, not a traced value")
        return step_size
    value = np.asarray(step_size)
    if value.ndim != 0 or not np.issubdtype(value.dtype, np.number):
        raise ValueError(f"{name}: {what} must be a scalar number, got {step_size!r}")
    if not (math.isfinite(float(value)) and float(value) > 0):
        raise ValueError(f"{name}: {what} must be a finite number > 0, got {float(value)}")
    return jnp.asarray(step_size, dtype=jnp.result_type(float))


def _check_int(name: str, what: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: {what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _axpy(a: ArrayLike, x: PyTree, y: PyTree) -> PyTree:
    """`y + a x` leaf by leaf, keeping the dtype of each leaf of `y`."""
    return jtu.tree_map(lambda xi, yi: yi + jnp.asarray(a, yi.dtype) * xi, x, y)


def _half_square(p: PyTree) -> Float[Array, ""]:
    r"""$\sum p^2 / 2$ over every element of every leaf."""
    return sum(jnp.sum(leaf**2) for leaf in jtu.tree_leaves(p)) / 2


def _noise_and_uniform(key: PRNGKeyArray, tree: PyTree) -> tuple[PyTree, Float[Array, ""]]:
    """Independent standard normal numbers shaped and typed like every leaf of `tree`, and one
    uniform number in [0, 1) for a Metropolis decision, from a single split of `key` (each
    threefry call inside a vmapped scan adds noticeably to the compile time)."""
    leaves, treedef = jtu.tree_flatten(tree)
    *keys, accept_key = jax.random.split(key, len(leaves) + 1)
    noise = [jax.random.normal(k, jnp.shape(x), jnp.result_type(x)) for k, x in zip(keys, leaves)]
    return treedef.unflatten(noise), jax.random.uniform(accept_key, (), jnp.result_type(leaves[0]))


def _init_state(name: str, action: Action, position: PyTree) -> HMCState:
    """The action and its gradient at `position`; a non-scalar action is a ValueError, a
    non-finite one a run-time error."""
    leaves = jtu.tree_leaves(position)
    if not leaves:
        raise ValueError(f"{name}: the position has no array leaves")
    for leaf in leaves:
        if not jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
            raise ValueError(f"{name}: position leaves must be floating point, got dtype {jnp.result_type(leaf)}")
    out = jax.eval_shape(action, position)
    if not (isinstance(out, jax.ShapeDtypeStruct) and out.shape == ()):
        raise ValueError(f"{name}: the action must return a scalar, got {out}")
    value, grad = jax.value_and_grad(action)(position)
    value = eqx.error_if(value, ~jnp.isfinite(value), f"{name}: the action is not finite at the initial position")
    return HMCState(position, value, grad)


def _metropolis(
    uniform: Float[Array, ""], state: HMCState, proposal: HMCState, delta_H: Float[Array, ""], step_size: ArrayLike
) -> tuple[HMCState, HMCInfo]:
    r"""Accept `proposal` with probability $\min(1, e^{-\Delta H})$ (when `uniform`, a U[0, 1)
    number, is below it), else keep `state`. A NaN `delta_H` (a diverged trajectory) counts as
    $+\infty$: always rejected. `delta_H` is minus the log of the Metropolis-Hastings ratio;
    `step_size` is recorded in the info."""
    delta_H = jnp.where(jnp.isnan(delta_H), jnp.inf, delta_H)
    probability = jnp.minimum(1.0, jnp.exp(-delta_H))
    accepted = uniform < probability
    new = jtu.tree_map(lambda a, b: jnp.where(accepted, a, b), proposal, state)
    return new, HMCInfo(probability, accepted, delta_H, jnp.asarray(step_size))


# --------------------------------------------------------------------------------------------
# Leapfrog and the HMC kernel
# --------------------------------------------------------------------------------------------


def leapfrog(
    action: Action,
    position: PyTree[Float[Array, "..."]],
    momentum: PyTree[Float[Array, "..."]],
    step_size: Float[ArrayLike, ""],
    n_steps: int,
    action_grad: PyTree[Float[Array, "..."]] | None = None,
) -> tuple[PyTree[Float[Array, "..."]], PyTree[Float[Array, "..."]], Float[Array, ""], PyTree[Float[Array, "..."]]]:
    r"""Integrate $\dot x = p$, $\dot p = -\nabla S(x)$ with `n_steps` leapfrog steps of size
    `step_size` (unit mass).

    The half kicks of consecutive steps are merged, so a trajectory costs `n_steps` evaluations
    of `jax.value_and_grad(action)` (plus one when `action_grad` at the start is not given).
    Reversible: starting again from the end point with negated momentum returns to the start.

    **Arguments:** `action` S(x) -> scalar; `position` and `momentum`, PyTrees of the same
    structure; `step_size` $\epsilon$; `n_steps` >= 1 (static); `action_grad`, $\nabla S$ at
    `position` when already known.

    **Returns:** `(position, momentum, action, action_grad)` at the end of the trajectory.
    """
    n_steps = _check_int("leapfrog", "n_steps", n_steps, 1)
    force = jax.value_and_grad(action)
    if action_grad is None:
        action_grad = force(position)[1]
    momentum = _axpy(-step_size / 2, action_grad, momentum)

    def full_step(_, carry):
        x, p = carry
        x = _axpy(step_size, p, x)
        return x, _axpy(-step_size, force(x)[1], p)

    position, momentum = jax.lax.fori_loop(0, n_steps - 1, full_step, (position, momentum))
    position = _axpy(step_size, momentum, position)
    value, grad = force(position)
    return position, _axpy(-step_size / 2, grad, momentum), value, grad


class HMC(eqx.Module):
    r"""Hybrid Monte Carlo for $e^{-S(x)}/Z$: unit-mass Gaussian momenta, `n_leapfrog`
    leapfrog steps of size `step_size`, Metropolis accept with $\min(1, e^{-\Delta H})$.

    **Arguments:**

    - `action`: $S(x)$ -> scalar (dimensionless), JAX-differentiable; $x$ any PyTree of
      floating-point arrays.
    - `step_size`: leapfrog step $\epsilon > 0$ (a number or a scalar array, in the units of
      $x$ for unit mass).
    - `n_leapfrog`: leapfrog steps per trajectory, a positive int (static).
    - `wrap`: optional function applied to the position at the end of each trajectory, e.g.
      U(1) angles mapped to $(-\pi, \pi]$. It must be a symmetry of $S$ (leave $S$ and
      $\nabla S$ unchanged): the cached action and gradient are not re-evaluated.
    """

    action: Action
    step_size: Float[Array, ""]
    n_leapfrog: int = eqx.field(static=True)
    wrap: Callable[[PyTree], PyTree] | None = eqx.field(static=True)

    def __init__(self, action: Action, step_size: Float[ArrayLike, ""], n_leapfrog: int,
                 wrap: Callable[[PyTree], PyTree] | None = None):
        _check_callable("HMC", "action", action)
        if wrap is not None:
            _check_callable("HMC", "wrap", wrap)
        self.action = action
        self.step_size = _check_step_size("HMC", step_size)
        self.n_leapfrog = _check_int("HMC", "n_leapfrog", n_leapfrog, 1)
        self.wrap = wrap

    def init(self, position: PyTree[Float[ArrayLike, "..."]]) -> HMCState:
        """The chain state at `position` (wrapped when `wrap` is set).

        **Arguments:** `position`, a PyTree of floating-point arrays where $S$ is finite.

        **Returns:** an `HMCState`.
        """
        position = jtu.tree_map(jnp.asarray, position)
        if self.wrap is not None:
            position = self.wrap(position)
        return _init_state("HMC.init", self.action, position)

    def step(self, key: PRNGKeyArray, state: HMCState,
             step_size: Float[ArrayLike, ""] | None = None) -> tuple[HMCState, HMCInfo]:
        """One HMC update: fresh momenta, one leapfrog trajectory, Metropolis accept/reject.

        **Arguments:** `key`; `state`; `step_size` to use instead of the kernel's (for
        adaptation).

        **Returns:** `(state, info)`: the new `HMCState` and an `HMCInfo`.
        """
        step_size = self.step_size if step_size is None else step_size
        momentum, uniform = _noise_and_uniform(key, state.position)
        position, end_momentum, value, grad = leapfrog(
            self.action, state.position, momentum, step_size, self.n_leapfrog, state.action_grad
        )
        if self.wrap is not None:
            position = self.wrap(position)
        delta_H = (value - state.action) + (_half_square(end_momentum) - _half_square(momentum))
        return _metropolis(uniform, state, HMCState(position, value, grad), delta_H, step_size)


# --------------------------------------------------------------------------------------------
# Chains
# --------------------------------------------------------------------------------------------


class _DualAveraging(NamedTuple):
    """Dual averaging of log(step size) (Hoffman & Gelman 2014, Algorithm 5)."""

    log_step: Array  # the iterate, used for the next step
    log_step_avg: Array  # its weighted average, the final step size
    error_avg: Array  # running mean of (target - acceptance)
    count: Array


# Hoffman & Gelman's constants: shrinkage scale, iteration offset, averaging exponent.
_DA_GAMMA, _DA_T0, _DA_KAPPA = 0.05, 10.0, 0.75


def _dual_averaging_update(da: _DualAveraging, acceptance: Array, target: float, mu: Array) -> _DualAveraging:
    t = da.count + 1
    weight = 1.0 / (t + _DA_T0)
    error_avg = (1 - weight) * da.error_avg + weight * (target - acceptance)
    log_step = mu - jnp.sqrt(t) / _DA_GAMMA * error_avg
    eta = t ** (-_DA_KAPPA)
    log_step_avg = eta * log_step + (1 - eta) * da.log_step_avg
    return _DualAveraging(log_step, log_step_avg, error_avg, t)


def _run_chain(kernel, key, x0, n_samples, n_therm, thin, adapt, target):
    """One scan over all `n_therm + n_samples * thin` updates, so that the kernel is traced and
    compiled once. Every update writes the position into the slot of the sample it belongs to
    (thermalisation writes into slot 0), so the last write of a slot is its sample."""
    state = kernel.init(x0)
    step_size = jnp.asarray(kernel.step_size)
    zero = jnp.zeros_like(step_size)
    da = _DualAveraging(jnp.log(step_size), zero, zero, zero)
    mu = jnp.log(10 * step_size)
    buffer = jtu.tree_map(lambda x: jnp.zeros((n_samples,) + x.shape, x.dtype), state.position)

    def update(carry, inputs):
        state, buffer, da = carry
        i, k = inputs
        if adapt:  # adapting while thermalising, then the averaged step, frozen
            thermalising = i < n_therm
            eps = jnp.exp(jnp.where(thermalising, da.log_step, da.log_step_avg))
            state, info = kernel.step(k, state, eps)
            new = _dual_averaging_update(da, info.acceptance_probability, target, mu)
            da = jtu.tree_map(lambda a, b: jnp.where(thermalising, a, b), new, da)
        else:
            state, info = kernel.step(k, state, step_size)
        slot = jnp.clip((i - n_therm) // thin, 0, n_samples - 1)
        buffer = jtu.tree_map(lambda b, x: jax.lax.dynamic_update_index_in_dim(b, x, slot, 0), buffer, state.position)
        return (state, buffer, da), info

    n_total = n_therm + n_samples * thin
    inputs = (jnp.arange(n_total), jax.random.split(key, n_total))
    (_, samples, da), infos = jax.lax.scan(update, (state, buffer, da), inputs)
    infos = jtu.tree_map(lambda a: a[n_therm:], infos)
    return samples, infos, jnp.exp(da.log_step_avg) if adapt else step_size


@eqx.filter_jit
def _run_chain_jit(kernel, key, x0, n_samples, n_therm, thin, adapt, target):
    return _run_chain(kernel, key, x0, n_samples, n_therm, thin, adapt, target)


@eqx.filter_jit
def _sample_chains_jit(kernel, keys, x0s, n_samples, n_therm, thin, adapt, target):
    one = lambda k, x: _run_chain(kernel, k, x, n_samples, n_therm, thin, adapt, target)
    return jax.vmap(one)(keys, x0s)


def _check_run(name, kernel, n_samples, n_therm, thin, adapt_step_size, target_acceptance):
    for method in ("init", "step"):
        _check_callable(name, f"kernel.{method}", getattr(kernel, method, None))
    if not hasattr(kernel, "step_size"):
        raise ValueError(f"{name}: the kernel {type(kernel).__name__} has no step_size field")
    n_samples = _check_int(name, "n_samples", n_samples, 1)
    n_therm = _check_int(name, "n_therm", n_therm, 0)
    thin = _check_int(name, "thin", thin, 1)
    if not isinstance(adapt_step_size, bool):
        raise ValueError(f"{name}: adapt_step_size must be True or False, got {adapt_step_size!r}")
    if adapt_step_size and n_therm == 0:
        raise ValueError(f"{name}: adapt_step_size=True adapts during thermalisation and needs n_therm > 0")
    if not (isinstance(target_acceptance, (int, float, np.floating)) and 0 < target_acceptance < 1):
        raise ValueError(f"{name}: target_acceptance must be a number in (0, 1), got {target_acceptance!r}")
    return n_samples, n_therm, thin, adapt_step_size, float(target_acceptance)


def run_chain(
    kernel: Any,
    key: PRNGKeyArray,
    x0: PyTree[Float[ArrayLike, "..."]],
    n_samples: int,
    *,
    n_therm: int = 0,
    thin: int = 1,
    adapt_step_size: bool = False,
    target_acceptance: float = 0.8,
) -> tuple[PyTree[Float[Array, "n_samples ..."]], HMCInfo, Float[Array, ""]]:
    r"""Run one Markov chain inside one jit: `n_therm` thermalisation updates (discarded), then
    `n_samples * thin` updates of which every `thin`-th position is kept.

    With `adapt_step_size`, the log step size follows dual averaging (Hoffman & Gelman 2014,
    Alg. 5: $\gamma = 0.05$, $t_0 = 10$, $\kappa = 0.75$, $\mu = \log 10\epsilon_0$) towards
    a mean acceptance probability `target_acceptance` during thermalisation only; its running
    average is then frozen, so the sampling phase is an exact Markov chain with one step size.
    The mean acceptance over the fluctuating iterates is the target; at the frozen average step
    the acceptance usually lands a little (a few hundredths) above it, as the acceptance falls
    concavely with the step size.

    **Arguments:**

    - `kernel`: any sampler with `init(x) -> state`, `step(key, state, step_size) -> (state,
      info)` whose state has a `position` and whose info has an `acceptance_probability`, and
      a `step_size` field (`HMC`, `dphys.lattice.MALA`).
    - `key`: PRNG key; `x0`: initial position (a PyTree of floating-point arrays).
    - `n_samples` >= 1 kept positions; `n_therm` >= 0 discarded updates; `thin` >= 1 updates
      per kept position.
    - `adapt_step_size`: adapt during thermalisation (needs `n_therm > 0`).
    - `target_acceptance` in (0, 1): the acceptance the adaptation aims at.

    **Returns:** `(samples, info_history, final_step_size)`: positions with a leading axis of
    length `n_samples`; the kernel's info of every sampling-phase update (leading axis
    `n_samples * thin`); the step size of the sampling phase.
    """
    *static, target = _check_run("run_chain", kernel, n_samples, n_therm, thin, adapt_step_size,
                                 target_acceptance)
    return _run_chain_jit(kernel, key, x0, *static, jnp.asarray(target))


def sample_chains(
    kernel: Any,
    key: PRNGKeyArray,
    x0s: PyTree[Float[ArrayLike, "chains ..."]],
    n_samples: int,
    *,
    n_therm: int = 0,
    thin: int = 1,
    adapt_step_size: bool = False,
    target_acceptance: float = 0.8,
) -> tuple[PyTree[Float[Array, "chains n_samples ..."]], HMCInfo, Float[Array, " chains"]]:
    """Independent chains: `run_chain` vmapped over keys split from `key` and over the leading
    (chain) axis of the initial positions `x0s`, all inside one jit. Each chain adapts its own
    step size when `adapt_step_size=True`.

    **Arguments:** as for `run_chain`, with `x0s` the initial positions with a leading chain
    axis on every leaf.

    **Returns:** `(samples, info_history, final_step_size)` as from `run_chain`, with a leading
    chain axis on every leaf.
    """
    *static, target = _check_run("sample_chains", kernel, n_samples, n_therm, thin, adapt_step_size,
                                 target_acceptance)
    lengths = {jnp.shape(leaf)[0] if jnp.ndim(leaf) else None for leaf in jtu.tree_leaves(x0s)}
    if len(lengths) != 1 or None in lengths:
        raise ValueError(
            f"sample_chains: every leaf of x0s needs the same leading (chain) axis, got lengths {lengths}"
        )
    keys = jax.random.split(key, lengths.pop())
    return _sample_chains_jit(kernel, keys, x0s, *static, jnp.asarray(target))


def check_acceptance(infos: HMCInfo, step_size: ArrayLike, *, min_acceptance: float = 0.1) -> float:
    """Warn (`RuntimeWarning`) when the Metropolis acceptance has collapsed, naming the step
    size and the mean acceptance probability: with `infos` from `sample_chains` (leading chain
    axis) any chain whose mean is below `min_acceptance` triggers it.

    **Arguments:** `infos`, the info history of `run_chain` or `sample_chains`; `step_size` used
    (scalar or one per chain); `min_acceptance`, the threshold.

    **Returns:** the mean acceptance probability over all updates, a float.
    """
    probability = np.asarray(infos.acceptance_probability, dtype=np.float64)
    if probability.size == 0:
        raise ValueError("check_acceptance: the info history is empty")
    per_chain = probability.reshape(-1, probability.shape[-1]).mean(axis=1)
    mean = float(probability.mean())
    if per_chain.min() < min_acceptance:
        sizes = np.unique(np.asarray(step_size, dtype=np.float64))
        size = f"{sizes[0]:.4g}" if sizes.size == 1 else f"{sizes.min():.4g} to {sizes.max():.4g}"
        worst = f" (worst chain {per_chain.min():.3g})" if per_chain.size > 1 else ""
        warnings.warn(
            f"the Metropolis acceptance collapsed: mean acceptance probability {mean:.3g}{worst} "
            f"< {min_acceptance} at step size {size}; reduce the step size (or adapt it)",
            RuntimeWarning,
            stacklevel=2,
        )
    return mean
