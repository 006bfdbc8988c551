r"""Wrapped-normal noise on the torus: diffusion of angles.

Angles live on $[-\pi, \pi)^d$. A variance-exploding forward process (e.g. `VEGeometric`) adds
i.i.d. Gaussian noise of standard deviation $s_t$ and reads the result mod $2\pi$, so the noised
density is a product of wrapped normals convolved with the data, and the denoising target of one
component is the wrapped-normal score

$$\partial_x \log \sum_k \mathcal N(x - x_0 + 2\pi k;\, s^2) = -\sum_k w_k\,\frac{x - x_0 + 2\pi k}{s^2},
\qquad w_k \propto e^{-(x - x_0 + 2\pi k)^2/2s^2}$$

(`wrapped_normal_score`). A $2\pi$-periodic learned score lets the reverse SDE of `sample` run
on the unwrapped angles and be wrapped at the end; the prior $\mathcal N(0, s_{max}^2)$ read
mod $2\pi$ has the torus density `wrapped_normal_log_prob`, which is what an exact density of
wrapped Heun samples starts from (`sample_with_log_density(..., prior_log_prob=...)`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

__all__ = ["wrapped_normal_log_prob", "wrapped_normal_score"]


def _wrap(theta: ArrayLike) -> Array:
    """Angles wrapped to (-pi, pi] (as `dphys.lattice.wrap`, which sits in a parallel layer)."""
    return jnp.pi - jnp.mod(jnp.pi - jnp.asarray(theta), 2 * jnp.pi)


def wrapped_normal_score(
    x: Float[ArrayLike, "*shape"], x0: Float[ArrayLike, "*shape"], s: Float[ArrayLike, "*shape"], n_images: int = 3
) -> Float[Array, "*shape"]:
    r"""Score of the wrapped normal, $\partial_x\log\sum_{|k|\le K}\mathcal N(x - x_0 + 2\pi k; s^2)$,
    elementwise (radians$^{-1}$), with $x - x_0$ first wrapped to $(-\pi, \pi]$ and $K$ = `n_images`.
    $2\pi$-periodic in $x$; for $s \lesssim 1$ it is $-(x - x_0)/s^2$ near $x_0$. The neglected
    images weigh less than $e^{-(2K+1)^2\pi^2/2s^2}$ (< $10^{-9}$ for $K = 3$, $s \le 3$).

    **Arguments:** `x`, `x0` (radians) and `s` (radians, > 0), broadcastable; `n_images` >= 0.

    **Returns:** the score, shaped like the broadcast of `x` and `x0`."""
    d = _wrap(jnp.asarray(x) - jnp.asarray(x0))
    k = jnp.arange(-n_images, n_images + 1, dtype=d.dtype)
    s = jnp.asarray(s)[..., None]
    dk = d[..., None] + 2 * jnp.pi * k
    w = jax.nn.softmax(-0.5 * (dk / s) ** 2, axis=-1)
    return -jnp.sum(w * dk, axis=-1) / s[..., 0] ** 2


def wrapped_normal_log_prob(x: Float[ArrayLike, "*shape"], s: float, n_images: int = 6) -> Float[Array, ""]:
    r"""$\sum_i \log\sum_{|k|\le K}\mathcal N(x_i + 2\pi k; 0, s^2)$: the log-density on the torus of
    i.i.d. $\mathcal N(0, s^2)$ components read mod $2\pi$, in nats (`x` and `s` in radians; a
    $2\pi$-periodic function of `x`; $K$ = `n_images`, enough for $s \lesssim 4$: the next image
    weighs $< e^{-(2K+1)^2\pi^2/2s^2}$).

    **Arguments:** `x` (any shape, radians), `s` (> 0, radians), `n_images` >= 0.

    **Returns:** the total log-density, a scalar (nats)."""
    d = _wrap(jnp.asarray(x)).reshape(-1)[:, None] + 2 * jnp.pi * jnp.arange(-n_images, n_images + 1)
    per = jax.scipy.special.logsumexp(-0.5 * (d / s) ** 2, axis=1) - 0.5 * jnp.log(2 * jnp.pi * s**2)
    return jnp.sum(per)
