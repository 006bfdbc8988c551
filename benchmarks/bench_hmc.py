"""HMC (dphys.mcmc.HMC run by dphys.mcmc.ensemble, time-major) against blackjax's HMC and a
vectorised NumPy HMC.

Problem: 2D phi^4 in the hopping form, S = sum_x [-2 kappa sum_mu phi_x phi_{x+mu}
+ (1 - 2 lambda) phi_x^2 + lambda phi_x^4], kappa = 0.21, lambda = 0.022, on a 32x32 periodic
lattice; 64 chains from the same random start, 10 leapfrog steps of fixed size 0.1 per
trajectory (acceptance about 0.9), every trajectory's field kept. All three sides run the same
algorithm: unit-mass Gaussian momenta, leapfrog, Metropolis accept. blackjax: `blackjax.hmc`
with logdensity -S and a unit inverse mass matrix, chains vmapped, trajectories in a lax.scan
(the case is skipped when blackjax is not installed). NumPy: the 64 chains as one batched
array, Python loops over trajectories and leapfrog steps, the analytic force.
"""

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.harness import Case
from dphys.lattice import Phi4Action
from dphys.mcmc import HMC, ensemble

KAPPA, LAM, L, CHAINS, N_LEAPFROG, STEP = 0.21, 0.022, 32, 64, 10, 0.1
action = Phi4Action(kappa=KAPPA, lam=LAM)


def numpy_hmc(phi, n_trajectories, seed=0):
    """The same HMC in NumPy: `phi` of shape (chains, L, L); returns (chains, n, L, L)."""
    rng = np.random.default_rng(seed)

    def action_and_force(phi):  # S per chain and dS/dphi
        neighbours = sum(np.roll(phi, s, axis) for axis in (1, 2) for s in (1, -1))
        phi2 = phi * phi
        s = np.sum(-KAPPA * phi * neighbours + (1 - 2 * LAM) * phi2 + LAM * phi2 * phi2, axis=(1, 2))
        return s, -2 * KAPPA * neighbours + 2 * (1 - 2 * LAM) * phi + 4 * LAM * phi2 * phi

    s, force = action_and_force(phi)
    out = np.empty((n_trajectories,) + phi.shape, dtype=phi.dtype)
    for n in range(n_trajectories):
        p = rng.standard_normal(phi.shape, dtype=phi.dtype)
        kinetic = 0.5 * np.sum(p * p, axis=(1, 2))
        x, f = phi, force
        p = p - 0.5 * STEP * f
        for i in range(N_LEAPFROG):
            x = x + STEP * p
            s_new, f = action_and_force(x)
            p = p - (STEP if i < N_LEAPFROG - 1 else 0.5 * STEP) * f
        delta_h = s_new - s + 0.5 * np.sum(p * p, axis=(1, 2)) - kinetic
        accept = rng.random(len(phi)) < np.exp(-delta_h)
        phi = np.where(accept[:, None, None], x, phi)
        force = np.where(accept[:, None, None], f, force)
        s = np.where(accept, s_new, s)
        out[n] = phi
    return out.swapaxes(0, 1)


def blackjax_cases(phi0, keys, n_trajectories, dphys_run, repeats):
    try:
        import blackjax
    except ImportError:
        return []
    hmc = blackjax.hmc(lambda x: -action(x), step_size=STEP, inverse_mass_matrix=jnp.ones(L * L),
                       num_integration_steps=N_LEAPFROG)

    def chain(key, x0):
        step = lambda state, k: (hmc.step(k, state)[0],) * 2
        return jax.lax.scan(step, hmc.init(x0), jax.random.split(key, n_trajectories))[1].position

    run = jax.jit(jax.vmap(chain))
    return [Case(f"hmc phi4 {L}x{L}x{CHAINS}", dphys_run, "blackjax.hmc",
                 lambda: run(keys, phi0), repeats, target=1.0)]


def cases(quick: bool) -> list[Case]:
    n_trajectories = 20 if quick else 100
    repeats = 3 if quick else 7
    key = jax.random.PRNGKey(0)
    phi0 = 0.5 * jax.random.normal(key, (CHAINS, L, L))
    kernel = HMC(action, STEP, N_LEAPFROG)
    dphys_run = lambda: ensemble(kernel, key, phi0, n_trajectories).samples
    phi0_np = np.asarray(phi0)
    return blackjax_cases(phi0, jax.random.split(key, CHAINS), n_trajectories, dphys_run, repeats) + [
        Case(f"hmc phi4 {L}x{L}x{CHAINS} vs numpy", dphys_run, "NumPy batched HMC",
             lambda: numpy_hmc(phi0_np, n_trajectories), repeats, target=0.1),
    ]
