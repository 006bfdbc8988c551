"""One training step of the lattice score U-Net (dphys.nn.LatticeUNet) against the same
architecture in PyTorch, on the CPU.

Problem: a batch of 64 scalar fields on a 16x16 periodic lattice; a denoising-score-matching-like
loss mean |sigma net(x + sigma z, ln sigma) + z|^2 with ln sigma uniform in [ln 0.01, ln 10]; one
Adam step (learning rate 1e-3), forward, backward and update. Architecture on both sides:
channels (16, 32) (one 2x2 average-pooling level), 3x3 circular convolutions, FiLM modulation
by a 32-dimensional sinusoidal noise embedding with a 2-layer SiLU MLP, nearest upsampling and
skip concatenation, 9 convolutions in all; the PyTorch side uses
`Conv2d(padding=1, padding_mode="circular")` and `torch.optim.Adam`, the dphys side FFT
circular convolutions, `optax.adam` and one `eqx.filter_jit` step. Both draw their noise inside
the step. The case is skipped when torch is not installed (`pip install torch==2.13.0`).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from benchmarks.harness import Case
from dphys.nn import LatticeUNet

BATCH, L, CHANNELS, EMBED, N_FREQ = 64, 16, (16, 32), 32, 16
LOG_SIGMA = (math.log(0.01), math.log(10.0))


def dphys_step_fn(x0):
    net = LatticeUNet(1, CHANNELS, embed_dim=EMBED, key=jax.random.PRNGKey(0))
    optimizer = optax.adam(1e-3)
    params, static = eqx.partition(net, eqx.is_inexact_array)
    opt_state = optimizer.init(params)

    def loss_fn(params, key):
        net = eqx.combine(params, static)
        k1, k2 = jax.random.split(key)
        log_sigma = jax.random.uniform(k1, (BATCH,), minval=LOG_SIGMA[0], maxval=LOG_SIGMA[1])
        z = jax.random.normal(k2, x0.shape)
        sigma = jnp.exp(log_sigma)[:, None, None]
        out = jax.vmap(net)(x0 + sigma * z, log_sigma)
        return jnp.mean((sigma * out + z) ** 2)

    @jax.jit
    def step(params, opt_state, key):
        loss, grads = jax.value_and_grad(loss_fn)(params, key)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    state = {"params": params, "opt": opt_state, "i": 0}

    def run():
        state["params"], state["opt"], loss = step(state["params"], state["opt"], jax.random.PRNGKey(state["i"]))
        state["i"] += 1
        return loss

    return run


def torch_step_fn(x0):
    import torch
    from torch import nn

    class Embedding(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("omega", torch.tensor(np.geomspace(0.1, 100.0, N_FREQ), dtype=torch.float32))
            self.mlp = nn.Sequential(nn.Linear(2 * N_FREQ, EMBED), nn.SiLU(), nn.Linear(EMBED, EMBED), nn.SiLU(),
                                     nn.Linear(EMBED, EMBED))

        def forward(self, nu):
            phase = nu[:, None] * self.omega
            return self.mlp(torch.cat([torch.sin(phase), torch.cos(phase)], dim=1))

    def conv(a, b):
        return nn.Conv2d(a, b, 3, padding=1, padding_mode="circular")

    class Block(nn.Module):
        def __init__(self, a, b):
            super().__init__()
            self.conv, self.film = conv(a, b), nn.Linear(EMBED, 2 * b)

        def forward(self, x, emb):
            scale, shift = self.film(emb).chunk(2, dim=1)
            return nn.functional.silu(self.conv(x) * (1 + scale[:, :, None, None]) + shift[:, :, None, None])

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            c0, c1 = CHANNELS
            self.embedding, self.lift = Embedding(), conv(1, c0)
            self.down = nn.ModuleList([nn.ModuleList([Block(c0, c0), Block(c0, c0)]),
                                       nn.ModuleList([Block(c0, c1), Block(c1, c1)])])
            self.up = nn.ModuleList([Block(c1 + c0, c0), Block(c0, c0)])
            self.project = conv(c0, 1)

        def forward(self, x, nu):
            emb = self.embedding(nu)
            h = self.lift(x)
            skip = self.down[0][1](self.down[0][0](h, emb), emb)
            h = nn.functional.avg_pool2d(skip, 2)
            h = self.down[1][1](self.down[1][0](h, emb), emb)
            h = torch.cat([nn.functional.interpolate(h, scale_factor=2, mode="nearest"), skip], dim=1)
            return self.project(self.up[1](self.up[0](h, emb), emb))

    torch.manual_seed(0)
    net = UNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.tensor(np.asarray(x0))[:, None]

    def run():
        log_sigma = torch.empty(BATCH).uniform_(*LOG_SIGMA)
        z = torch.randn_like(x)
        sigma = torch.exp(log_sigma)[:, None, None, None]
        optimizer.zero_grad()
        loss = ((sigma * net(x + sigma * z, log_sigma) + z) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss.detach().numpy()

    return run


def cases(quick: bool) -> list[Case]:
    try:
        import torch  # noqa: F401  (the baseline; skipped without it)
    except ImportError:
        return []
    x0 = 0.5 * jax.random.normal(jax.random.PRNGKey(1), (BATCH, L, L))
    return [Case(f"nn unet train step {L}x{L}x{BATCH}", dphys_step_fn(x0), "PyTorch (same U-Net, Adam)",
                 torch_step_fn(x0), repeats=5 if quick else 20, target=1.0)]
