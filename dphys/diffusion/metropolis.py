r"""Independence Metropolis correction of generated samples (the exactness step of DMasSQ).

Proposals $y_i \sim q$ (independent draws of a generative model whose log-density $\log q$ is
known, e.g. from `log_likelihood`) become a Markov chain with stationary law $p \propto e^{-S}$:
from the current state $x$, the proposal $y_i$ is accepted with probability

$$ A = \min\!\Big(1, \frac{p(y_i)\,q(x)}{p(x)\,q(y_i)}\Big) = \min(1, e^{w(y_i) - w(x)}),
   \qquad w = \log p - \log q, $$

else $x$ is repeated. With $q = p$ every proposal is accepted; the acceptance rate measures the
overlap of $q$ and $p$. The chain starts at the first proposal (accepted unconditionally).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, PyTree

__all__ = ["metropolis_correct"]


def _log_values(name: str, what: str, fn_or_values, x: PyTree, n: int) -> Array:
    if callable(fn_or_values):
        values = jax.vmap(fn_or_values)(x)
    else:
        values = jnp.asarray(fn_or_values)
    if values.shape != (n,):
        raise ValueError(f"{name}: {what} must give one value per proposal, shape ({n},), got {values.shape}")
    if not isinstance(values, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(values))):
        raise ValueError(f"{name}: {what} contains non-finite values (NaN or inf)")
    return values


@jax.jit
def _chain(key, log_w):
    n = log_w.shape[0]
    log_u = jnp.log(jax.random.uniform(key, (n,)))

    def step(carry, inputs):
        idx, lw = carry
        i, lw_new, lu = inputs
        accept = lu < lw_new - lw
        idx = jnp.where(accept, i, idx)
        lw = jnp.where(accept, lw_new, lw)
        return (idx, lw), (idx, accept)

    init = (jnp.asarray(0), log_w[0])
    _, (idx, accepted) = jax.lax.scan(step, init, (jnp.arange(1, n), log_w[1:], log_u[1:]))
    return jnp.concatenate([jnp.zeros(1, idx.dtype), idx]), accepted


def metropolis_correct(
    key: PRNGKeyArray,
    x: PyTree[Float[Array, "n ..."]],
    log_q: Float[ArrayLike, " n"] | Callable,
    log_p: Float[ArrayLike, " n"] | Callable,
) -> tuple[PyTree[Float[Array, "n ..."]], float]:
    r"""Independence Metropolis chain over the proposals `x` (module docstring).

    **Arguments:**

    - `key`: PRNG key of the accept/reject decisions.
    - `x`: proposals, a PyTree with a leading axis of length n >= 2 (in the order drawn).
    - `log_q`: proposal log-densities of the proposals, an array `(n,)`, or a function of one state.
    - `log_p`: unnormalised target log-densities ($-S(x)$), an array `(n,)`, or a function of one state.

    **Returns:** `(chain, acceptance)`: the chain states (leading axis n; repeated states where a
    proposal was rejected) and the fraction of the n - 1 proposals after the first that were accepted.
    """
    name = "metropolis_correct"
    leaves = jtu.tree_leaves(x)
    if not leaves:
        raise ValueError(f"{name}: x has no array leaves")
    lengths = {jnp.shape(a)[0] if jnp.ndim(a) else None for a in leaves}
    if None in lengths or len(lengths) != 1:
        raise ValueError(f"{name}: every leaf of x needs the same leading (proposal) axis, got {lengths}")
    n = lengths.pop()
    if n < 2:
        raise ValueError(f"{name}: needs at least 2 proposals, got {n}")
    lq = _log_values(name, "log_q", log_q, x, n)
    lp = _log_values(name, "log_p", log_p, x, n)
    idx, accepted = _chain(key, (lp - lq).astype(jnp.result_type(float)))
    chain = jtu.tree_map(lambda a: jnp.asarray(a)[idx], x)
    return chain, float(jnp.mean(accepted))
