r"""Independence Metropolis correction of generated samples (the exactness step of DMasSQ).

Proposals $y_i \sim q$ (independent draws of a generative model whose log-density $\log q$ is
known exactly, e.g. from `sample_with_log_density`) become a Markov chain with stationary law
$p \propto e^{-S}$ (`dphys.mcmc.independence_chain`, of which this is the diffusion-facing
name): from the current state $x$, the proposal $y_i$ is accepted with probability

$$ A = \min\!\Big(1, \frac{p(y_i)\,q(x)}{p(x)\,q(y_i)}\Big) = \min(1, e^{w(y_i) - w(x)}),
   \qquad w = \log p - \log q, $$

else $x$ is repeated. A proposal with `log_q = +inf` (its density unknown: it passed through a
folding step of the sampler's map) is rejected. The chain starts at the first valid proposal.
"""

from __future__ import annotations

from collections.abc import Callable

from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, PyTree

from dphys.mcmc.independence import independence_chain

__all__ = ["metropolis_correct"]


def metropolis_correct(
    key: PRNGKeyArray,
    x: PyTree[Float[Array, "n ..."]],
    log_q: Float[ArrayLike, " n"] | Callable,
    log_p: Float[ArrayLike, " n"] | Callable,
) -> tuple[PyTree[Float[Array, "n ..."]], Float[Array, ""]]:
    r"""Independence Metropolis chain over the proposals `x` (module docstring); works under
    `jax.jit`.

    **Arguments:**

    - `key`: PRNG key of the accept/reject decisions.
    - `x`: proposals, a PyTree with a leading axis of length n >= 2 (in the order drawn).
    - `log_q`: exact proposal log-densities in nats, an array `(n,)` or a function of one state
      (`+inf`: reject). Never a stochastic (Hutchinson) estimate: the chain would not be exact.
    - `log_p`: unnormalised target log-densities ($-S(x)$), an array `(n,)`, or a function of one state.

    **Returns:** `(chain, acceptance)`: the chain states (leading axis n; repeated states where a
    proposal was rejected) and the fraction of the proposals after the first valid one that were
    accepted (a scalar array). `dphys.mcmc.independence_chain` also returns which proposals were
    invalid.
    """
    chain, info = independence_chain(key, x, log_q, log_p)
    return chain, info.acceptance
