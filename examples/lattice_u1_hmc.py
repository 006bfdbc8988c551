"""HMC for 2D U(1) lattice gauge theory against the exact finite-volume character expansion.

Runs in about 20 s on a laptop CPU.  python examples/lattice_u1_hmc.py
"""

import jax
import jax.numpy as jnp
import numpy as np

import dphys.lattice as lat
from dphys import mcmc

L, beta, chains = 8, 1.0, 8
kernel = mcmc.HMC(lat.U1Action(beta=beta), step_size=0.2, n_leapfrog=10, wrap=lat.wrap)
x0 = jnp.zeros((chains, 2, L, L))  # cold start
k_adapt, k_run = jax.random.split(jax.random.PRNGKey(0))

# 200 thermalisation trajectories adapting the step size (then frozen), 500 samples per chain
kernel, x = mcmc.adapt_step_size(kernel, k_adapt, x0, 200, return_positions=True)
out = mcmc.ensemble(kernel, k_run, x, 500)  # out.samples: (sample, chain, 2, L, L)
links = np.asarray(out.samples)
print(f"acceptance {mcmc.check_acceptance(out.info, kernel.step_size, chain_axis=1):.3f}")

obs = lat.u1_observables(links)
exact = lat.u1_exact(beta, L)
for name in ("plaquette", "wilson_1x2", "chi_t"):
    est = obs[name]
    print(f"{name:>10} = {est.value:.5f} +- {est.error:.5f}   exact {exact[name]:.5f}")

# Q is an integer on every configuration and gauge invariant
q = lat.topological_charge(links[-1, 0])
q_gauge = lat.topological_charge(lat.random_gauge_transform(jax.random.PRNGKey(1), links[-1, 0]))
print(f"Q = {float(q):.4f}, after a random gauge transformation {float(q_gauge):.4f}")
