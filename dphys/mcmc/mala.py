r"""The Metropolis-adjusted Langevin algorithm (MALA): one Euler-Maruyama step of Langevin
dynamics $dx = -\nabla S\,dt + \sqrt 2\,dW$ as the proposal, and the Metropolis-Hastings
accept/reject of that asymmetric Gaussian proposal, so that the chain samples $e^{-S}/Z$ exactly
for any step $h$.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, PyTree

from dphys._checks import check_callable, check_step_size
from dphys.mcmc.base import (
    AbstractKernel,
    Action,
    HMCInfo,
    HMCState,
    axpy,
    half_square,
    init_state,
    metropolis,
    noise_and_uniform,
)

__all__ = ["MALA"]


class MALA(AbstractKernel):
    r"""Metropolis-adjusted Langevin algorithm for $e^{-S(x)}/Z$.

    Proposal $x' = x - h \nabla S(x) + \sqrt{2h}\,\xi$, $\xi \sim N(0, 1)$, with density
    $q(x'|x) \propto \exp(-|x' - x + h \nabla S(x)|^2 / 4h)$, accepted with probability
    $\min(1, e^{-\Delta H})$,

    $$ \Delta H = S(x') - S(x) + \frac{|x - x' + h\nabla S(x')|^2 - |x' - x + h\nabla S(x)|^2}{4h}. $$

    (The same chain as one leapfrog step of HMC with $\epsilon = \sqrt{2h}$.)

    **Arguments:** `action` $S(x)$ -> scalar, JAX-differentiable, $x$ any PyTree of
    floating-point arrays; `step_size` $h > 0$ (Langevin time).
    """

    action: Action
    step_size: Float[Array, ""]

    def __init__(self, action: Action, step_size: Float[ArrayLike, ""]):
        check_callable("MALA", "action", action)
        self.action = action
        self.step_size = check_step_size("MALA", step_size)

    def init(self, position: PyTree[Float[ArrayLike, "..."]]) -> HMCState:
        """The chain state at `position` (action and gradient cached).

        **Arguments:** `position`, a PyTree of floating-point arrays where $S$ is finite.

        **Returns:** an `HMCState`.
        """
        return init_state("MALA.init", self.action, jtu.tree_map(jnp.asarray, position))

    def step(self, key: PRNGKeyArray, state: HMCState,
             step_size: Float[ArrayLike, ""] | None = None) -> tuple[HMCState, HMCInfo]:
        """One MALA update: an Euler-Maruyama proposal and a Metropolis-Hastings accept/reject.

        **Arguments:** `key`; `state`; `step_size` to use instead of the kernel's (for
        adaptation).

        **Returns:** `(state, info)`: the new `HMCState` and an `HMCInfo`.
        """
        h = jnp.asarray(self.step_size if step_size is None else step_size)
        x = state.position
        noise, uniform = noise_and_uniform(key, x)
        proposal = axpy(jnp.sqrt(2 * h), noise, axpy(-h, state.action_grad, x))
        value, grad = jax.value_and_grad(self.action)(proposal)
        # -log q(x'|x) = |sqrt(2h) xi|^2 / 4h = |xi|^2 / 2; -log q(x|x') from the reverse residual
        reverse = jtu.tree_map(lambda a, b: a - b, x, axpy(-h, grad, proposal))
        delta_H = (value - state.action) + half_square(reverse) / (2 * h) - half_square(noise)
        return metropolis(uniform, state, HMCState(proposal, value, grad), delta_H, h)
