r"""0-dimensional models: one real variable (or a vector of independent copies) with an action.

The anharmonic toy $S(x) = \mu x^2/2 + g x^4/4!$ is a double well for $\mu < 0$, $g > 0$.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


class AnharmonicAction(eqx.Module):
    r"""$S(x) = \mu x^2/2 + g x^4/4!$, summed over the elements of `x` (independent copies).

    **Arguments:** `mu` (quadratic coupling, may be negative), `g` (quartic coupling, > 0 for a
    normalisable $e^{-S}$). Both dimensionless, differentiable fields.
    """

    mu: Float[ArrayLike, ""] = -1.0
    g: Float[ArrayLike, ""] = 0.4

    def __call__(self, x: Float[Array, "..."]) -> Float[Array, ""]:
        return jnp.sum(self.mu * x**2 / 2 + self.g * x**4 / 24)
