"""Diffusion samplers (dphys.diffusion.sample) against a hand-written `lax.scan` Euler-Maruyama
with the same score network.

Problem: the reverse VE SDE (Song's sigma = 25, t in [1e-3, 1]) on 8x8 lattices, 256 samples,
fixed steps; the score is a ScoreModel around a 2-layer MLP (64 -> 256 -> 256 -> 64) on the
flattened lattice. Both sides draw one Gaussian field per step, evaluate the vmapped score once
per step and start from a prior draw of the same shape. dphys: `sample(..., sampler="em")` (through
`dphys.integrate_sde`, UnsafeBrownianPath) and `sampler="pc"` (informative: two evaluations per
step, against the same one-evaluation baseline, so about 2x is expected).
"""

import equinox as eqx
import jax
import jax.numpy as jnp

import dphys.diffusion as dd
from benchmarks.harness import Case

L, N_SAMPLES = 8, 256


class _MLP(eqx.Module):
    mlp: eqx.nn.MLP

    def __init__(self, key):
        self.mlp = eqx.nn.MLP(L * L + 1, L * L, 256, 2, activation=jax.nn.silu, key=key)

    def __call__(self, x, noise_level):
        return self.mlp(jnp.concatenate([x.ravel(), noise_level[None]])).reshape(x.shape)


def cases(quick: bool) -> list[Case]:
    steps = 100 if quick else 500
    process = dd.VESong(sigma=25.0, t_min=1e-3)
    score = dd.ScoreModel(_MLP(jax.random.PRNGKey(0)), process)
    key = jax.random.PRNGKey(1)

    def ours(sampler):
        return lambda: dd.sample(score, key, (L, L), n_samples=N_SAMPLES, sampler=sampler, steps=steps)[0]

    @jax.jit
    def scan_em(key):
        prior_key, key = jax.random.split(key)
        x = process.prior_std * jax.random.normal(prior_key, (N_SAMPLES, L, L))
        ts = jnp.linspace(process.t_max, process.t_min, steps + 1)
        batched = jax.vmap(score, in_axes=(0, None))

        def step(x, inputs):
            t, t_next, k = inputs
            dt = t - t_next
            g = process.diffusion(t)
            x = x + g**2 * batched(x, t) * dt + g * jnp.sqrt(dt) * jax.random.normal(k, x.shape)
            return x, None

        return jax.lax.scan(step, x, (ts[:-1], ts[1:], jax.random.split(key, steps)))[0]

    repeats = 3 if quick else 7
    return [
        Case(f"diffusion em {steps} steps {L}x{L}x{N_SAMPLES}", ours("em"), "lax.scan Euler-Maruyama",
             lambda: scan_em(key), repeats, target=1.3),
        Case(f"diffusion pc {steps} steps {L}x{L}x{N_SAMPLES} (2 evals/step)", ours("pc"),
             "lax.scan Euler-Maruyama (1 eval/step)", lambda: scan_em(key), repeats),
    ]
