"""Stochastic quantisation of a 0-D double well with the dphys Python API.

Langevin dynamics dx = -S'(x) dt + sqrt(2) dW samples exp(-S)/Z; compare <x^2> and <x^4>, with
errors that account for autocorrelation, to exact quadrature. Runs in about ten seconds on a CPU.

    python examples/langevin_0d.py
"""

import jax
import jax.numpy as jnp
import numpy as np

import dphys

action = dphys.lattice.AnharmonicAction(mu=-1.0, g=0.4)  # S = mu x^2/2 + g x^4/4!
drift = dphys.lattice.langevin_drift(action)  # f(t, x, args) = -dS/dx
noise = lambda t, x, args: jnp.sqrt(2.0)

chains, dt = 256, 0.01
ts = np.arange(0.0, 500.0, 0.2)  # save every 0.2 units of Langevin time

# 256 independent chains as the components of one state (the noise is diagonal)
x0 = jax.random.normal(jax.random.PRNGKey(1), (chains,))
x = dphys.integrate_sde(drift, noise, x0, ts, jax.random.PRNGKey(0), dt=dt, solver="shark")
x = np.asarray(x)[100:]  # (time, chains), thermalisation dropped

exact = dphys.lattice.expectation_1d(action, [lambda x: x**2, lambda x: x**4])
for name, obs, ref in zip(["<x^2>", "<x^4>"], [x**2, x**4], exact):
    est = dphys.stats.mean_with_autocorrelation(obs)
    tau = dphys.stats.integrated_autocorrelation_time(obs)
    print(f"{name} = {est.value:.4f} +- {est.error:.4f}  (exact {ref:.4f}, tau_int = {tau.tau:.1f})")

# Gradients flow through the SDE solution: d<x^2>_T / d mu at a short time T, on a fixed path.
def x2_at_T(mu):
    drift_mu = dphys.lattice.langevin_drift(dphys.lattice.AnharmonicAction(mu=mu, g=0.4))
    run = lambda k: dphys.integrate_sde(drift_mu, noise, 1.0, [0.0, 1.0], k, dt=0.01, differentiable=True)[-1]
    return jnp.mean(jax.vmap(run)(jax.random.split(jax.random.PRNGKey(1), 64)) ** 2)


print("d<x(T=1)^2>/dmu =", float(jax.grad(x2_at_T)(-1.0)))
