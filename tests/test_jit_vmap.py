"""Every public sampler and solver works under `jax.jit` and `jax.vmap`: one parametrised test.
Each case is a function of one input (a PRNG key or a parameter); under jit it gives what it gives
eagerly, and vmapped over two inputs its first output is that of the first input alone."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dphys
import dphys.diffusion as dd
from dphys import mcmc
from dphys.generative.u1 import hmc_refine
from dphys.lattice import (
    AnharmonicAction,
    U1Action,
    cl_chain,
    cl_chains,
    langevin_chain,
)
from dphys.scattering import SquareWell, phase_shift

EDM = dd.EDM(sigma_min=0.002, sigma_max=80.0, sigma_data=1.0)
SCORE = dd.GaussianScore(EDM, std=1.0)
GAUSS = AnharmonicAction(1.0, 0.0)
CL_ACTION = lambda z: jnp.sum((1.0 + 0.5j) * z**2 / 2)


def _propose(key):
    x = 2 * jax.random.normal(key, (2,))
    return x, -jnp.sum(x**2) / 8


def _independence_chain(key):
    x = jax.random.normal(key, (8, 2))
    return mcmc.independence_chain(jax.random.fold_in(key, 1), x, jnp.zeros(8), -0.5 * jnp.sum(x**2, axis=1))


def _kernel_steps(kernel, x0):
    def run(key):
        state = kernel.init(x0)
        return jax.lax.scan(lambda s, k: kernel.step(k, s), state, jax.random.split(key, 3))[0].position
    return run


def _fold(radius):
    r = jnp.linspace(0.1, 10.0, 20)
    kernel = dphys.femto.Kernel(jnp.array([0.1, 0.2]), r, 4 * jnp.pi * r**2 * (r[1] - r[0]), jnp.ones((2, 20)) * 0.5)
    return dphys.femto.fold(dphys.femto.GaussianSource(radius), kernel)


KEY_CASES = {
    "mcmc.HMC": _kernel_steps(mcmc.HMC(GAUSS, 0.3, 3), jnp.zeros(2)),
    "mcmc.MALA": _kernel_steps(mcmc.MALA(GAUSS, 0.3), jnp.zeros(2)),
    "mcmc.ComplexLangevin": _kernel_steps(mcmc.ComplexLangevin(CL_ACTION, 0.05, k_ref=1.0), jnp.zeros(2)),
    "mcmc.IndependenceMetropolis": _kernel_steps(mcmc.IndependenceMetropolis(_propose, lambda x: -jnp.sum(x**2) / 2),
                                                 jnp.zeros(2)),
    "mcmc.run_chain": lambda k: mcmc.run_chain(mcmc.HMC(GAUSS, 0.3, 2), k, jnp.zeros(2), 3, n_therm=3,
                                               adapt_step_size=True)[0],
    "mcmc.sample_chains": lambda k: mcmc.sample_chains(mcmc.MALA(GAUSS, 0.3), k, jnp.zeros((2, 2)), 3)[0],
    "mcmc.ensemble": lambda k: mcmc.ensemble(mcmc.HMC(GAUSS, 0.3, 2), k, jnp.zeros((2, 2)), 3).samples,
    "mcmc.independence_chain": lambda k: _independence_chain(k)[0],
    "diffusion.metropolis_correct": lambda k: dd.metropolis_correct(k, jnp.arange(6.0), jnp.zeros(6),
                                                                    -jnp.arange(6.0) / 3),
    "diffusion.sample[em]": lambda k: dd.sample(SCORE, k, (2,), 2, sampler="em", steps=4)[0],
    "diffusion.sample[pc]": lambda k: dd.sample(SCORE, k, (2,), 2, sampler="pc", steps=4)[0],
    "diffusion.sample[heun]": lambda k: dd.sample(SCORE, k, (2,), 2, sampler="heun", steps=4)[0],
    "diffusion.sample[ode]": lambda k: dd.sample(SCORE, k, (2,), 2, sampler="ode", rtol=1e-6, atol=1e-6)[0],
    "diffusion.sample_with_log_density": lambda k: dd.sample_with_log_density(SCORE, k, (2,), 2, steps=4)[:2],
    "diffusion.log_likelihood": lambda k: dd.log_likelihood(SCORE, jax.random.normal(k, (2, 2)), rtol=1e-3,
                                                            atol=1e-3)[0],
    "diffusion.forward": lambda k: dd.forward(EDM, k, jnp.zeros((2, 2)), np.array([0.01, 0.1]), dt=0.01),
    "lattice.langevin_chain": lambda k: langevin_chain(GAUSS, k, jnp.zeros(2), dt=0.1, n_samples=3),
    "lattice.cl_chain": lambda k: cl_chain(CL_ACTION, k, jnp.zeros(2), dt=0.05, n_samples=3)[0],
    "lattice.cl_chains": lambda k: cl_chains(CL_ACTION, jax.random.split(k, 2), jnp.zeros((2, 2)), dt=0.05,
                                             n_samples=3)[0],
    "generative.hmc_refine": lambda k: hmc_refine(k, jax.random.uniform(k, (2, 2, 2, 2), minval=-3, maxval=3), 2.0,
                                               n_trajectories=2, n_adapt=2),
    "integrate_sde": lambda k: dphys.integrate_sde(lambda t, x, a: -x, lambda t, x, a: 1.0, jnp.ones(2),
                                                   np.array([0.5, 1.0]), k, dt=0.1),
    "autoregressive.sample_with_log_prob": lambda k: dphys.autoregressive.sample_with_log_prob(
        dphys.autoregressive.CANetwork((4,), jax.random.PRNGKey(0), n_hidden=8), k, 3),
}

PARAM_CASES = {  # float64 solvers, vmapped over a physical parameter
    "integrate_ode": (lambda a: dphys.integrate_ode(lambda t, x, args: -a * x, jnp.ones(2), np.array([0.5, 1.0])),
                      [0.5, 1.5]),
    "scattering.phase_shift": (lambda k: phase_shift(SquareWell(-30.0, 2.0), k, mass=469.0, r_match=6.0,
                                                     rtol=1e-7, atol=1e-7), [0.3, 0.6]),
    "femto.fold": (_fold, [1.0, 1.5]),
    "lattice.U1Action": (lambda b: U1Action(b)(jnp.full((2, 2, 2), 0.3)), [1.0, 2.0]),
}


def _close(a, b):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=2e-5, atol=1e-6)


@pytest.mark.slow  # 26 cases, each compiled twice: about 2 minutes on 2 cores
@pytest.mark.parametrize("name", sorted(KEY_CASES) + sorted(PARAM_CASES))
def test_jit_and_vmap(name):
    if name in KEY_CASES:
        fn, inputs = KEY_CASES[name], jax.random.split(jax.random.PRNGKey(0), 2)
        context = jax.enable_x64(False)
    else:
        fn, values = PARAM_CASES[name]
        context = jax.enable_x64(True)
    with context:
        if name in PARAM_CASES:
            inputs = jnp.asarray(values, jnp.float64)
        eager = fn(inputs[0])
        _close(jax.jit(fn)(inputs[0]), eager)
        batched = jax.vmap(fn)(inputs)
        _close(jax.tree_util.tree_map(lambda a: a[0], batched), eager)
