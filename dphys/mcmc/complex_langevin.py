r"""Complex Langevin as a kernel: one Euler-Maruyama step of

$$ dz = K(z)\,dt + \sqrt 2\, dW, \qquad K = -\partial S/\partial z , $$

with real noise, $z_{n+1} = z_n + \epsilon_n K(z_n) + \sqrt{2\epsilon_n}\,\eta_n$, for a
holomorphic action $S(z)$ of one complex configuration (`jax.grad(action, holomorphic=True)`).
With `k_ref` set, the step is adaptive (Aarts, James, Seiler, Stamatescu 2010):
$\epsilon_n = \bar\epsilon\min(1, K_\text{ref}/\max_i|K_i(z_n)|)$, $\bar\epsilon$ = `step_size`.

The state carries the Langevin-time weight $\epsilon_n$ of the step taken *from* it: averages
are Langevin-time averages $\sum_n \epsilon_n O(z_n)/\sum_n\epsilon_n$ (with a fixed step all
weights equal `step_size`). Averages carry the $O(\epsilon)$ bias of Euler-Maruyama; for
$S = \sigma z^2/2$ the chain's stationary $\langle z^2\rangle = 2/(\sigma(2 - \epsilon\sigma))$
instead of $1/\sigma$. (`dphys.lattice.cl_chain` is the faster many-step sampler of the same
scheme; this kernel runs in the common runners.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Complex, Float, PRNGKeyArray, Shaped

from dphys._checks import check_callable, check_step_size
from dphys.mcmc.base import AbstractKernel

__all__ = ["CLInfo", "CLState", "ComplexLangevin"]


class CLState(NamedTuple):
    """`position` $z$ (complex), the drift $K(z)$ there, and `weight`, the Langevin time
    $\\epsilon$ of the step taken from $z$."""

    position: Complex[Array, "..."]
    drift: Complex[Array, "..."]
    weight: Float[Array, ""]


class CLInfo(NamedTuple):
    """One update: the `step_size` taken and the largest drift `drift_max` $= \\max_i|K_i|$ at
    the start of the step."""

    step_size: Float[Array, ""]
    drift_max: Float[Array, ""]


class ComplexLangevin(AbstractKernel):
    r"""Complex Langevin Euler-Maruyama kernel (module docstring).

    **Arguments:** `action`, a holomorphic $S(z)$ -> complex scalar of one complex configuration;
    `step_size` $\bar\epsilon > 0$ (Langevin time); `k_ref`, None for a fixed step or the
    reference drift $K_\text{ref} > 0$ of the adaptive step.
    """

    action: Callable[[Complex[Array, "..."]], Complex[Array, ""]]
    step_size: Float[Array, ""]
    k_ref: Float[Array, ""] | None

    def __init__(self, action: Callable, step_size: Float[ArrayLike, ""], k_ref: Float[ArrayLike, ""] | None = None):
        check_callable("ComplexLangevin", "action", action)
        self.action = action
        self.step_size = check_step_size("ComplexLangevin", step_size)
        self.k_ref = None if k_ref is None else check_step_size("ComplexLangevin", k_ref, "k_ref")

    def _drift(self, z):
        return -jax.grad(self.action, holomorphic=True)(z)

    def _weight(self, k):
        eps = self.step_size
        if self.k_ref is None:
            return eps
        k_max = jnp.max(jnp.abs(k))
        return jnp.where(k_max > self.k_ref, eps * self.k_ref / jnp.where(k_max > self.k_ref, k_max, 1.0), eps)

    def init(self, position: Shaped[ArrayLike, "..."]) -> CLState:
        """The state at `position`, a float or complex array (real input gets $y = 0$; any other dtype
        is a `ValueError`).

        **Returns:** a `CLState`.
        """
        z = jnp.asarray(position)
        if not jnp.issubdtype(z.dtype, jnp.complexfloating):
            if not jnp.issubdtype(z.dtype, jnp.floating):
                raise ValueError(f"ComplexLangevin.init: the position must be a float or complex array, got {z.dtype}")
            z = jax.lax.complex(z, jnp.zeros_like(z))
        out = jax.eval_shape(self.action, z)
        if out.shape != () or not jnp.issubdtype(out.dtype, jnp.complexfloating):
            raise ValueError(f"ComplexLangevin.init: the action must return a complex scalar, got {out}")
        k = self._drift(z)
        return CLState(z, k, self._weight(k))

    def step(self, key: PRNGKeyArray, state: CLState) -> tuple[CLState, CLInfo]:
        """One Euler-Maruyama step of size `state.weight` with real Gaussian noise.

        **Returns:** `(state, info)`: a `CLState` and a `CLInfo`.
        """
        z, k, eps = state
        eta = jax.random.normal(key, z.shape, z.real.dtype)
        z_new = z + eps.astype(z.real.dtype) * k + jnp.sqrt(2 * eps).astype(z.real.dtype) * eta
        k_new = self._drift(z_new)
        return CLState(z_new, k_new, self._weight(k_new)), CLInfo(eps, jnp.max(jnp.abs(k)))
