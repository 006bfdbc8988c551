"""The SDE core's sampling path against a hand-written `lax.scan` Euler-Maruyama.

Problem: Langevin dynamics dphi = -dS/dphi dt + sqrt(2) dW of 2D phi^4 (hopping form,
kappa = 0.21, lambda = 0.022) on a 32x32 periodic lattice, 64 chains vmapped over keys,
fixed step dt = 0.01. Both sides draw one Gaussian field per step and chain.
"""

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.harness import Case
from dphys.sde import integrate_sde

KAPPA, LAM, L, CHAINS, DT = 0.21, 0.022, 32, 64, 0.01


def drift(t, phi, args):
    neighbours = sum(jnp.roll(phi, s, axis) for axis in (0, 1) for s in (1, -1))
    return 2 * KAPPA * neighbours - 2 * (1 - 2 * LAM) * phi - 4 * LAM * phi**3


def cases(quick: bool) -> list[Case]:
    n_steps = 200 if quick else 1000
    keys = jax.random.split(jax.random.PRNGKey(0), CHAINS)
    phi0 = jnp.zeros((CHAINS, L, L))
    ts = np.array([0.0, n_steps * DT])
    noise = lambda t, x, args: jnp.sqrt(2.0)

    def solve(differentiable):
        one = lambda x, k: integrate_sde(drift, noise, x, ts, k, dt=DT, differentiable=differentiable)[-1]
        return jax.jit(jax.vmap(one))

    def scan_em(x, key):
        def step(x, k):
            return x + DT * drift(0.0, x, None) + jnp.sqrt(2 * DT) * jax.random.normal(k, x.shape), None

        return jax.lax.scan(step, x, jax.random.split(key, n_steps))[0]

    fast, tree, baseline = solve(False), solve(True), jax.jit(jax.vmap(scan_em))

    # many chains of one number each, batched into one state (the cheap layout for small states)
    x_small = jnp.zeros(1000)
    small_drift = lambda t, x, args: x - x**3
    small = jax.jit(lambda x, k: integrate_sde(small_drift, noise, x, ts, k, dt=DT)[-1])

    def small_scan(x, key):
        def step(x, k):
            return x + DT * small_drift(0.0, x, None) + jnp.sqrt(2 * DT) * jax.random.normal(k, x.shape), None

        return jax.lax.scan(step, x, jax.random.split(key, n_steps))[0]

    small_baseline = jax.jit(small_scan)
    repeats = 3 if quick else 7
    return [
        Case(f"sde euler sampling {L}x{L}x{CHAINS}", lambda: fast(phi0, keys), "lax.scan Euler-Maruyama",
             lambda: baseline(phi0, keys), repeats, target=1.3),
        Case("sde euler sampling 1000 scalar chains", lambda: small(x_small, keys[0]), "lax.scan Euler-Maruyama",
             lambda: small_baseline(x_small, keys[0]), repeats),
        # informative (no target): the price of a Brownian path that reverse-mode AD can revisit
        Case(f"sde euler differentiable {L}x{L}x{CHAINS}", lambda: tree(phi0, keys), "lax.scan Euler-Maruyama",
             lambda: baseline(phi0, keys), repeats=3),
    ]
