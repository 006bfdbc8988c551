r"""Continuous-mixture autoregressive network (CAN): an exact, normalised density over lattice fields.

The sites of a lattice of shape `(N,)` or `(L, L)` are taken in raster order $i = 0 \dots V-1$,
and

$$ p_\theta(x \mid c) = \prod_i p_\theta(x_i \mid x_{<i}, c), \qquad
   p_\theta(x_i \mid x_{<i}, c) = \sum_{k=1}^K \pi_{ik}\, f(x_i; \mu_{ik}, s_{ik}), $$

with $f$ a Gaussian (default), a logistic or a Beta density (on a finite support). The
mixture parameters of every site come from one forward pass:

- causal dilated convolutions along the sequence (kernel $k$, dilations $1, 2, 4, \dots$; the
  first layer is strictly causal, taps at $i-1, i-2, \dots$, later layers include $i$), shared
  over sites, with a per-site bias and, for every $i \ge 1$, the first site's value
  $x_0$ as an extra input (on a periodic lattice the exact conditional depends on it);
- optionally (`direct=True`, default) a masked dense layer, linear in all $x_{j<i}$, added to
  the mixture parameters (MADE mask).

The per-site biases are free (`positional=None`, $V \times$ channels parameters per layer) or
smooth in the site, $b_i = \sum_{p<P} W_p \cos(\pi p\, i/(V-1))$, plus a free bias for each of
the edge sites $0, 1, V-2, V-1$ (`positional=P`). For a
nearest-neighbour chain on a ring the exact conditional is $p(x_i \mid x_{i-1}, x_0)$, a function
that varies smoothly with $i$ except near the ends of the sequence, where $x_{i-1}$ and $x_0$ are
close neighbours on the ring (`dphys.autoregressive.chain_log_conditionals`), so
`kernel_size=1, positional=P, direct=False` (receptive field exactly $x_{i-1}$ and $x_0$, one
shared nonlinear map for all sites) has the right structure with few parameters. With free
per-site biases and the dense layer the network over-fitted an HMC ensemble of the 0+1D
double well (train NLL below the exact entropy, held-out KL 0.5-0.7 nats; see `can-thermal`).

So row $i$ depends on $x_{<i}$ only (tested with `jax.jacfwd`), $\log p_\theta(x)$ is exact and
normalised and costs one pass, and sampling goes site by site (a `lax.scan` of $V$ passes).
Conditioning scalar $c$ (e.g. $\log T$), mapped affinely to $[-1, 1]$ over `cond_range`:
`cond_mode="affine"` (default) makes the mixture parameters affine in it,
$\theta_i = A_i(x_{<i}) + c\,B_i(x_{<i})$, which interpolates between two training
temperatures (the log-width of a Gaussian kinetic term, $\tfrac12\log a$, is linear in $\log T$);
`cond_mode="film"` feeds it into every layer (additive and multiplicative), more flexible but it
interpolated badly between two temperatures in our tests (RMS action error 1.0 std(S) against
0.18 for affine at the midpoint).
"""

from __future__ import annotations

import math
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from dphys._checks import positive_int

__all__ = ["CANetwork", "MaskedLinear", "sample_with_log_prob", "log_prob"]

MIXTURES = ("gaussian", "logistic", "beta")
_LOG_SCALE_MIN, _LOG_SCALE_MAX = -7.0, 3.0


class MaskedLinear(eqx.Module):
    r"""Dense layer $y = (W \odot M) x + b$ with a fixed boolean mask $M$ (not trained: `fit`
    trains only floating-point arrays).

    **Arguments:** `mask` boolean of shape `(out, in)`; `key`; `scale` of the initial weights
    (default $1/\sqrt{\text{fan-in}}$ per row, counting unmasked inputs only).
    """

    weight: Float[Array, "out in"]
    bias: Float[Array, " out"]
    mask: Array

    def __init__(self, mask: ArrayLike, key: PRNGKeyArray, scale: float = 1.0):
        mask = np.asarray(mask, dtype=bool)
        fan_in = np.maximum(mask.sum(axis=1, keepdims=True), 1)
        w = jax.random.normal(key, mask.shape) * scale / np.sqrt(fan_in)
        self.weight = jnp.where(mask, w, 0.0)
        self.bias = jnp.zeros(mask.shape[0])
        self.mask = jnp.asarray(mask)

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        return jnp.where(self.mask, self.weight, 0.0) @ x + self.bias


class CANetwork(eqx.Module):
    r"""Continuous-mixture autoregressive network on a lattice of shape `shape` (module docstring).

    **Arguments:**

    - `shape`: `(N,)` for a 1D (periodic or open: the density does not care) lattice, or
      `(L1, L2)` for 2D (raster order).
    - `key`: PRNG key of the initial weights.
    - `n_components`: mixture size $K \ge 1$.
    - `n_hidden`: channels per site; `depth`: number of causal convolution layers ($\ge 1$).
    - `mixture`: `"gaussian"`, `"logistic"` or `"beta"` (the latter on `support = (lo, hi)`).
    - `cond_range`: `(c_min, c_max)` of the conditioning scalar seen in training, `c_min < c_max`,
      or `None` for an unconditional network. Values outside it give a `UserWarning`.
    - `cond_mode`: `"affine"` (mixture parameters affine in the conditioning value) or `"film"`
      (conditioning in every layer); see the module docstring.
    - `kernel_size`: taps of the causal convolutions.
    - `x_scale`: typical size of the field (inputs are divided by it, means multiplied).
    - `positional`: `None` (free per-site biases) or the number $P \ge 1$ of cosine features
      of the site index the biases are built from, plus edge-site indicators (module docstring).
    - `direct`: include the masked dense layer linear in all earlier sites.
    """

    convs: list
    site_bias: list
    anchor: list
    cond_layers: list
    head: Float[Array, "2 P C"]
    head_bias: Float[Array, "2 V P"]
    direct: MaskedLinear | None
    shape: tuple[int, ...] = eqx.field(static=True)
    n_components: int = eqx.field(static=True)
    mixture: str = eqx.field(static=True)
    support: tuple[float, float] = eqx.field(static=True)
    cond_range: tuple[float, float] | None = eqx.field(static=True)
    x_scale: float = eqx.field(static=True)
    kernel_size: int = eqx.field(static=True)
    cond_mode: str = eqx.field(static=True)
    dilations: tuple[int, ...] = eqx.field(static=True)
    positional: int | None = eqx.field(static=True)

    def __init__(self, shape, key: PRNGKeyArray, *, n_components: int = 4, n_hidden: int = 16,
                 depth: int = 3, kernel_size: int = 3, mixture: str = "gaussian",
                 support: tuple[float, float] = (0.0, 1.0),
                 cond_range: tuple[float, float] | None = None, cond_mode: str = "affine",
                 x_scale: float = 1.0, positional: int | None = None, direct: bool = True):
        shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
        if len(shape) not in (1, 2):
            raise ValueError(f"shape={shape}: expected (N,) or (L1, L2)")
        shape = tuple(positive_int("CANetwork", "every shape entry", s) for s in shape)
        self.shape = shape
        if cond_mode not in ("affine", "film"):
            raise ValueError(f"cond_mode={cond_mode!r}: expected 'affine' or 'film'")
        self.cond_mode = cond_mode
        self.n_components = positive_int("CANetwork", "n_components (mixture size)", n_components)
        c = positive_int("CANetwork", "n_hidden", n_hidden)
        depth = positive_int("CANetwork", "depth", depth)
        self.kernel_size = positive_int("CANetwork", "kernel_size", kernel_size)
        if mixture not in MIXTURES:
            raise ValueError(f"mixture={mixture!r}: expected one of {MIXTURES}")
        self.mixture = mixture
        lo, hi = float(support[0]), float(support[1])
        if not lo < hi:
            raise ValueError(f"support={support}: expected (lo, hi) with lo < hi")
        self.support = (lo, hi)
        if cond_range is not None:
            c0, c1 = float(cond_range[0]), float(cond_range[1])
            if not (math.isfinite(c0) and math.isfinite(c1) and c0 < c1):
                raise ValueError(f"cond_range={cond_range}: expected finite (c_min, c_max) with c_min < c_max")
            cond_range = (c0, c1)
        self.cond_range = cond_range
        if not (x_scale > 0):
            raise ValueError(f"x_scale={x_scale!r}: expected a positive number")
        self.x_scale = float(x_scale)
        self.positional = None if positional is None else positive_int("CANetwork", "positional", positional)

        v, k, ks = self.n_sites, self.n_components, self.kernel_size
        n_pos = v if self.positional is None else self._positional_features().shape[1]
        self.dilations = tuple(2**d for d in range(depth))
        keys = jax.random.split(key, 4 * depth + 2)
        convs, site_bias, anchor, cond_layers = [], [], [], []
        for d in range(depth):
            c_in = 1 if d == 0 else c
            kk = keys[4 * d : 4 * d + 4]
            convs.append(jax.random.normal(kk[0], (ks, c, c_in)) / np.sqrt(ks * c_in))
            site_bias.append(0.1 * jax.random.normal(kk[1], (n_pos, c)))
            anchor.append(jax.random.normal(kk[2], (c,)))
            cond_layers.append(jnp.concatenate([jax.random.normal(kk[3], (1, c)), jnp.zeros((1, c))]))
        self.convs, self.site_bias, self.anchor, self.cond_layers = convs, site_bias, anchor, cond_layers
        self.head = 0.1 * jax.random.normal(keys[-2], (2, 3 * k, c)) / np.sqrt(c)
        self.head_bias = jnp.zeros((2, n_pos, 3 * k))
        out_site = np.repeat(np.arange(v), 3 * k)
        self.direct = (MaskedLinear(out_site[:, None] > np.arange(v)[None, :], keys[-1], scale=0.1)
                       if direct else None)

    def _positional_features(self) -> np.ndarray:
        """`(V, P + E)`: $\\cos(\\pi p\\, i/(V-1))$, $p < P$, and indicators of the edge sites
        $0, 1, V-2, V-1$ (whose conditionals differ sharply from their neighbours' on a ring)."""
        v = self.n_sites
        u = np.arange(v) / max(v - 1, 1)
        cos = np.cos(np.pi * np.arange(self.positional)[None, :] * u[:, None])
        edges = sorted({e for e in (0, 1, v - 2, v - 1) if 0 <= e < v})
        return np.concatenate([cos, np.eye(v)[:, edges]], axis=1)

    def _per_site(self, b: Array) -> Array:
        """Per-site biases `(V, ...)`: free, or a combination of the positional features."""
        if self.positional is None:
            return b
        return jnp.tensordot(jnp.asarray(self._positional_features(), b.dtype), b, axes=(1, 0))

    @property
    def n_sites(self) -> int:
        return int(np.prod(self.shape))

    def _cond(self, cond) -> Array:
        if self.cond_range is None:
            if cond is not None:
                raise ValueError("this network is unconditional (cond_range=None) but a cond value was given")
            return jnp.zeros(())
        if cond is None:
            raise ValueError(f"this network is conditional (cond_range={self.cond_range}): pass cond")
        c0, c1 = self.cond_range
        return (2 * jnp.asarray(cond, float) - (c0 + c1)) / (c1 - c0)

    def check_cond(self, cond) -> None:
        """Warn (`UserWarning`) if a concrete conditioning value lies outside `cond_range`."""
        if self.cond_range is None or cond is None or isinstance(cond, jax.core.Tracer):
            return
        c = np.asarray(cond, dtype=float)
        c0, c1 = self.cond_range
        if np.any(c < c0 - 1e-9 * abs(c0)) or np.any(c > c1 + 1e-9 * abs(c1)):
            warnings.warn(f"conditioning value(s) {np.unique(c)} outside the trained range {self.cond_range}: "
                          "the network extrapolates", UserWarning, stacklevel=3)

    def _check_x(self, x) -> Array:
        if jnp.shape(x) != self.shape:
            raise ValueError(f"configuration of shape {jnp.shape(x)}: this network was built for shape {self.shape}")
        return jnp.reshape(x, (-1,))

    def params(self, x: Float[Array, "..."], cond=None) -> tuple[Array, Array, Array]:
        r"""Mixture parameters of every site's conditional, from one pass over a configuration
        `x` of shape `shape`: `(logits, loc, log_scale)`, each `(V, K)`. Row $i$ depends on
        $x_{<i}$ (and `cond`) only. For `"beta"` `loc`, `log_scale` are $\log\alpha$, $\log\beta$."""
        flat = self._check_x(x) / self.x_scale
        v = self.n_sites
        c_out = self._cond(cond)
        c = c_out if self.cond_mode == "film" else jnp.zeros(())
        # the first site's value, seen by every later site (the closure of a periodic lattice)
        first = jnp.where(jnp.arange(v) > 0, flat[0], 0.0)[:, None]
        h = flat[:, None]
        for d, (w, b, wa, wc) in enumerate(zip(self.convs, self.site_bias, self.anchor, self.cond_layers)):
            dil = self.dilations[d]
            shift0 = 1 if d == 0 else 0  # strict causality in the first layer: x_j, j < i
            z = jnp.zeros((v, w.shape[1]))
            for t in range(self.kernel_size):
                s = shift0 + t * dil  # tap t sees site i - s
                if s >= v:
                    continue
                shifted = jnp.concatenate([jnp.zeros((s, h.shape[1])), h[: v - s]]) if s else h
                z = z + shifted @ w[t].T
            # conditioning: additive and multiplicative (FiLM) in every layer
            z = z * (1 + c * wc[1]) + self._per_site(b) + first * wa + c * wc[0]
            h = jnp.tanh(z) if d == 0 else h + jnp.tanh(z)
        raw = h @ self.head[0].T + self._per_site(self.head_bias[0])
        if self.direct is not None:
            raw = raw + self.direct(flat).reshape(v, -1)
        if self.cond_range is not None:  # the output is affine in the (scaled) conditioning value
            raw = raw + c_out * (h @ self.head[1].T + self._per_site(self.head_bias[1]))
        raw = raw.reshape(v, 3, self.n_components)
        logits, loc, log_scale = raw[:, 0], raw[:, 1], raw[:, 2]
        if self.mixture == "beta":
            return logits, loc + 1.0, log_scale + 1.0  # log alpha, log beta around e
        # spread the initial means over [-1.5, 1.5] x_scale so the components start distinct
        offsets = jnp.linspace(-1.5, 1.5, self.n_components) if self.n_components > 1 else jnp.zeros(1)
        log_scale = jnp.clip(log_scale - 0.5, _LOG_SCALE_MIN, _LOG_SCALE_MAX) + math.log(self.x_scale)
        return logits, (loc + offsets) * self.x_scale, log_scale

    def _component_log_density(self, xi, loc, log_scale):
        if self.mixture == "gaussian":
            z = (xi - loc) * jnp.exp(-log_scale)
            return -0.5 * z**2 - log_scale - 0.5 * math.log(2 * math.pi)
        if self.mixture == "logistic":
            z = (xi - loc) * jnp.exp(-log_scale)
            return -z - 2 * jax.nn.softplus(-z) - log_scale
        lo, hi = self.support
        u = jnp.clip((xi - lo) / (hi - lo), 1e-12, 1 - 1e-12)
        alpha, beta = jnp.exp(loc), jnp.exp(log_scale)
        gammaln = jax.scipy.special.gammaln
        log_b = gammaln(alpha) + gammaln(beta) - gammaln(alpha + beta)
        inside = (xi > lo) & (xi < hi)
        log_p = (alpha - 1) * jnp.log(u) + (beta - 1) * jnp.log1p(-u) - log_b - math.log(hi - lo)
        return jnp.where(inside, log_p, -jnp.inf)

    def site_log_probs(self, x: Float[Array, "..."], cond=None) -> Float[Array, " V"]:
        r"""$\log p_\theta(x_i \mid x_{<i}, c)$ for every site (raster order), one pass."""
        logits, loc, log_scale = self.params(x, cond)
        xi = jnp.reshape(x, (-1, 1))
        comp = self._component_log_density(xi, loc, log_scale)
        return jax.nn.logsumexp(logits + comp, axis=1) - jax.nn.logsumexp(logits, axis=1)

    def log_prob(self, x: Float[Array, "..."], cond=None) -> Float[Array, ""]:
        r"""Exact $\log p_\theta(x \mid c)$ of one configuration of shape `shape` (nats)."""
        return jnp.sum(self.site_log_probs(x, cond))

    def _draw(self, key, logits, loc, log_scale):
        k1, k2 = jax.random.split(key)
        j = jax.random.categorical(k1, logits)
        m, ls = loc[j], log_scale[j]
        if self.mixture == "gaussian":
            return m + jnp.exp(ls) * jax.random.normal(k2, ())
        if self.mixture == "logistic":
            return m + jnp.exp(ls) * jax.random.logistic(k2, ())
        lo, hi = self.support
        return lo + (hi - lo) * jax.random.beta(k2, jnp.exp(m), jnp.exp(ls))

    def sample_one(self, key: PRNGKeyArray, cond=None) -> tuple[Float[Array, "..."], Float[Array, ""]]:
        r"""One configuration drawn site by site (a `lax.scan` over the $V$ sites, each step a
        full forward pass), and the sum of the log-conditionals it was drawn from."""
        v = self.n_sites

        def step(carry, inputs):
            x, logp = carry
            i, k = inputs
            logits, loc, log_scale = self.params(x.reshape(self.shape), cond)
            xi = self._draw(k, logits[i], loc[i], log_scale[i])
            comp = self._component_log_density(xi, loc[i], log_scale[i])
            lp = jax.nn.logsumexp(logits[i] + comp) - jax.nn.logsumexp(logits[i])
            return (x.at[i].set(xi), logp + lp), None

        x0 = jnp.full((v,), 0.5 * sum(self.support) if self.mixture == "beta" else 0.0)
        (x, logp), _ = jax.lax.scan(step, (x0, jnp.zeros(())), (jnp.arange(v), jax.random.split(key, v)))
        return x.reshape(self.shape), logp


@eqx.filter_jit
def _sample(model, key, n, cond):
    keys = jax.random.split(key, n)
    if cond is None:
        return jax.vmap(lambda k: model.sample_one(k))(keys)
    return jax.vmap(model.sample_one)(keys, jnp.broadcast_to(cond, (n,)))


def sample_with_log_prob(model: CANetwork, key: PRNGKeyArray, n: int, cond: float | None = None
                         ) -> tuple[Float[Array, "n ..."], Float[Array, " n"]]:
    r"""`n` independent configurations from $p_\theta(\cdot \mid c)$, jitted.

    **Arguments:** `model`; `key`; `n` >= 1; `cond`, the conditioning scalar (required iff the
    network is conditional; outside the trained range: `UserWarning`).

    **Returns:** `(x, log_q)`: configurations `(n, *shape)` and their log-densities (nats), the
    latter accumulated from the conditionals used while sampling.
    """
    n = positive_int("sample_with_log_prob", "n (number of samples)", n)
    model.check_cond(cond)
    model._cond(cond)  # conditional/unconditional mismatch -> ValueError
    return _sample(model, key, n, None if cond is None else jnp.asarray(cond, float))


@eqx.filter_jit
def _log_prob(model, x, cond):
    if cond is None:
        return jax.vmap(lambda xi: model.log_prob(xi))(x)
    return jax.vmap(model.log_prob)(x, jnp.broadcast_to(cond, x.shape[:1]))


def log_prob(model: CANetwork, x: Float[ArrayLike, "n ..."], cond: float | Float[ArrayLike, " n"] | None = None
             ) -> Float[Array, " n"]:
    r"""Exact log-densities $\log p_\theta(x \mid c)$ of a batch `x` of shape `(n, *shape)`, one
    parallel pass per configuration (jitted). `cond`: a scalar or one value per configuration."""
    x = jnp.asarray(x)
    if x.shape[1:] != model.shape:
        raise ValueError(f"configurations of shape {x.shape[1:]}: this network was built for shape {model.shape}")
    model.check_cond(cond)
    model._cond(cond)
    return _log_prob(model, x, None if cond is None else jnp.asarray(cond, float))
