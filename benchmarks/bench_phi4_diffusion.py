"""Cost per independent sample of 2D phi^4 near the transition (L = 8, kappa = 0.27, lambda = 0.022):
the diffusion-Metropolis chain (a trained EDM-Heun model of 20 steps, proposals with the exact
density of the Heun map, independence Metropolis) against HMC (10 leapfrog steps, adapted step
size), both in dphys; arXiv:2412.13704's argument is that the former decorrelates where HMC slows down.

Cost per independent sample = (time per step) x 2 tau_int, tau_int the larger of |M| and M^2
(`dphys.generative.phi4.chain_tau`), both measured in the setup (done at the first, untimed
call): HMC from `CHAINS` chains of `n_tau` trajectories, the Metropolis chain from `n_mh`
proposals of a model trained for `train_steps` steps on the HMC ensemble (training not counted).
The case times diffusion-Metropolis producing N_INDEP x 2 tau_MH proposals and their correction
against HMC running N_INDEP x 2 tau_HMC / CHAINS trajectories of `CHAINS` chains: the same number
of independent samples; ratio = t_diffusion / t_HMC (< 1: diffusion cheaper). No target: the
ratio is the measurement. The workflow's `--kappa-scan` measures the same across kappa.
"""

import math

import jax

from benchmarks.harness import Case
from dphys.generative.phi4 import chain_tau, phi4_hmc_ensemble, phi4_metropolis, phi4_proposals, train_phi4_score
from dphys.lattice import Phi4Action
from dphys.mcmc import HMC, ensemble

L, KAPPA, LAM, CHAINS, N_LEAPFROG, HEUN_STEPS = 8, 0.27, 0.022, 8, 10, 20


def cases(quick: bool) -> list[Case]:
    n_tau, train_steps, n_mh = (1000, 1500, 128) if quick else (4000, 4000, 512)
    n_indep = 16 if quick else 64
    repeats = 2 if quick else 5
    k_hmc, k_train, k_mh, k_run, k_gen = jax.random.split(jax.random.PRNGKey(0), 5)
    action = Phi4Action(kappa=KAPPA, lam=LAM)
    setup = {}

    def prepare():
        if setup:
            return setup
        hmc = phi4_hmc_ensemble(action, L, chains=CHAINS, samples=n_tau, n_adapt=200, n_leapfrog=N_LEAPFROG,
                                key=k_hmc)
        tau_hmc = chain_tau(hmc.samples)[0]
        score, _ = train_phi4_score(hmc.samples.reshape(-1, L, L), channels=(8, 16), steps=train_steps,
                                    process="edm", key=k_train, progress=False)
        proposals, log_q, _ = phi4_proposals(score, k_mh, L, n_mh, "heun", heun_steps=HEUN_STEPS)
        mh = phi4_metropolis(k_mh, action, proposals, log_q)
        tau_mh = chain_tau(mh.chain)[0]
        n_prop = math.ceil(n_indep * 2 * tau_mh)
        n_traj = math.ceil(n_indep * 2 * tau_hmc / CHAINS)
        print(f"bench_phi4_diffusion: L={L} kappa={KAPPA}: HMC tau_int {tau_hmc:.3g} trajectories "
              f"(acceptance {hmc.acceptance:.2f}), diffusion-Metropolis tau_int {tau_mh:.3g} proposals "
              f"(acceptance {mh.acceptance:.2f}); {n_indep} independent samples = {n_prop} proposals "
              f"or {n_traj} trajectories x {CHAINS} chains")
        setup.update(score=score, kernel=HMC(action, hmc.step_size, N_LEAPFROG), x=hmc.samples[-1],
                     n_prop=n_prop, n_traj=n_traj)
        return setup

    def diffusion_run():
        s = prepare()
        proposals, log_q, _ = phi4_proposals(s["score"], k_gen, L, s["n_prop"], "heun", heun_steps=HEUN_STEPS)
        return phi4_metropolis(k_gen, action, proposals, log_q).chain

    def hmc_run():
        s = prepare()
        return ensemble(s["kernel"], k_run, s["x"], s["n_traj"]).samples

    return [Case(f"phi4 diffusion-MH per independent sample, L={L} kappa={KAPPA}", diffusion_run,
                 "dphys HMC, same number of independent samples", hmc_run, repeats)]
