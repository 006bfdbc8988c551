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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, PyTree

from dphys._checks import check_callable, check_int, check_step_size
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

__all__ = ["HMC", "leapfrog"]




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
    n_steps = check_int("leapfrog", "n_steps", n_steps, 1)
    step_size = jnp.asarray(step_size)
    force = jax.value_and_grad(action)
    if action_grad is None:
        action_grad = force(position)[1]
    momentum = axpy(-step_size / 2, action_grad, momentum)

    def full_step(_, carry):
        x, p = carry
        x = axpy(step_size, p, x)
        return x, axpy(-step_size, force(x)[1], p)

    position, momentum = jax.lax.fori_loop(0, n_steps - 1, full_step, (position, momentum))
    position = axpy(step_size, momentum, position)
    value, grad = force(position)
    return position, axpy(-step_size / 2, grad, momentum), value, grad


class HMC(AbstractKernel):
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

    def __init__(self, action: Action, step_size: Float[ArrayLike, ""], n_leapfrog: Any,
                 wrap: Callable[[PyTree], PyTree] | None = None):
        check_callable("HMC", "action", action)
        if wrap is not None:
            check_callable("HMC", "wrap", wrap)
        self.action = action
        self.step_size = check_step_size("HMC", step_size)
        self.n_leapfrog = check_int("HMC", "n_leapfrog", n_leapfrog, 1)
        self.wrap = wrap

    def init(self, position: PyTree[Float[ArrayLike, "..."]]) -> HMCState:
        """The chain state at `position` (wrapped when `wrap` is set).

        **Arguments:** `position`, a PyTree of floating-point arrays where $S$ is finite.

        **Returns:** an `HMCState`.
        """
        position = jtu.tree_map(jnp.asarray, position)
        if self.wrap is not None:
            position = self.wrap(position)
        return init_state("HMC.init", self.action, position)

    def step(self, key: PRNGKeyArray, state: HMCState,
             step_size: Float[ArrayLike, ""] | None = None) -> tuple[HMCState, HMCInfo]:
        """One HMC update: fresh momenta, one leapfrog trajectory, Metropolis accept/reject.

        **Arguments:** `key`; `state`; `step_size` to use instead of the kernel's (for
        adaptation).

        **Returns:** `(state, info)`: the new `HMCState` and an `HMCInfo`.
        """
        step_size = self.step_size if step_size is None else step_size
        momentum, uniform = noise_and_uniform(key, state.position)
        position, end_momentum, value, grad = leapfrog(
            self.action, state.position, momentum, step_size, self.n_leapfrog, state.action_grad
        )
        if self.wrap is not None:
            position = self.wrap(position)
        delta_H = (value - state.action) + (half_square(end_momentum) - half_square(momentum))
        return metropolis(uniform, state, HMCState(position, value, grad), delta_H, step_size)
