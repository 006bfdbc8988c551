"""Continuous-mixture autoregressive network (dphys.autoregressive) against the same network in NumPy.

Problem: a temperature-conditioned `CANetwork` on N = 64 sites (Gaussian mixture, K = 4,
16 channels, 3 causal convolution layers), batch 1024 configurations.
- log-density: one parallel pass per configuration (jitted, vmapped) against the same
  forward pass in batched NumPy (identical weights, all 1024 configurations as one array).
  Throughput = 1024 / time (configurations per second).
- sampling: site by site, 64 full passes in a jitted scan, against a NumPy loop over the sites
  doing the same batched passes and mixture draws.
"""

import jax
import numpy as np

import dphys.autoregressive as da
from benchmarks.harness import Case

N, BATCH, K, C, DEPTH = 64, 1024, 4, 16, 3
COND = 0.5


def numpy_params(net, x, cond):
    """The network's mixture parameters in NumPy for a batch x of shape (B, N) (affine mode)."""
    w = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64) if isinstance(a, jax.Array) else a, net)
    c0, c1 = net.cond_range
    c = (2 * cond - (c0 + c1)) / (c1 - c0)
    flat = x / net.x_scale
    b, v = flat.shape
    first = np.where(np.arange(v) > 0, 1.0, 0.0)[None, :, None] * flat[:, :1, None]
    h = flat[:, :, None]
    for d, (wc, sb, wa) in enumerate(zip(w.convs, w.site_bias, w.anchor)):
        z = np.zeros((b, v, wc.shape[1]))
        for t in range(net.kernel_size):
            s = (1 if d == 0 else 0) + t * net.dilations[d]
            if s >= v:
                continue
            shifted = np.concatenate([np.zeros((b, s, h.shape[2])), h[:, : v - s]], axis=1) if s else h
            z += shifted @ wc[t].T
        z = z + sb + first * wa
        h = np.tanh(z) if d == 0 else h + np.tanh(z)
    direct = flat @ np.where(w.direct.mask, w.direct.weight, 0.0).T + w.direct.bias
    raw = h @ w.head[0].T + w.head_bias[0] + direct.reshape(b, v, -1)
    raw = raw + c * (h @ w.head[1].T + w.head_bias[1])
    raw = raw.reshape(b, v, 3, net.n_components)
    offsets = np.linspace(-1.5, 1.5, net.n_components)
    log_scale = np.clip(raw[:, :, 2] - 0.5, -7.0, 3.0) + np.log(net.x_scale)
    return raw[:, :, 0], (raw[:, :, 1] + offsets) * net.x_scale, log_scale


def numpy_log_prob(net, x, cond):
    logits, loc, log_scale = numpy_params(net, x, cond)
    z = (x[:, :, None] - loc) * np.exp(-log_scale)
    comp = logits - 0.5 * z**2 - log_scale - 0.5 * np.log(2 * np.pi)
    lse = lambda a: a.max(-1) + np.log(np.exp(a - a.max(-1, keepdims=True)).sum(-1))  # noqa: E731
    return np.sum(lse(comp) - lse(logits), axis=1)


def numpy_sample(net, n, cond, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, net.n_sites))
    for i in range(net.n_sites):
        logits, loc, log_scale = numpy_params(net, x, cond)
        p = np.exp(logits[:, i] - logits[:, i].max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        j = (rng.random((n, 1)) > np.cumsum(p, -1)).sum(-1)
        j = np.minimum(j, net.n_components - 1)
        rows = np.arange(n)
        x[:, i] = loc[rows, i, j] + np.exp(log_scale[rows, i, j]) * rng.standard_normal(n)
    return x


def cases(quick: bool) -> list[Case]:
    repeats = 3 if quick else 7
    net = da.CANetwork((N,), jax.random.PRNGKey(0), n_components=K, n_hidden=C, depth=DEPTH, cond_range=(0.0, 1.0))
    x, _ = da.sample_with_log_prob(net, jax.random.PRNGKey(1), BATCH, COND)
    x_np = np.asarray(x, np.float64)
    # the NumPy port is the same function (checked here, once)
    np.testing.assert_allclose(numpy_log_prob(net, x_np, COND), np.asarray(da.log_prob(net, x, COND)), rtol=1e-3,
                               atol=1e-2)
    key = jax.random.PRNGKey(2)
    return [
        Case(f"CAN log-density N={N} batch {BATCH}", lambda: da.log_prob(net, x, COND), "NumPy batched forward",
             lambda: numpy_log_prob(net, x_np, COND), repeats),
        Case(f"CAN sampling N={N} batch {BATCH}", lambda: da.sample_with_log_prob(net, key, BATCH, COND)[0],
             "NumPy site-by-site loop", lambda: numpy_sample(net, BATCH, COND), repeats),
    ]
