r"""Independence Metropolis: proposals $y \sim q$ drawn independently of the current state, whose
log-density $\log q(y)$ is known, turned into a Markov chain with stationary law $p$:

$$ A = \min\!\Big(1, \frac{p(y)\,q(x)}{p(x)\,q(y)}\Big) = \min(1, e^{w(y) - w(x)}),
   \qquad w = \log p - \log q . $$

The chain is exact only when $\log q$ is the exact density of what is proposed. A proposal with
a non-finite weight (`log_q = +inf`, the mark of a proposal whose density is unknown, e.g. one
that passed through a folding step of a generative map; or `log_p = -inf`, outside the target's
support) is rejected and counted (`is_valid` in the infos). With $q = p$ every proposal is
accepted; the acceptance measures the overlap of $q$ and $p$.

- `IndependenceMetropolis(propose, log_p)`: the kernel, `propose(key) -> (y, log_q)`, for the
  runners (`dphys.mcmc.ensemble`).
- `independence_chain(key, x, log_q, log_p)`: the chain over proposals drawn beforehand, in the
  order drawn (jit-able).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.core
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray, PyTree

from dphys._checks import check_callable
from dphys.mcmc.base import AbstractKernel

__all__ = ["IndependenceChainInfo", "IndependenceInfo", "IndependenceMetropolis", "IndependenceState",
           "independence_chain"]


class IndependenceState(NamedTuple):
    """The chain's `position` and its weight `log_weight` $= \\log p - \\log q$ ($-\\infty$ for a
    start position that is not itself a proposal: the first valid proposal replaces it)."""

    position: PyTree[Array]
    log_weight: Float[Array, ""]


class IndependenceInfo(NamedTuple):
    """One update: `acceptance_probability` $\\min(1, e^{w(y) - w(x)})$ (0 for an invalid
    proposal), `is_accepted`, and `is_valid` (the proposal's weight was finite)."""

    acceptance_probability: Float[Array, ""]
    is_accepted: Bool[Array, ""]
    is_valid: Bool[Array, ""]


def _weight(log_p: Array, log_q: Array) -> Array:
    """w = log p - log q, and -inf where it is not finite (an invalid proposal)."""
    w = log_p - log_q
    return jnp.where(jnp.isfinite(w), w, -jnp.inf)


class IndependenceMetropolis(AbstractKernel):
    r"""Independence Metropolis with proposals `propose(key) -> (y, log_q)` for the target density
    `log_p(y)` (unnormalised, nats, e.g. $-S(y)$). See the module docstring.

    **Arguments:** `propose`, a function of a PRNG key returning one proposal (a PyTree of arrays)
    and its exact log-density (scalar, nats; `+inf` marks a proposal to reject); `log_p`, the
    target's log-density of one state.
    """

    propose: Callable[[PRNGKeyArray], tuple[PyTree[Array], Float[Array, ""]]]
    log_p: Callable[[PyTree[Array]], Float[Array, ""]]

    def __init__(self, propose: Callable, log_p: Callable):
        check_callable("IndependenceMetropolis", "propose", propose)
        check_callable("IndependenceMetropolis", "log_p", log_p)
        self.propose = propose
        self.log_p = log_p

    def init(self, position: PyTree[ArrayLike], log_q: Float[ArrayLike, ""] | None = None) -> IndependenceState:
        """The state at `position`: with its proposal log-density `log_q` a proper chain state;
        without, a placeholder (weight $-\\infty$) that the first valid proposal replaces.

        **Returns:** an `IndependenceState`.
        """
        position = jtu.tree_map(jnp.asarray, position)
        if log_q is None:
            return IndependenceState(position, jnp.asarray(-jnp.inf))
        return IndependenceState(position, _weight(self.log_p(position), jnp.asarray(log_q)))

    def step(self, key: PRNGKeyArray, state: IndependenceState) -> tuple[IndependenceState, IndependenceInfo]:
        """One update: a fresh proposal, accepted with $\\min(1, e^{w(y) - w(x)})$.

        **Returns:** `(state, info)`: an `IndependenceState` and an `IndependenceInfo`.
        """
        k_prop, k_acc = jax.random.split(key)
        y, log_q = self.propose(k_prop)
        w = _weight(self.log_p(y), jnp.asarray(log_q))
        valid = jnp.isfinite(w)
        diff = jnp.where(valid, w - state.log_weight, -jnp.inf)  # +inf from a placeholder state
        probability = jnp.where(valid, jnp.exp(jnp.minimum(diff, 0.0)), 0.0)
        accepted = valid & (jnp.log(jax.random.uniform(k_acc, (), jnp.result_type(float))) < diff)
        new = jtu.tree_map(lambda a, b: jnp.where(accepted, a, b), IndependenceState(y, w), state)
        return new, IndependenceInfo(probability, accepted, valid)


class IndependenceChainInfo(NamedTuple):
    """What `independence_chain` did: `acceptance`, the fraction of the proposals after the first
    valid one that were accepted (invalid ones count as rejected); `is_accepted` per proposal
    (`(n,)`, the first valid one counts as accepted); `is_valid` per proposal; `n_invalid`, the
    number of invalid proposals; `proposal_index`, the proposal each chain state is (`(n,)`)."""

    acceptance: Float[Array, ""]
    is_accepted: Bool[Array, " n"]
    is_valid: Bool[Array, " n"]
    n_invalid: Int[Array, ""]
    proposal_index: Int[Array, " n"]


@jax.jit
def _chain(key, log_w):
    n = log_w.shape[0]
    log_u = jnp.log(jax.random.uniform(key, (n,)))
    valid = jnp.isfinite(log_w)
    first = jnp.argmax(valid)  # 0 when none is valid

    def step(carry, inputs):
        idx, lw = carry
        i, lw_new, lu, ok = inputs
        accept = ok & ((lw == -jnp.inf) | (lu < lw_new - lw))
        idx = jnp.where(accept, i, idx)
        lw = jnp.where(accept, lw_new, lw)
        return (idx, lw), (idx, accept)

    init = (jnp.asarray(0), log_w[0])
    _, (idx, accepted) = jax.lax.scan(step, init, (jnp.arange(1, n), log_w[1:], log_u[1:], valid[1:]))
    idx = jnp.concatenate([jnp.zeros(1, idx.dtype), idx])
    accepted = jnp.concatenate([valid[:1], accepted])
    idx = jnp.where(jnp.arange(n) < first, first, idx)  # the chain starts at the first valid proposal
    after = jnp.arange(n) > first
    acceptance = jnp.sum(accepted & after) / jnp.maximum(jnp.sum(after), 1)
    return idx, IndependenceChainInfo(acceptance, accepted, valid, jnp.sum(~valid), idx)


def _log_values(name: str, what: str, fn_or_values, x: PyTree, n: int) -> Array:
    values = jnp.asarray(jax.vmap(fn_or_values)(x) if callable(fn_or_values) else fn_or_values)
    if values.shape != (n,):
        raise ValueError(f"{name}: {what} must give one value per proposal, shape ({n},), got {values.shape}")
    if not isinstance(values, jax.core.Tracer):
        v = np.asarray(values)
        bad = np.isnan(v) | (v == (-np.inf if what == "log_q" else np.inf))
        if np.any(bad):
            raise ValueError(f"{name}: {what} contains NaN or {'-inf' if what == 'log_q' else '+inf'} "
                             f"(at {int(np.argmax(bad))}); +inf in log_q or -inf in log_p marks a rejected proposal")
    return values


def independence_chain(
    key: PRNGKeyArray,
    # shapes (leading axis n of every leaf of x, (n,) for log_q and log_p) are checked below (ValueError)
    x: PyTree[Float[Array, "..."]],
    log_q: Float[ArrayLike, "..."] | Callable,
    log_p: Float[ArrayLike, "..."] | Callable,
) -> tuple[PyTree[Float[Array, "n ..."]], IndependenceChainInfo]:
    r"""Independence Metropolis chain over the proposals `x`, in the order drawn (module
    docstring). The chain starts at the first valid proposal (accepted unconditionally; slots
    before it repeat it). Works under `jax.jit` and `jax.vmap`.

    **Arguments:**

    - `key`: PRNG key of the accept/reject decisions.
    - `x`: proposals, a PyTree with a leading axis of length n >= 2.
    - `log_q`: their proposal log-densities in nats, `(n,)`, or a function of one state; `+inf`
      marks a proposal to reject (its density is unknown).
    - `log_p`: unnormalised target log-densities ($-S(x)$), `(n,)`, or a function of one state.

    **Returns:** `(chain, info)`: the chain states (leading axis n; repeated states where a
    proposal was rejected) and an `IndependenceChainInfo`.
    """
    name = "independence_chain"
    leaves = jtu.tree_leaves(x)
    if not leaves:
        raise ValueError(f"{name}: x has no array leaves")
    lengths = {jnp.shape(a)[0] if jnp.ndim(a) else None for a in leaves}
    n = next(iter(lengths)) if len(lengths) == 1 else None
    if n is None:
        raise ValueError(f"{name}: every leaf of x needs the same leading (proposal) axis, got {lengths}")
    if n < 2:
        raise ValueError(f"{name}: needs at least 2 proposals, got {n}")
    lq = _log_values(name, "log_q", log_q, x, n)
    lp = _log_values(name, "log_p", log_p, x, n)
    dtype = jnp.result_type(float)
    idx, info = _chain(key, _weight(lp.astype(dtype), lq.astype(dtype)))
    return jtu.tree_map(lambda a: jnp.asarray(a)[idx], x), info
