r"""Exactly solvable data distributions: their scores along any forward process and the
cumulants of the noised marginals. References for the samplers, likelihoods and losses.

With $x_t = \alpha_t x_0 + s_t z$ the cumulants add: $\kappa_n(x_t) = \alpha_t^n \kappa_n(x_0)
+ \delta_{n2} s_t^2$. Under VE ($\alpha_t = 1$) every cumulant of order $n \ge 3$ is conserved;
under VP it decays as $\alpha_t^n$.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PyTree

from dphys.diffusion.processes import AbstractProcess

__all__ = ["GaussianScore", "TwoPointScore", "two_point_cumulants", "gaussian_log_prob"]


class GaussianScore(eqx.Module):
    r"""Exact score of data $x_0 \sim \mathcal N(m, \sigma_0^2 I)$ (componentwise) noised by `process`:

    $$ \nabla\log p_t(x) = -\frac{x - \alpha_t m}{\alpha_t^2\sigma_0^2 + s_t^2}. $$

    **Arguments:** `process`; `std` $\sigma_0 > 0$; `mean` $m$ (default 0).
    """

    process: AbstractProcess
    std: float = eqx.field(static=True, default=1.0)
    mean: float = eqx.field(static=True, default=0.0)

    def variance(self, t: Float[ArrayLike, ""]) -> Float[Array, ""]:
        """Marginal variance $\\alpha_t^2\\sigma_0^2 + s_t^2$ per component at time `t`."""
        alpha, s = self.process.mean_std(t)
        return alpha**2 * self.std**2 + s**2

    def __call__(self, x: PyTree[Array], t: Float[ArrayLike, ""]) -> PyTree[Array]:
        alpha = self.process.mean_std(t)[0]
        var = self.variance(t)
        return jtu.tree_map(lambda a: -(a - alpha * self.mean) / var, x)


def gaussian_log_prob(x: PyTree[Array], mean: float, var: Float[ArrayLike, ""]) -> Float[Array, ""]:
    r"""$\log \mathcal N(x; m, v I)$ of one state, summed over all components (nats)."""
    leaves = jtu.tree_leaves(x)
    d = sum(jnp.size(a) for a in leaves)
    sq = sum(jnp.sum((a - mean) ** 2) for a in leaves)
    return -0.5 * sq / var - 0.5 * d * jnp.log(2 * jnp.pi * var)


class TwoPointScore(eqx.Module):
    r"""Exact score of $x_0 = \pm\mu$ with equal weights (each component independently),
    noised by `process` (the exactly solvable toy of the cumulant study):

    $$ \nabla\log p_t(x) = -\frac{x}{s_t^2} + \frac{\alpha_t\mu}{s_t^2}
       \tanh\!\Big(\frac{\alpha_t\mu\,x}{s_t^2}\Big), $$

    the derivative of $\log\tfrac12[\mathcal N(x;\alpha_t\mu,s_t^2) + \mathcal N(x;-\alpha_t\mu,s_t^2)]$.

    **Arguments:** `process`; `mu` > 0.
    """

    process: AbstractProcess
    mu: float = eqx.field(static=True, default=1.0)

    def __call__(self, x: PyTree[Array], t: Float[ArrayLike, ""]) -> PyTree[Array]:
        alpha, s = self.process.mean_std(t)
        m = alpha * self.mu
        return jtu.tree_map(lambda a: (-a + m * jnp.tanh(m * a / s**2)) / s**2, x)


def two_point_cumulants(process: AbstractProcess, mu: float, t: ArrayLike, max_order: int = 6) -> np.ndarray:
    r"""Cumulants $\kappa_1..\kappa_{max}$ of $x_t$ for $x_0 = \pm\mu$ (equal weights):
    $\kappa_n(x_0) = 0$ for odd $n$, $\kappa_2 = \mu^2$, $\kappa_4 = -2\mu^4$, $\kappa_6 = 16\mu^6$;
    $\kappa_n(x_t) = \alpha_t^n\kappa_n(x_0) + \delta_{n2}s_t^2$.

    **Arguments:** `process`; `mu`; `t` times (any shape); `max_order` in 1..6.

    **Returns:** float64 array of shape `(max_order, *t.shape)`.
    """
    if not (isinstance(max_order, int) and 1 <= max_order <= 6):
        raise ValueError(f"two_point_cumulants: max_order must be an int in 1..6, got {max_order!r}")
    t = np.asarray(t, dtype=np.float64)
    alpha, s = (np.asarray(v, dtype=np.float64) for v in process.mean_std(t))
    k0 = {1: 0.0, 2: mu**2, 3: 0.0, 4: -2 * mu**4, 5: 0.0, 6: 16 * mu**6}
    out = [alpha**n * k0[n] + (s**2 if n == 2 else 0.0) for n in range(1, max_order + 1)]
    return np.stack([np.broadcast_to(o, t.shape) for o in out])
