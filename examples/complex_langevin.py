"""Complex Langevin for S = sigma z^2/2 + lam z^4/4 with complex sigma: moments against quadrature.

Runs in about 10 s on a laptop CPU.  python examples/complex_langevin.py
"""

import jax
import jax.numpy as jnp

import dphys.lattice as lat

action = lat.QuarticAction(sigma=1 + 1j, lam=1.0)
chains, dt = 512, 1e-3
keys = jax.random.split(jax.random.PRNGKey(0), chains)
z0 = jnp.zeros((chains,), jnp.complex64)

for adaptive in (False, True):
    # 20 000 steps per chain after 5 000 thermalisation steps, a measurement every 50 steps
    z, weights = lat.cl_chains(action, keys, z0, dt=dt, n_samples=400, thin=50, n_therm=5000,
                               adaptive=adaptive, k_ref=1.5 if adaptive else None)
    obs = lat.cl_observables(z, weights)  # Langevin-time weighted averages with jackknife errors
    exact = action.moments(4)
    print(f"adaptive step: {adaptive}")
    for n in (2, 4):
        re, im = obs[f"z{n}_re"], obs[f"z{n}_im"]
        print(f"  <z^{n}> = {re.value:.4f}({1e4 * re.error:.0f}) {im.value:+.4f}({1e4 * im.error:.0f})i"
              f"   exact {exact[n - 1]:.4f}")
