r"""Gauge-equivariant networks for U(1) link fields: a plaquette network.

A 2D U(1) configuration is the array of link angles `(2, L, L)`; its gauge-invariant content
(away from the two Polyakov-loop holonomies) is the field of plaquette angles $\theta_P$, `(L, L)`.
A network that sees only $(\cos\theta_P, \sin\theta_P)$ is exactly gauge invariant and
$2\pi$-periodic; one built from circular convolutions without pooling is exactly translation
equivariant. `U1ScoreNet` is such a network: its output $r_P$, one number per plaquette, becomes
a gauge-covariant link vector through the adjoint of the plaquette map
(`dphys.lattice.plaquette_adjoint`), which is how `dphys.generative.U1Score` uses it as the
learned residual of a score. This module does not depend on the lattice package: it takes the
plaquette angles as input.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from dphys.nn.lattice import CircularConv2d
from dphys.nn.mlp import Linear, NoiseEmbedding, initialise

__all__ = ["FiLMConvBlock", "U1ScoreNet"]


class FiLMConvBlock(eqx.Module):
    r"""One block of `U1ScoreNet`: circular convolution, FiLM modulation by a noise embedding,
    SiLU, $\mathrm{silu}(\mathrm{conv}(x)\,(1 + a) + b)$ with $(a, b)$ = `film(emb)` per channel.

    **Arguments:** `c_in`, `c_out` (channels), `kernel_size` (odd), `embed_dim` (the embedding's
    size), `key` (None: the bound templates of `dphys.nn.initialise`, for a parent to initialise).

    Called as `block(x, emb)` on `x` `(c_in, L, L)` and `emb` `(embed_dim,)`; returns `(c_out, L, L)`."""

    conv: CircularConv2d
    film: Linear

    def __init__(self, c_in: int, c_out: int, kernel_size: int, embed_dim: int, *, key: PRNGKeyArray | None = None):
        conv = CircularConv2d(c_in, c_out, kernel_size, key=None)
        film = Linear(embed_dim, 2 * c_out, key=None)
        self.conv, self.film = initialise((conv, film), key)

    def __call__(self, x: Float[Array, "C_in L L"], emb: Float[Array, " E"]) -> Float[Array, "C_out L L"]:
        scale, shift = jnp.split(self.film(emb), 2)
        return jax.nn.silu(self.conv(x) * (1 + scale[:, None, None]) + shift[:, None, None])


class U1ScoreNet(eqx.Module):
    r"""Plaquette network $r_P(\cos\theta, \sin\theta; \ln s)$: `depth` blocks of circular
    convolution (`kernel_size`, `width` channels) with FiLM modulation by a `NoiseEmbedding` of
    $\ln s$ and SiLU (`FiLMConvBlock`), then a linear circular convolution to one channel (its
    weights scaled by 0.1 at initialisation: a small initial residual). Gauge invariant (it sees
    plaquettes only), $2\pi$-periodic in every plaquette angle, and exactly translation
    equivariant (no pooling).

    **Arguments:** `width`, `depth`, `embed_dim` (positive ints), `kernel_size` (odd), `key`.

    Called as `net(theta_p, log_s)` on plaquette angles `(L, L)` (radians) and the log of the link
    noise $s$ (radians); returns $r_P$, `(L, L)` (radians$^{-1}$).
    """

    embedding: NoiseEmbedding
    blocks: tuple
    project: CircularConv2d

    def __init__(self, width: Any = 32, depth: Any = 4, *, kernel_size: int = 3, embed_dim: Any = 32,
                 key: PRNGKeyArray):
        for name, v in (("width", width), ("depth", depth), ("embed_dim", embed_dim)):
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"U1ScoreNet: {name}={v!r}, expected a positive int")
        channels = [2] + [width] * depth
        blocks = tuple(FiLMConvBlock(a, b, kernel_size, embed_dim) for a, b in zip(channels[:-1], channels[1:]))
        project = CircularConv2d(width, 1, kernel_size, key=None)
        project = eqx.tree_at(lambda p: p.weight, project, 0.1 * project.weight)  # small initial residual
        emb = NoiseEmbedding(embed_dim, min_frequency=0.1, max_frequency=10.0, key=None)
        self.embedding, self.blocks, self.project = initialise((emb, blocks, project), key)

    def __call__(self, theta_p: Float[Array, "L L"], log_s: Float[ArrayLike, "..."]) -> Float[Array, "L L"]:
        emb = self.embedding(log_s)
        x = jnp.stack([jnp.cos(theta_p), jnp.sin(theta_p)]).astype(self.project.weight.dtype)
        for block in self.blocks:
            x = block(x, emb)
        return self.project(x)[0]
