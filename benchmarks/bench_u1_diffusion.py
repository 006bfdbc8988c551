"""Cost per independent configuration of 2D U(1) at beta = 7 on 16x16: the conditioned diffusion
sampler (the workflow's defaults: Euler-Maruyama reverse SDE of 400 steps, + 10 HMC refinement
trajectories) against HMC (10 leapfrog steps, adapted step size), both in dphys.

Cost per independent configuration = (time per configuration) x 2 tau_int(Q). Diffusion draws are
independent (tau_int(Q) = 1/2, measured 0.45-0.47 +- 0.07-0.11 in the workflow); for HMC tau_int(Q)
is measured in the setup from `CHAINS` chains of `N_TAU` trajectories started from independent
hot configurations (ordered starts would all sit in Q = 0); at beta = 7 on 16x16 these are frozen,
so the estimate is the lower bound T C / (2 (n_changes + 1)) of `dphys.lattice.tau_q`, and the
ratio below is a conservative (upper) bound on the diffusion/HMC cost ratio. The case times
diffusion producing N_INDEP configurations against HMC running N_INDEP * 2 tau_int trajectories
(spread over CHAINS chains), i.e. the same number of independent configurations; ratio =
t_diffusion / t_HMC, target <= 0.1 (diffusion wins 10x). The network is untrained (the cost does
not depend on the weights), which says nothing about the quality: see the workflow for that.
Further cases: the same network sampler with 100 EM steps (quality at 100 steps: the slow test
`test_quick_mode_with_100_steps_agrees`), DM4U1's conditioning and sampler (the whole score times
beta/beta_train, annealed Langevin of 100 levels x 2 steps with Metropolis at small noise), and
the analytic physics field alone (`mode="drop"`, no network) with 100 steps.

Measured (`--quick`, machine at load 13, HMC tau_int(Q) >= 1000, frozen): 2.89 (400 steps), 0.40
(100 steps), 0.85 (DM4U1), 0.23 (physics field); idle full run before (400 steps, physics field):
0.95, 0.09. Under load the HMC baseline's time varied by 2.6x between cases.
"""

import math

import jax
import numpy as np

import dphys.diffusion as dd
from benchmarks.harness import Case
from dphys.generative.u1 import ConditionedU1Score, U1Score, hmc_refine, sample_u1
from dphys.lattice import HMC, U1Action, sample_chains, tau_q, topological_charge, wrap
from dphys.nn import U1ScoreNet

BETA, L, CHAINS, N_LEAPFROG = 7.0, 16, 8, 10


def cases(quick: bool) -> list[Case]:
    n_tau = 500 if quick else 2000
    n_indep = 4 if quick else 16
    repeats = 2 if quick else 5
    key = jax.random.PRNGKey(0)
    k_net, k_x, k_hmc, k_run, k_gen = jax.random.split(key, 5)

    # HMC: adapt, then measure tau_int(Q); done at the first (untimed, warm-up) call of the baseline,
    # so that building the cases (run.py builds every module's) costs nothing
    action = U1Action(BETA)
    setup = {}

    def hmc_setup():
        x0 = jax.random.uniform(k_x, (CHAINS, 2, L, L), minval=-np.pi, maxval=np.pi)
        xs, _, steps = sample_chains(HMC(action, 0.1, N_LEAPFROG, wrap=wrap), k_hmc, x0, 1, n_therm=200,
                                     adapt_step_size=True)
        kernel = HMC(action, float(np.median(np.asarray(steps))), N_LEAPFROG, wrap=wrap)
        x = xs[:, -1]
        chain, _, _ = sample_chains(kernel, k_run, x, n_tau)
        q = np.round(np.asarray(jax.vmap(jax.vmap(topological_charge))(chain))).T  # (n_tau, chains)
        tau, _, lower = tau_q(q)
        n_traj = math.ceil(n_indep * 2 * tau / CHAINS)
        print(f"bench_u1_diffusion: HMC tau_int(Q) at beta={BETA}, {L}x{L}: {tau:.4g}"
              f"{' (lower bound: frozen)' if lower else ''}; baseline = {n_traj} trajectories x {CHAINS} chains")
        setup.update(kernel=kernel, x=x, n_traj=n_traj)

    def hmc_run():
        if not setup:
            hmc_setup()
        return sample_chains(setup["kernel"], k_run, setup["x"], setup["n_traj"])[0]

    score = U1Score(U1ScoreNet(32, 4, key=k_net), dd.VEGeometric(0.01, 3.0), 1.0, L)

    def diffusion_run(mode, steps, sampler="em"):
        def run():
            y = sample_u1(ConditionedU1Score(score, BETA, mode=mode), k_gen, L, n_indep, steps=steps, sampler=sampler)
            return hmc_refine(k_gen, y, BETA, n_trajectories=10)[0]
        return run

    baseline = f"dphys HMC, {n_indep} x 2 tau_int(Q) trajectories (a lower bound when frozen: printed)"
    return [Case(f"u1_diffusion per independent config, beta={BETA:g} {L}x{L}", diffusion_run("keep", 400),
                 baseline, hmc_run, repeats, target=0.1),
            # the same network sampler with 100 EM steps (the workflow's --steps 100)
            Case(f"u1_diffusion network, 100 steps, per independent config, beta={BETA:g} {L}x{L}",
                 diffusion_run("keep", 100), baseline, hmc_run, repeats, target=1.0),
            # DM4U1's conditioning and sampler: annealed Langevin, 100 levels x 2 steps (200 evaluations)
            Case(f"u1_diffusion DM4U1 annealed Langevin 100x2, per independent config, beta={BETA:g} {L}x{L}",
                 diffusion_run("dm4u1", 100, "annealed"), baseline, hmc_run, repeats, target=1.0),
            # the analytic physics field alone, 100 steps: at L = 16 still within 1.5 sigma of the exact
            # chi_t at beta = 3, 5, 7 (measured with 1024 samples), without the network's cost
            Case(f"u1_diffusion physics field only, 100 steps, beta={BETA:g} {L}x{L}", diffusion_run("drop", 100),
                 baseline, hmc_run, repeats, target=0.1)]
