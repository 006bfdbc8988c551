r"""The score-network contract, noise-level embeddings, and MLP score networks for
low-dimensional states.

Every score network is a callable on ONE sample, `net(x, noise_level) -> array shaped like x`,
with `noise_level` a scalar (what it is, $t$, $\sigma$ or $\ln\sigma/4$, is decided by the
diffusion engine, `dphys.diffusion.ScoreModel`). Batches come from `jax.vmap`.
"""

from __future__ import annotations

import abc
import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from dphys._checks import positive_int

__all__ = ["AbstractScoreNet", "Linear", "NoiseEmbedding", "ScoreMLP", "check_noise_level", "initialise"]


class AbstractScoreNet(eqx.Module):
    """The contract of a score network: `net(x, noise_level) -> array shaped like x` on one
    sample, `noise_level` a scalar array. Subclasses: `LatticeUNet`, `ScoreMLP`."""

    @abc.abstractmethod
    def __call__(self, x: Float[Array, "..."], noise_level: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
        """The network's output for one sample `x` at the scalar `noise_level`, shaped like `x`."""


def check_noise_level(name: str, noise_level: ArrayLike) -> Array:
    """`noise_level` as a JAX array; `ValueError` naming its shape unless it is a scalar."""
    shape = jnp.shape(noise_level)
    if shape != ():
        raise ValueError(
            f"{name}: noise_level must be a scalar (one sample; vmap for batches), got shape {shape}"
        )
    return jnp.asarray(noise_level)


def initialise(tree: Any, key: PRNGKeyArray | None) -> Any:
    r"""Random initial weights from ONE `jax.random.uniform` draw for the whole network.

    Every floating NumPy leaf of `tree` holds the bound of its initial distribution (a weight
    $\pm 1/\sqrt{\text{fan-in}}$, a bias 0); it becomes `bound * U(-1, 1)` in the default float
    dtype. One draw instead of one per layer: each eagerly executed random call of a new shape
    compiles its own kernel (about 0.5 s each on a loaded CPU). With `key=None` the templates
    are returned unchanged (a parent module initialises them together with its own).

    **Arguments:** `tree`, a pytree whose floating NumPy leaves are bounds; `key` (or None).

    **Returns:** the tree with those leaves replaced by JAX arrays (others unchanged)."""
    if key is None:
        return tree
    leaves, treedef = jax.tree.flatten(tree)
    slots = [i for i, leaf in enumerate(leaves) if isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f"]
    total = sum(leaves[i].size for i in slots)
    dtype = jnp.result_type(float)
    u = np.asarray(jax.random.uniform(key, (max(total, 1),), dtype, minval=-1.0, maxval=1.0))
    start = 0
    for i in slots:
        bound = leaves[i]
        leaves[i] = jnp.asarray(bound * u[start : start + bound.size].reshape(bound.shape), dtype)
        start += bound.size
    return jax.tree.unflatten(treedef, leaves)


class Linear(eqx.Module):
    r"""An affine layer `weight @ x + bias`, PyTorch's default initialisation (uniform in
    $\pm 1/\sqrt{\text{in}}$ for both) when built with a `key`."""

    weight: Float[Array, "out in"]
    bias: Float[Array, " out"]

    def __init__(self, in_size: int, out_size: int, *, key: PRNGKeyArray | None):
        bound = 1 / math.sqrt(in_size)
        template = (np.full((out_size, in_size), bound), np.full((out_size,), bound))
        self.weight, self.bias = initialise(template, key)

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        return self.weight @ x + self.bias


class MLP(eqx.Module):
    """`Linear -> SiLU -> ... -> Linear` with `depth` hidden layers of size `width`."""

    layers: tuple[Linear, ...]

    def __init__(self, in_size: int, out_size: int, width: int, depth: int, *, key: PRNGKeyArray | None):
        sizes = [in_size] + [width] * depth + [out_size]
        self.layers = initialise(tuple(Linear(a, b, key=None) for a, b in zip(sizes[:-1], sizes[1:])), key)

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        for layer in self.layers[:-1]:
            x = jax.nn.silu(layer(x))
        return self.layers[-1](x)


class NoiseEmbedding(eqx.Module):
    r"""Sinusoidal features of a scalar noise level followed by a small MLP:

    $$e(\nu) = \mathrm{MLP}\big(\sin(\omega_k\nu), \cos(\omega_k\nu)\big)_{k=1\dots n},\qquad
    \omega_k = \omega_\text{min}(\omega_\text{max}/\omega_\text{min})^{(k-1)/(n-1)},$$

    geometric frequencies (fixed, not trained) so that one embedding resolves both $\nu = t \in
    [0, 1]$ (down to $1/\omega_\text{max}$) and $\nu = \ln\sigma$ over many decades (the lowest
    frequencies stay monotonic over $|\nu| < \pi/(2\omega_\text{min})$).

    **Arguments:** `dim` (output size), `n_frequencies` (default 16), `min_frequency` (0.1),
    `max_frequency` (100), `key`.

    Called with a scalar `noise_level`, returns a vector of size `dim`.
    """

    mlp: MLP
    n_frequencies: int = eqx.field(static=True)
    min_frequency: float = eqx.field(static=True)
    max_frequency: float = eqx.field(static=True)

    def __init__(self, dim: int, *, n_frequencies: int = 16, min_frequency: float = 0.1,
                 max_frequency: float = 100.0, key: PRNGKeyArray | None):
        positive_int("NoiseEmbedding", "dim", dim)
        positive_int("NoiseEmbedding", "n_frequencies", n_frequencies)
        if not (0 < min_frequency <= max_frequency and math.isfinite(max_frequency)):
            raise ValueError(
                f"NoiseEmbedding: need 0 < min_frequency <= max_frequency < inf, got "
                f"min_frequency={min_frequency!r}, max_frequency={max_frequency!r}"
            )
        self.n_frequencies = n_frequencies
        self.min_frequency = float(min_frequency)
        self.max_frequency = float(max_frequency)
        self.mlp = MLP(2 * n_frequencies, dim, dim, depth=2, key=key)

    def features(self, noise_level: Float[ArrayLike, "..."]) -> Float[Array, " features"]:
        """The fixed sinusoidal features $(\\sin\\omega_k\\nu, \\cos\\omega_k\\nu)$."""
        nu = check_noise_level("NoiseEmbedding", noise_level)
        omega = jnp.geomspace(self.min_frequency, self.max_frequency, self.n_frequencies)
        phase = omega.astype(jnp.result_type(nu, jnp.float32)) * nu
        return jnp.concatenate([jnp.sin(phase), jnp.cos(phase)])

    def __call__(self, noise_level: Float[ArrayLike, "..."]) -> Float[Array, " dim"]:
        features = self.features(noise_level)
        return self.mlp(features.astype(jnp.result_type(self.mlp.layers[0].weight)))


def antisymmetrise(fn, x: Array, noise_level: Array) -> Array:
    r"""$(g(x) - g(-x))/2$, both signs in one vmapped call: odd under $x \to -x$ (bitwise, as
    $a - b = -(b - a)$ in IEEE arithmetic, whenever $g$ is evaluated alike at both signs)."""
    both = jax.vmap(fn, in_axes=(0, None))(jnp.stack([x, -x]), noise_level)
    return (both[0] - both[1]) / 2


class ScoreMLP(AbstractScoreNet):
    r"""A multilayer perceptron score network for a low-dimensional state of fixed shape:

    $$f(x, \nu) = W_\text{out}\,\mathrm{SiLU}(\dots\mathrm{SiLU}(W_1 [x, e(\nu)] + b_1)\dots)
    + b_\text{out},$$

    with $e(\nu)$ a `NoiseEmbedding` of the scalar noise level. With `z2_odd=True` the output
    is antisymmetrised, $f(x) = (g(x) - g(-x))/2$, exactly odd under $x \to -x$ (the score of
    a $\mathbb{Z}_2$-symmetric density is odd), at twice the cost.

    **Arguments:**

    - `shape`: the state shape, an int `d` (state `(d,)`) or a tuple (`()` for a scalar state).
    - `width` (64), `depth` (3 hidden layers), `embed_dim` (32): sizes.
    - `z2_odd`: antisymmetrise the output (default False).
    - `key`: PRNG key of the initial weights.

    Called as `net(x, noise_level)` with `x` of shape `shape` and a scalar `noise_level`;
    returns an array of shape `shape`. A wrong shape is a `ValueError` naming it.
    """

    embedding: NoiseEmbedding
    mlp: MLP
    shape: tuple[int, ...] = eqx.field(static=True)
    z2_odd: bool = eqx.field(static=True)

    def __init__(self, shape: int | tuple[int, ...], *, width: int = 64, depth: int = 3,
                 embed_dim: int = 32, z2_odd: bool = False, key: PRNGKeyArray):
        if isinstance(shape, bool):
            raise ValueError(f"ScoreMLP: shape must be a positive int or a tuple of them, got {shape!r}")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        for extent in shape:
            positive_int("ScoreMLP", f"shape {shape}: every extent", extent)
        positive_int("ScoreMLP", "width", width)
        positive_int("ScoreMLP", "depth", depth)
        positive_int("ScoreMLP", "embed_dim", embed_dim)
        if not isinstance(z2_odd, bool):
            raise ValueError(f"ScoreMLP: z2_odd must be True or False, got {z2_odd!r}")
        size = math.prod(shape)
        self.shape = shape
        self.z2_odd = z2_odd
        self.embedding, self.mlp = initialise(
            (NoiseEmbedding(embed_dim, key=None), MLP(size + embed_dim, size, width, depth, key=None)), key
        )

    def _raw(self, x: Array, noise_level: Array) -> Array:
        e = self.embedding(noise_level)
        h = jnp.concatenate([jnp.ravel(x).astype(e.dtype), e])
        return self.mlp(h).reshape(self.shape)

    def __call__(self, x: Float[Array, "*shape"], noise_level: Float[ArrayLike, "..."]) -> Float[Array, "*shape"]:
        if jnp.shape(x) != self.shape:
            raise ValueError(f"ScoreMLP: x has shape {jnp.shape(x)}, expected {self.shape} (one sample)")
        nu = check_noise_level("ScoreMLP", noise_level)
        x = jnp.asarray(x)
        if self.z2_odd:
            return antisymmetrise(self._raw, x, nu)
        return self._raw(x, nu)
