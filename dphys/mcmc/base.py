r"""The kernel contract of `dphys.mcmc` and the pieces its Metropolis kernels share.

A kernel follows blackjax: an immutable object with

- `init(position) -> state`, the chain state at a position (a PyTree of arrays);
- `step(key, state) -> (state, info)`, one Markov update, the PRNG key first;
- a `step_size` field where the kernel has one (HMC, MALA, complex Langevin): step-size
  adaptation (`dphys.mcmc.adapt_step_size`) returns a new kernel with another value of it.

Every state has a `position`; every info of a Metropolis kernel an `acceptance_probability`
(blackjax's infos call it `acceptance_rate`; the runners read either). Chains are a `jax.vmap`
over keys and initial positions; the runners (`dphys.mcmc.ensemble`, `run_chain`,
`sample_chains`) scan over updates inside one jit.

The building blocks of the Metropolis kernels are public, for writing a new kernel:
`init_state` (action and gradient at a position), `noise_and_uniform` (momenta and the
Metropolis uniform from one key split), `metropolis` (accept/reject with a NaN-safe
$\Delta H$), `axpy` and `half_square` (PyTree arithmetic).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray, PyTree

__all__ = ["AbstractKernel", "HMCInfo", "HMCState"]

Action = Callable[[PyTree[Array]], Float[Array, ""]]


class AbstractKernel(eqx.Module):
    """A Markov kernel with blackjax's contract: `init(position) -> state`, `step(key, state) ->
    (state, info)`. Concrete kernels (`HMC`, `MALA`, `ComplexLangevin`, `IndependenceMetropolis`)
    are final; a kernel with a step size keeps it in a `step_size` field."""

    @abc.abstractmethod
    def init(self, position: PyTree[ArrayLike]) -> Any:
        """The chain state at `position`."""

    @abc.abstractmethod
    def step(self, key: PRNGKeyArray, state: Any) -> tuple[Any, Any]:
        """One update: `(new state, info)`."""


class HMCState(NamedTuple):
    """The state of an HMC or MALA chain: the position and the action and its gradient there
    (cached, so that an update starts without re-evaluating the force)."""

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
# Building blocks of Metropolis kernels (HMC, MALA use them; so can a new kernel)
# --------------------------------------------------------------------------------------------


def axpy(a: ArrayLike, x: PyTree, y: PyTree) -> PyTree:
    """`y + a x` leaf by leaf, keeping the dtype of each leaf of `y`."""
    return jtu.tree_map(lambda xi, yi: yi + jnp.asarray(a, yi.dtype) * xi, x, y)


def half_square(p: PyTree) -> Float[Array, ""]:
    r"""$\sum p^2 / 2$ over every element of every leaf."""
    return jnp.asarray(sum(jnp.sum(leaf**2) for leaf in jtu.tree_leaves(p))) / 2


def noise_and_uniform(key: PRNGKeyArray, tree: PyTree) -> tuple[PyTree, Float[Array, ""]]:
    """Independent standard normal numbers shaped and typed like every leaf of `tree`, and one
    uniform number in [0, 1) for a Metropolis decision, from a single split of `key` (each
    threefry call inside a vmapped scan adds noticeably to the compile time)."""
    leaves, treedef = jtu.tree_flatten(tree)
    *keys, accept_key = jax.random.split(key, len(leaves) + 1)
    noise = [jax.random.normal(k, jnp.shape(x), jnp.result_type(x)) for k, x in zip(keys, leaves)]
    return treedef.unflatten(noise), jax.random.uniform(accept_key, (), jnp.result_type(leaves[0]))


def init_state(name: str, action: Action, position: PyTree) -> HMCState:
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


def metropolis(
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
