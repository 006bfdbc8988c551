"""One training step of the lattice score U-Net (dphys.nn.LatticeUNet) against the same
architecture in PyTorch, on the CPU.

Problem: a batch of 64 scalar fields on a 16x16 periodic lattice; a denoising-score-matching-like
loss mean |sigma net(x + sigma z, ln sigma) + z|^2 with ln sigma uniform in [ln 0.01, ln 10]; one
Adam step (learning rate 1e-3), forward, backward and update. Architecture on both sides:
channels (16, 32) (one 2x2 average-pooling level), 3x3 circular convolutions, FiLM modulation
by a 32-dimensional sinusoidal noise embedding with a 2-layer SiLU MLP, nearest upsampling and
skip concatenation, 8 convolutions in all (lift, 2 + 2 down blocks, 2 up blocks, projection); the
PyTorch side uses `Conv2d(padding=1, padding_mode="circular")` and `torch.optim.Adam`, the dphys
side FFT circular convolutions, `optax.adam` and one `eqx.filter_jit` step. Both draw their noise
inside the step. The PyTorch case is skipped when torch is not installed (`pip install torch==2.13.0`);
it measured 1.19-1.46 (target <= 1.0, missed; see the README row).

Profile (`python -m benchmarks.bench_nn`, `profile()`: median of 60 interleaved repeats, forward +
backward of each piece on the step's shapes, one compiled call each; measured twice on the shared
2-core CPU at load 6-7, so the absolute times are inflated, the fractions are what to read):

| piece | ms | of the step |
|---|---|---|
| the step (value, gradient, Adam) | 38.5 / 42.4 | 1 |
| forward only | 14.1 / 15.2 | 0.36-0.37 |
| the 8 FFT convolutions alone | 43.6 / 44.8 | 1.06-1.13 |
| of which rfft2 + irfft2 | 31.7 / 32.2 | 0.76-0.82 |
| of which the per-momentum channel products | 13.1 / 13.9 | 0.33-0.34 |
| the 8 FiLM + SiLU | 3.3 / 3.4 | 0.08-0.09 |
| Adam update | 1.1 / 1.1 | 0.03 |

(Pieces timed alone carry their own loss and miss the fusion of the whole step, so they add up to
more than 1.) The time is in the convolutions and there in the Fourier transforms: each FFT
convolution does an rfft2 of its input and an irfft2 of its output forward, and the same two
transforms of the cotangent backward, about 4 x 8 batched 16x16 (or 8x8) transforms of 1-48
channels per step, where PyTorch's direct 3x3 convolution does 9 C_in C_out multiply-adds per pixel
and no transform. PyTorch's whole step takes 1/1.46-1/1.19 = 0.68-0.84 of ours, about what our
transforms alone take (0.76-0.82), while the channel products (the convolutions' arithmetic proper,
0.33), FiLM (0.08) and Adam (0.03) cannot be removed: reaching 1.0 needs cheaper transforms or fewer
of them. Tried and rejected: the DFT as dense matrix
products (real and imaginary parts, precomputed 16x16 matrices) instead of `jnp.fft`: slower per
convolution forward + backward in a prototype (not kept, so not benchmarked here). The transforms
cannot be shared between consecutive convolutions (SiLU acts pixelwise in real space), and XLA's
direct NCHW convolution is slower still on this CPU (the
`dphys.nn.lattice` docstring: 0.072 s against the FFT's 0.041 s for a 4-layer CNN step). The case
"vs its convolutions" states the profile as a ratio measured in the same run, without torch: the
step / its 8 convolutions alone (0.80 in one quick run at load 6: the convolutions are the step).
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


# (C_in, C_out, lattice side) of the U-Net's 8 convolutions: lift, 2 + 2 down blocks, 2 up blocks, project
CONVS = ((1, 16, 16), (16, 16, 16), (16, 16, 16), (16, 32, 8), (32, 32, 8), (48, 16, 16), (16, 16, 16), (16, 1, 16))


def pieces_fn(part: str):
    """Forward + backward of one piece of the U-Net step on the benchmark's shapes (batch 64), summed over
    the 8 convolutions (or the 8 FiLM blocks): `part` in "conv" (the whole FFT convolution), "fft"
    (rfft2 + irfft2 alone), "mixing" (the per-momentum channel product alone), "film" (FiLM + SiLU)."""
    from dphys.nn.lattice import circular_conv2d, kernel_spectrum

    keys = jax.random.split(jax.random.PRNGKey(2), 2 * len(CONVS))
    fns, args = [], []
    for (ci, co, n), k1, k2 in zip(CONVS, keys[::2], keys[1::2]):
        x = jax.random.normal(k1, (BATCH, ci, n, n))
        w = 0.1 * jax.random.normal(k2, (3, 3, ci, co))
        if part == "conv":
            f = lambda x, w: jnp.sum(jnp.sin(jax.vmap(circular_conv2d, (0, None))(x, w)))  # noqa: E731
            fns.append(jax.jit(jax.grad(f, argnums=(0, 1))))
            args.append((x, w))
        elif part == "fft":
            def f(x, n=n):
                return jnp.sum(jnp.sin(jnp.fft.irfft2(1.1 * jnp.fft.rfft2(x, axes=(2, 3)), s=(n, n), axes=(2, 3))))

            fns.append(jax.jit(jax.grad(f)))
            args.append((x,))
        elif part == "mixing":
            h = jnp.moveaxis(jnp.fft.rfft2(x, axes=(2, 3)), 1, -1)
            ws = jnp.conj(kernel_spectrum(w, (n, n)))
            f = lambda a, b, ws: jnp.sum(jnp.abs(jnp.einsum("bxyi,xyio->bxyo", a + 1j * b, ws)) ** 2)  # noqa: E731
            fns.append(jax.jit(jax.grad(f, argnums=(0, 1))))
            args.append((h.real, h.imag, ws))
        elif part == "film":
            y = jax.random.normal(k1, (BATCH, co, n, n))
            film = 0.01 * jax.random.normal(k2, (EMBED, 2 * co))
            emb = jnp.ones((BATCH, EMBED))

            def f(film, y, emb):
                scale, shift = jnp.split(emb @ film, 2, axis=1)
                return jnp.sum(jax.nn.silu(y * (1 + scale[:, :, None, None]) + shift[:, :, None, None]))

            fns.append(jax.jit(jax.grad(f, argnums=(0, 1))))
            args.append((film, y, emb))
        else:
            raise ValueError(f"pieces_fn: part={part!r}, expected conv, fft, mixing or film")

    everything = jax.jit(lambda args: [f(*a) for f, a in zip(fns, args)])  # one compiled call, like the step

    def run():
        return everything(args)

    return run


def profile(repeats: int = 30) -> dict[str, float]:
    """Median milliseconds of the training step and of its pieces (`pieces_fn`), printed as a table:
    `python -m benchmarks.bench_nn`. The numbers quoted in the module docstring come from here."""
    import statistics
    import time

    x0 = 0.5 * jax.random.normal(jax.random.PRNGKey(1), (BATCH, L, L))
    net = LatticeUNet(1, CHANNELS, embed_dim=EMBED, key=jax.random.PRNGKey(0))
    params, static = eqx.partition(net, eqx.is_inexact_array)
    log_sigma = jnp.linspace(*LOG_SIGMA, BATCH)

    def loss(p):
        return jnp.mean(jax.vmap(eqx.combine(p, static))(x0, log_sigma) ** 2)

    grads = jax.grad(loss)(params)
    opt = optax.adam(1e-3)
    opt_state = opt.init(params)
    adam = jax.jit(lambda g, s, p: optax.apply_updates(p, opt.update(g, s, p)[0]))
    forward, value_and_grad = jax.jit(loss), jax.jit(jax.value_and_grad(loss))
    runs = {"step (value, grad, Adam)": dphys_step_fn(x0), "forward only": lambda: forward(params),
            "value and grad": lambda: value_and_grad(params),
            "Adam update": lambda: adam(grads, opt_state, params),
            "8 convolutions fwd+bwd": pieces_fn("conv"), "  of which rfft2 + irfft2": pieces_fn("fft"),
            "  of which channel mixing": pieces_fn("mixing"), "8 FiLM + SiLU fwd+bwd": pieces_fn("film")}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for fn in runs.values():
        jax.block_until_ready(fn())  # compile
    for _ in range(repeats):  # interleaved, so that a change of machine load hits every piece alike
        for name, fn in runs.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - start)
    out = {name: 1e3 * statistics.median(t) for name, t in times.items()}
    for name, ms in out.items():
        print(f"{name:32s} {ms:8.2f} ms  ({ms / out['step (value, grad, Adam)']:.2f} of the step)")
    return out


def cases(quick: bool) -> list[Case]:
    x0 = 0.5 * jax.random.normal(jax.random.PRNGKey(1), (BATCH, L, L))
    repeats = 5 if quick else 20
    # the profile as a ratio measured in the same run (no torch needed): the step against its 8 FFT
    # convolutions alone (forward + backward); a ratio near 1 means the convolutions are the step
    out = [Case(f"nn unet train step {L}x{L}x{BATCH} vs its convolutions", dphys_step_fn(x0),
                "the 8 FFT convolutions alone (fwd+bwd)", pieces_fn("conv"), repeats=repeats)]
    try:
        import torch  # noqa: F401  (the baseline; skipped without it)
    except ImportError:
        return out
    return out + [Case(f"nn unet train step {L}x{L}x{BATCH}", dphys_step_fn(x0), "PyTorch (same U-Net, Adam)",
                       torch_step_fn(x0), repeats=repeats, target=1.0)]


if __name__ == "__main__":
    profile()
