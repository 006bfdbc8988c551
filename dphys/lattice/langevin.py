r"""Langevin dynamics (stochastic quantisation) and the Metropolis-adjusted Langevin algorithm.

Real Langevin dynamics

$$ dx = -\nabla S(x)\, dt + \sqrt{2}\, dW_t $$

has $e^{-S}/Z$ as its stationary distribution. `langevin_chain` integrates it with a fixed step
through the SDE core (`dphys.integrate_sde`, fast sampling path); a discretised chain samples
$e^{-S}$ only up to a step-size bias, $O(dt)$ for Euler-Maruyama. For $S = \mu x^2/2$ the
Euler-Maruyama chain $x' = (1 - \mu\, dt) x + \sqrt{2 dt}\,\xi$ has stationary variance
$1/(\mu (1 - \mu\, dt/2))$ instead of $1/\mu$.

`MALA` removes the bias: it proposes one Euler-Maruyama step,
$x' = x - h \nabla S(x) + \sqrt{2h}\,\xi$, and accepts it with the Metropolis-Hastings
probability of the asymmetric Gaussian proposal, so the chain is exact for any $h$ (it lives in
`dphys.mcmc` and is re-exported here).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, PyTree

from dphys._checks import check_callable, check_int, positive_number
from dphys.mcmc.mala import MALA as MALA
from dphys.sde import SDE_SOLVERS, integrate_sde

__all__ = ["MALA", "langevin_chain", "langevin_drift"]

Action = Callable[[PyTree[Array]], Float[Array, ""]]


def _sqrt2(t, x, args):
    return jnp.sqrt(2.0)


class _Drift(eqx.Module):
    r"""$-\nabla S(x)$ on a PyTree; a module, so that repeated solves with an equal action reuse
    the compiled program."""

    action: Action

    def __call__(self, t, x, args):
        return jtu.tree_map(jnp.negative, jax.grad(self.action)(x))


def langevin_drift(action: Action) -> Callable:
    r"""The Langevin drift $f(t, x, \text{args}) = -\nabla S(x)$ for `dphys.integrate_sde`, on any
    PyTree $x$; with diffusion $\sqrt 2$ its stationary distribution is $e^{-S}/Z$."""
    return _Drift(action)


def langevin_chain(
    action: Action,
    key: PRNGKeyArray,
    x0: PyTree[Float[ArrayLike, "..."]],
    *,
    dt: float,
    n_samples: int,
    thin: int = 1,
    n_therm: int = 0,
    solver: str = "euler",
) -> PyTree[Float[Array, "n_samples ..."]]:
    r"""One chain of Langevin dynamics $dx = -\nabla S\,dt + \sqrt 2\,dW$ from `x0`, with fixed
    steps `dt`, through `dphys.integrate_sde` (fast sampling path).

    After `n_therm` discarded steps, the state is saved every `thin` steps: sample $k$ is the
    state at Langevin time $(n_\text{therm} + (k + 1)\,\text{thin})\,dt$. Samples carry the
    step-size bias of `solver` ($O(dt)$ for `"euler"`); use `MALA` for exact samples. Chains:
    `jax.vmap` over keys and initial states.

    **Arguments:**

    - `action`: $S(x)$ -> scalar, JAX-differentiable; $x$ a PyTree of floating-point arrays.
    - `x0`: initial state; `key`: PRNG key of the noise.
    - `dt`: step size in Langevin time (> 0, concrete).
    - `n_samples` >= 1, `thin` >= 1, `n_therm` >= 0: numbers of saved states, steps between
      them, and discarded steps before the first.
    - `solver`: one of `dphys.sde.SDE_SOLVERS` (the noise is additive, so all apply).

    **Returns:** the samples, a PyTree like `x0` with a leading axis of length `n_samples`. A
    chain that diverges (an explicit step too large for a stiff force) is a run-time error,
    never silent NaN.
    """
    name = "langevin_chain"
    check_callable(name, "action", action)
    n_samples = check_int(name, "n_samples", n_samples, 1)
    thin = check_int(name, "thin", thin, 1)
    n_therm = check_int(name, "n_therm", n_therm, 0)
    if solver not in SDE_SOLVERS:
        raise ValueError(f"{name}: unknown solver {solver!r}; expected one of {sorted(SDE_SOLVERS)}")
    dt = positive_number(name, "dt", dt)
    ts = dt * (n_therm + thin * np.arange(1, n_samples + 1))
    samples = integrate_sde(langevin_drift(action), _sqrt2, x0, ts, key, dt=dt, t0=0.0, solver=solver)
    finite = jnp.all(jnp.asarray([jnp.all(jnp.isfinite(leaf)) for leaf in jtu.tree_leaves(samples)]))
    return eqx.error_if(
        samples, ~finite, f"{name}: the chain diverged to a non-finite state (solver {solver!r}, dt={dt}); reduce dt"
    )
