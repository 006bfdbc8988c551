r"""Running kernels: one chain (`run_chain`), vmapped chains (`sample_chains`, chain-major), the
time-major ensemble every workflow uses (`ensemble`), step-size adaptation by dual averaging that
returns a new kernel (`adapt_step_size`), and an acceptance check (`check_acceptance`).

The usual recipe ("adapt, freeze, sample in chunks"):

```python
kernel, x = mcmc.adapt_step_size(mcmc.HMC(action, 0.1, 10), k_therm, x0s, n_therm, return_positions=True)
out = mcmc.ensemble(kernel, k_run, x, n_samples, thin=2, chunks=5)   # out.samples: (T, chains, ...)
```

The sampling phase runs with one frozen step size (the median over chains of the adapted ones),
so it is an exact Markov chain for every chain. Any object with `init(position) -> state` and
`step(key, state) -> (state, info)` can be run, a blackjax `SamplingAlgorithm` included;
adaptation needs a `step_size` field (an equinox module: the runner replaces the field).
"""

from __future__ import annotations

import time
import warnings
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, PyTree
from tqdm.auto import tqdm

from dphys._checks import check_callable, check_int

__all__ = ["Ensemble", "adapt_step_size", "check_acceptance", "ensemble", "run_chain", "sample_chains"]


class _DualAveraging(NamedTuple):
    """Dual averaging of log(step size) (Hoffman & Gelman 2014, Algorithm 5)."""

    log_step: Array  # the iterate, used for the next step
    log_step_avg: Array  # its weighted average, the final step size
    error_avg: Array  # running mean of (target - acceptance)
    step_count: Array  # the iteration t


# Hoffman & Gelman's constants: shrinkage scale, iteration offset, averaging exponent.
_DA_GAMMA, _DA_T0, _DA_KAPPA = 0.05, 10.0, 0.75


def _dual_averaging_update(
    da: _DualAveraging, acceptance: Array, target: Float[ArrayLike, ""], mu: Array
) -> _DualAveraging:
    t = da.step_count + 1
    weight = 1.0 / (t + _DA_T0)
    error_avg = (1 - weight) * da.error_avg + weight * (target - acceptance)
    log_step = mu - jnp.sqrt(t) / _DA_GAMMA * error_avg
    eta = t ** (-_DA_KAPPA)
    log_step_avg = eta * log_step + (1 - eta) * da.log_step_avg
    return _DualAveraging(log_step, log_step_avg, error_avg, t)


def _acceptance(info: Any) -> ArrayLike:
    """The acceptance probability of an info: dphys's `acceptance_probability` or blackjax's
    `acceptance_rate`."""
    if hasattr(info, "acceptance_probability"):
        return info.acceptance_probability
    return info.acceptance_rate


def _run_chain(kernel, key, x0, n_samples, n_therm, thin, adapt, target):
    """One scan over all `n_therm + n_samples * thin` updates, so that the kernel is traced and
    compiled once. Every update writes the position into the slot of the sample it belongs to
    (thermalisation writes into slot 0), so the last write of a slot is its sample. Adaptation
    steps with a copy of the kernel whose `step_size` field is the dual-averaging iterate."""
    state = kernel.init(x0)
    step_size = jnp.asarray(kernel.step_size) if adapt else jnp.asarray(jnp.nan)
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
            eps = eps.astype(jnp.result_type(kernel.step_size))
            state, info = eqx.tree_at(lambda kern: kern.step_size, kernel, eps).step(k, state)
            new = _dual_averaging_update(da, jnp.asarray(_acceptance(info)), target, mu)
            da = jtu.tree_map(lambda a, b: jnp.where(thermalising, a, b), new, da)
        else:
            state, info = kernel.step(k, state)
        slot = jnp.clip((i - n_therm) // thin, 0, n_samples - 1)
        buffer = jtu.tree_map(lambda b, x: jax.lax.dynamic_update_index_in_dim(b, x, slot, 0), buffer, state.position)
        return (state, buffer, da), info

    n_total = n_therm + n_samples * thin
    inputs = (jnp.arange(n_total), jax.random.split(key, n_total))
    (_, samples, da), infos = jax.lax.scan(update, (state, buffer, da), inputs)
    infos = jtu.tree_map(lambda a: a[n_therm:], infos)
    final = jnp.exp(da.log_step_avg) if adapt else jnp.asarray(getattr(kernel, "step_size", jnp.nan))
    return samples, infos, final


@eqx.filter_jit
def _run_chain_jit(kernel, key, x0, n_samples, n_therm, thin, adapt, target):
    return _run_chain(kernel, key, x0, n_samples, n_therm, thin, adapt, target)


@eqx.filter_jit
def _sample_chains_jit(kernel, keys, x0s, n_samples, n_therm, thin, adapt, target, time_major=False):
    one = lambda k, x: _run_chain(kernel, k, x, n_samples, n_therm, thin, adapt, target)
    axis = 1 if time_major else 0
    return jax.vmap(one, out_axes=(axis, axis, 0))(keys, x0s)


def _check_kernel(name: str, kernel: Any, needs_step_size: bool) -> None:
    for method in ("init", "step"):
        check_callable(name, f"kernel.{method}", getattr(kernel, method, None))
    if needs_step_size and not hasattr(kernel, "step_size"):
        raise ValueError(f"{name}: adapting needs a kernel with a step_size field; "
                         f"{type(kernel).__name__} has none")


def _check_run(name, kernel, n_samples, n_therm, thin, adapt_step_size, target_acceptance):
    if not isinstance(adapt_step_size, bool):
        raise ValueError(f"{name}: adapt_step_size must be True or False, got {adapt_step_size!r}")
    _check_kernel(name, kernel, adapt_step_size)
    n_samples = check_int(name, "n_samples", n_samples, 1)
    n_therm = check_int(name, "n_therm", n_therm, 0)
    thin = check_int(name, "thin", thin, 1)
    if adapt_step_size and n_therm == 0:
        raise ValueError(f"{name}: adapt_step_size=True adapts during thermalisation and needs n_therm > 0")
    if not (isinstance(target_acceptance, (int, float, np.floating)) and 0 < target_acceptance < 1):
        raise ValueError(f"{name}: target_acceptance must be a number in (0, 1), got {target_acceptance!r}")
    return n_samples, n_therm, thin, adapt_step_size, float(target_acceptance)


def _n_chains(name: str, x0s: PyTree) -> int:
    lengths = {jnp.shape(leaf)[0] if jnp.ndim(leaf) else None for leaf in jtu.tree_leaves(x0s)}
    n = next(iter(lengths)) if len(lengths) == 1 else None
    if n is None:
        raise ValueError(f"{name}: every leaf of x0s needs the same leading (chain) axis, got lengths {lengths}")
    return n


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
) -> tuple[PyTree[Float[Array, "n_samples ..."]], Any, Float[Array, ""]]:
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

    - `kernel`: any sampler with `init(x) -> state` and `step(key, state) -> (state, info)`
      whose state has a `position` (`HMC`, `MALA`, `ComplexLangevin`, `IndependenceMetropolis`,
      a blackjax `SamplingAlgorithm`); adaptation needs a `step_size` field and an info with an
      `acceptance_probability` (or blackjax's `acceptance_rate`).
    - `key`: PRNG key; `x0`: initial position (a PyTree of floating-point arrays).
    - `n_samples` >= 1 kept positions; `n_therm` >= 0 discarded updates; `thin` >= 1 updates
      per kept position.
    - `adapt_step_size`: adapt during thermalisation (needs `n_therm > 0`).
    - `target_acceptance` in (0, 1): the acceptance the adaptation aims at.

    **Returns:** `(samples, info_history, final_step_size)`: positions with a leading axis of
    length `n_samples`; the kernel's info of every sampling-phase update (leading axis
    `n_samples * thin`); the step size of the sampling phase (NaN for a kernel without one).
    """
    n_samples, n_therm, thin, adapt, target = _check_run("run_chain", kernel, n_samples, n_therm, thin,
                                                         adapt_step_size, target_acceptance)
    return _run_chain_jit(kernel, key, x0, n_samples, n_therm, thin, adapt, jnp.asarray(target))


def sample_chains(
    kernel: Any,
    key: PRNGKeyArray,
    x0s: PyTree[Float[ArrayLike, "..."]],  # the leading chain axis: checked by _n_chains (ValueError)
    n_samples: int,
    *,
    n_therm: int = 0,
    thin: int = 1,
    adapt_step_size: bool = False,
    target_acceptance: float = 0.8,
) -> tuple[PyTree[Float[Array, "chains n_samples ..."]], Any, Float[Array, " chains"]]:
    """Independent chains, chain-major: `run_chain` vmapped over keys split from `key` and over
    the leading (chain) axis of the initial positions `x0s`, all inside one jit. Each chain adapts
    its own step size when `adapt_step_size=True`. (`ensemble` gives the same chains time-major.)

    **Arguments:** as for `run_chain`, with `x0s` the initial positions with a leading chain
    axis on every leaf.

    **Returns:** `(samples, info_history, final_step_size)` as from `run_chain`, with a leading
    chain axis on every leaf.
    """
    n_samples, n_therm, thin, adapt, target = _check_run("sample_chains", kernel, n_samples, n_therm, thin,
                                                         adapt_step_size, target_acceptance)
    keys = jax.random.split(key, _n_chains("sample_chains", x0s))
    return _sample_chains_jit(kernel, keys, x0s, n_samples, n_therm, thin, adapt, jnp.asarray(target))


def adapt_step_size(
    kernel: Any,
    key: PRNGKeyArray,
    x0s: PyTree[Float[ArrayLike, "..."]],  # the leading chain axis: checked by _n_chains (ValueError)
    n: int,
    *,
    target_acceptance: float = 0.8,
    return_positions: bool = False,
) -> Any:
    r"""Adapt the step size by dual averaging (`run_chain`) over `n` thermalisation updates of
    every chain, and return the kernel with the median over chains of the adapted step sizes
    (frozen: the chains run with it afterwards are exact Markov chains).

    **Arguments:** `kernel` with a `step_size` field and Metropolis infos (an equinox module:
    `HMC`, `MALA`); `key`; `x0s` initial positions with a leading chain axis; `n` >= 1
    updates; `target_acceptance` in (0, 1); `return_positions`: also return the chains'
    positions after the `n` updates (with the chain axis), to continue from.

    **Returns:** the new kernel, or `(kernel, positions)` with `return_positions=True`.
    """
    name = "adapt_step_size"
    n = check_int(name, "n", n, 1)
    _, n, _, _, target = _check_run(name, kernel, 1, n, 1, True, target_acceptance)
    keys = jax.random.split(key, _n_chains(name, x0s))
    samples, _, steps = _sample_chains_jit(kernel, keys, x0s, 1, n, 1, True, jnp.asarray(target))
    step = float(np.median(np.asarray(steps)))
    new = eqx.tree_at(lambda k: k.step_size, kernel, jnp.asarray(step, jnp.result_type(kernel.step_size)))
    if return_positions:
        return new, jtu.tree_map(lambda a: a[:, -1], samples)
    return new


class Ensemble(NamedTuple):
    """What `ensemble` returns: `samples` with leading axes `(T, chains)`, the kernel's `info` of
    every sampling-phase update with leading axes `(T * thin, chains)`, the kernel's `step_size`
    (None without one) and the wall-clock `seconds` of each chunk (after the chunk's results are
    ready; the first includes compilation)."""

    samples: PyTree[Array]
    info: Any
    step_size: Array | None
    seconds: tuple[float, ...]


def ensemble(
    kernel: Any,
    key: PRNGKeyArray,
    x0s: PyTree[Float[ArrayLike, "..."]],  # the leading chain axis: checked by _n_chains (ValueError)
    n: int,
    *,
    n_therm: int = 0,
    thin: int = 1,
    chunks: int | None = None,
    progress: bool | str = False,
) -> Ensemble:
    r"""Independent chains of `kernel` from the initial positions `x0s` (leading chain axis),
    time-major: `samples[t, c]` is the `t`-th kept position of chain `c`.

    `n_therm` updates are discarded first, then every `thin`-th of `n * thin` updates is kept.
    `chunks=None` runs everything as one jitted call with `key` (chain `c` uses the `c`-th key of
    `jax.random.split(key, chains)`, as `sample_chains`); `chunks=k` runs `k` calls of
    `ceil(n / k)` kept positions each (so `T = k ceil(n / k)`), chunk `i` with the key
    `jax.random.fold_in(key, i)`, each chain continuing where it stopped (thermalisation in the
    first chunk only): one compilation, bounded memory per call and a progress bar between calls.

    **Arguments:** `kernel` (`init`/`step`, e.g. `HMC`, or a blackjax `SamplingAlgorithm`);
    `key`; `x0s`; `n` >= 1; `n_therm` >= 0; `thin` >= 1; `chunks` None or >= 1; `progress`: a
    progress bar over the chunks (a string is its label).

    **Returns:** an `Ensemble`.
    """
    name = "ensemble"
    n, n_therm, thin, _, target = _check_run(name, kernel, n, n_therm, thin, False, 0.5)
    n_chains = _n_chains(name, x0s)
    step_size = getattr(kernel, "step_size", None)
    if chunks is None:
        t0 = time.perf_counter()
        samples, info, _ = jax.block_until_ready(
            _sample_chains_jit(kernel, jax.random.split(key, n_chains), x0s, n, n_therm, thin, False,
                               jnp.asarray(target), True))
        return Ensemble(samples, info, step_size, (time.perf_counter() - t0,))
    chunks = check_int(name, "chunks", chunks, 1)
    per_chunk = -(-n // chunks)
    x, parts, infos, seconds = x0s, [], [], []
    label = progress if isinstance(progress, str) else name
    with tqdm(total=per_chunk * chunks, desc=label, unit="sample", disable=not progress) as bar:
        for i in range(chunks):
            t0 = time.perf_counter()
            keys = jax.random.split(jax.random.fold_in(key, i), n_chains)
            xs, info, _ = jax.block_until_ready(
                _sample_chains_jit(kernel, keys, x, per_chunk, n_therm if i == 0 else 0, thin, False,
                                   jnp.asarray(target), True))
            seconds.append(time.perf_counter() - t0)
            x = jtu.tree_map(lambda a: a[-1], xs)
            parts.append(xs)
            infos.append(info)
            bar.update(per_chunk)
    concat = lambda *a: jnp.concatenate(a, axis=0)
    return Ensemble(jtu.tree_map(concat, *parts), jtu.tree_map(concat, *infos), step_size, tuple(seconds))


def adapted_ensemble(
    kernel: Any,
    key: PRNGKeyArray,
    x0s: PyTree[Float[ArrayLike, "..."]],  # the leading chain axis: checked by _n_chains (ValueError)
    n: int,
    *,
    n_adapt: int,
    thin: int = 1,
    chunks: int | None = None,
    progress: bool | str = False,
    target_acceptance: float = 0.8,
    min_acceptance: float = 0.1,
) -> tuple[Ensemble, float]:
    r"""The usual recipe in one call: adapt the step size over `n_adapt` updates of every chain
    (`adapt_step_size`, the median over chains frozen), continue each chain from where the
    adaptation left it with `ensemble` (`n` kept positions, every `thin`-th update, in `chunks`),
    and check the acceptance (`check_acceptance`, which warns below `min_acceptance`).
    `key` is split in two, the first half for the adaptation, the second for the sampling.

    **Arguments:** as `adapt_step_size` and `ensemble`; `n_adapt` >= 1.

    **Returns:** `(out, acceptance)`: the `Ensemble` (`out.step_size` is the frozen step size,
    `out.samples` time-major) and the mean acceptance probability of the sampling phase.
    """
    k_adapt, k_run = jax.random.split(key)
    kernel, x = adapt_step_size(kernel, k_adapt, x0s, n_adapt, target_acceptance=target_acceptance,
                                return_positions=True)
    out = ensemble(kernel, k_run, x, n, thin=thin, chunks=chunks, progress=progress)
    return out, check_acceptance(out.info, kernel.step_size, min_acceptance=min_acceptance, chain_axis=1)


def check_acceptance(infos: Any, step_size: ArrayLike, *, min_acceptance: float = 0.1,
                     chain_axis: int = 0) -> float:
    """Warn (`RuntimeWarning`) when the Metropolis acceptance has collapsed, naming the step
    size and the mean acceptance probability: any chain whose mean is below `min_acceptance`
    triggers it.

    **Arguments:** `infos`, the info history of `run_chain` (one chain), `sample_chains` (chain
    axis 0) or `ensemble` (`chain_axis=1`); `step_size` used (scalar or one per chain);
    `min_acceptance`, the threshold; `chain_axis`, the axis of the chains in `infos`.

    **Returns:** the mean acceptance probability over all updates, a float.
    """
    probability = np.asarray(_acceptance(infos), dtype=np.float64)
    if probability.size == 0:
        raise ValueError("check_acceptance: the info history is empty")
    if probability.ndim == 1:
        per_chain = probability.mean(keepdims=True)
    else:
        per_chain = np.moveaxis(probability, chain_axis, 0).reshape(probability.shape[chain_axis], -1).mean(axis=1)
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
