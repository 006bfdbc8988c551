"""A diffusion model of 2D phi^4 made exact by independence Metropolis, checked against an HMC
ensemble it was NOT trained on, and its autocorrelation against HMC's (arXiv:2412.13704's point).

Python API only (`dphys.generative.phi4`; the workflow `dphys run phi4-diffusion --kappa-scan`
repeats the last part across kappa). About 4 minutes on the loaded 2-core CPU:  python examples/phi4_metropolis.py

Measured (seed 0): HMC tau_int 3.8(6) and 2.7(4) trajectories; Metropolis acceptance 0.71, 91 distinct
states of 128, tau_int 1.0(4) proposals; the chain within 2.4 sigma of the independent HMC ensemble
(<|M|> 2.2, chi_2 2.1, U_L 2.4, S/V 1.0, all high together: 128 proposals in 20 jackknife blocks of
>= 4 tau_int); per independent sample HMC costs 2.5e-5 s (the chain's cost: benchmarks/bench_phi4_diffusion.py).
"""

import jax

from dphys.generative import phi4
from dphys.lattice import Phi4Action

L, kappa, lam = 8, 0.27, 0.022
action = Phi4Action(kappa=kappa, lam=lam)
k_train_ens, k_ref, k_net, k_mh, k_time = jax.random.split(jax.random.PRNGKey(0), 5)

# 1. two independent HMC ensembles: one to train on, one to compare with (each with its own tau_int)
train = phi4.phi4_hmc_ensemble(action, L, chains=8, samples=500, n_adapt=100, key=k_train_ens)
ref = phi4.phi4_hmc_ensemble(action, L, chains=8, samples=500, n_adapt=100, key=k_ref)
print(f"HMC tau_int: training {train.tau:.2f} +- {train.tau_error:.2f}, reference {ref.tau:.2f} +- "
      f"{ref.tau_error:.2f} trajectories")

# 2. EDM score model (U-Net odd under phi -> -phi) trained by denoising score matching
score, _ = phi4.train_phi4_score(train.samples.reshape(-1, L, L), channels=(8, 16), steps=1500, process="edm",
                                 key=k_net)

# 3. Heun proposals with the exact density of the Heun map, corrected by independence Metropolis
proposals, log_q, evals = phi4.phi4_proposals(score, k_mh, L, 128, "heun", heun_steps=20)
mh = phi4.phi4_metropolis(k_mh, action, proposals, log_q)
print(f"Metropolis: acceptance {mh.acceptance:.2f}, {mh.n_distinct} distinct states of {len(mh.chain)}, "
      f"tau_int {mh.tau:.2f} +- {mh.tau_error:.2f} proposals; {evals:.0f} score evaluations per proposal")

# 4. the chain against the independent reference, errors from blocks of >= 4 tau_int of each
ours, theirs = phi4.phi4_estimates(mh.chain, action, mh.tau), phi4.phi4_estimates(ref.samples, action, ref.tau)
for name, dev in phi4.deviations(ours, theirs).items():
    print(f"{name:>15}: Metropolis {ours[name].value:.4f} +- {ours[name].error:.4f}   "
          f"HMC {theirs[name].value:.4f} +- {theirs[name].error:.4f}   ({dev:.1f} sigma)")

# 5. cost per independent sample (2 tau_int x seconds per step; training not counted)
tau_hmc = phi4.chain_tau(ref.samples)[0]  # |M| and M^2, as for the chain
tau_mh = phi4.chain_tau(mh.chain)[0]
sec_hmc = phi4.hmc_seconds_per_trajectory(action, ref, k_time)
print(f"tau_int(|M|, M^2): HMC {tau_hmc:.2f} trajectories ({phi4.cost_per_independent(tau_hmc, sec_hmc):.2e} s "
      f"per independent sample), diffusion-Metropolis {tau_mh:.2f} proposals")
