"""HMC for 2D U(1) lattice gauge theory against the exact finite-volume character expansion.

Runs in about 20 s on a laptop CPU.  python examples/lattice_u1_hmc.py
"""

import jax
import jax.numpy as jnp
import numpy as np

import dphys.lattice as lat

L, beta, chains = 8, 1.0, 8
kernel = lat.HMC(lat.U1Action(beta=beta), step_size=0.2, n_leapfrog=10, wrap=lat.wrap)
x0 = jnp.zeros((chains, 2, L, L))  # cold start

# 200 thermalisation trajectories with step-size adaptation, then 500 samples per chain
links, infos, step_size = lat.sample_chains(kernel, jax.random.PRNGKey(0), x0, 500, n_therm=200,
                                            adapt_step_size=True)
print(f"acceptance {lat.check_acceptance(infos, step_size):.3f}")

obs = lat.u1_observables(np.swapaxes(np.asarray(links), 0, 1))
exact = lat.u1_exact(beta, L)
for name in ("plaquette", "wilson_1x2", "chi_t"):
    est = obs[name]
    print(f"{name:>10} = {est.value:.5f} +- {est.error:.5f}   exact {exact[name]:.5f}")

# Q is an integer on every configuration and gauge invariant
q = lat.topological_charge(links[0, -1])
q_gauge = lat.topological_charge(lat.random_gauge_transform(jax.random.PRNGKey(1), links[0, -1]))
print(f"Q = {float(q):.4f}, after a random gauge transformation {float(q_gauge):.4f}")
