"""Complex Langevin with 1000 chains against a vectorised NumPy loop of the same Euler update.

Problem: the quartic model S = sigma z^2/2 + lam z^4/4, sigma = 1 + i, lam = 1, 1000 independent
chains from z = 0, fixed step dt = 0.01, 2000 steps (500 with --quick), a measurement every 100
steps. The baseline holds all chains in one complex NumPy array and loops over the steps in
Python: z += dt K(z) + sqrt(2 dt) eta with real noise eta from numpy's default generator.
dphys: `cl_chains` (lax.scan Euler, chains vmapped over keys).

- gaussian noise: eta standard normal on both sides. Drawing the normals (threefry) is most of
  dphys's time here, which bounds the ratio from below.
- two-point noise: eta = +-1 on both sides (the simplified weak Euler scheme; numpy draws
  integers), dphys unpacks 32 steps from each random word.
- shark (informational): the weak-order-2 path through `dphys.integrate_sde`, against the
  Gaussian Euler loop; diffrax's per-step overhead dominates on this small state.
"""

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.harness import Case
from dphys.lattice.complex_langevin import cl_chains
from dphys.lattice.complex_models import QuarticAction

SIGMA, LAM, CHAINS, DT, THIN = 1 + 1j, 1.0, 1000, 0.01, 100


def numpy_euler(n_steps: int, noise: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    draw = rng.standard_normal if noise == "gaussian" else lambda n: 2.0 * rng.integers(0, 2, n) - 1.0
    z = np.zeros(CHAINS, dtype=np.complex128)
    scale = np.sqrt(2 * DT)
    samples = []
    for step in range(1, n_steps + 1):
        z = z - DT * (SIGMA * z + LAM * z**3) + scale * draw(CHAINS)
        if step % THIN == 0:
            samples.append(z)
    return np.stack(samples)


def cases(quick: bool) -> list[Case]:
    n_steps = 500 if quick else 2000
    action = QuarticAction(SIGMA, LAM)
    z0 = jnp.zeros(CHAINS, jnp.complex64)
    keys = jax.random.split(jax.random.PRNGKey(0), CHAINS)

    def run(solver="euler", noise="gaussian"):
        return lambda: cl_chains(action, keys, z0, dt=DT, n_samples=n_steps // THIN, thin=THIN, solver=solver,
                                 noise=noise)[0]

    repeats = 3 if quick else 7
    return [
        Case(f"complex langevin {CHAINS} chains", run(), "numpy loop, Euler",
             lambda: numpy_euler(n_steps, "gaussian"), repeats, target=0.1),
        Case(f"complex langevin two-point {CHAINS}", run(noise="two-point"), "numpy loop, two-point",
             lambda: numpy_euler(n_steps, "two-point"), repeats, target=0.1),
        Case(f"complex langevin shark {CHAINS}", run(solver="shark"), "numpy loop, Euler",
             lambda: numpy_euler(n_steps, "gaussian"), repeats),
    ]
