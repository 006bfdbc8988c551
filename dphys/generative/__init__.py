r"""Generative models of lattice fields: diffusion models of the U(1) gauge field and of the
phi^4 scalar field, built from `dphys.diffusion` (processes, losses, samplers), `dphys.lattice`
(actions, observables, the exact noised-plaquette physics) and `dphys.nn` (networks). This is
the top library layer: only the workflows and the CLI sit above it.

Lattice units; phi^4 configurations `(L, L)`, U(1) links `(2, L, L)` in radians; ensembles are NumPy,
time-major `(samples, chains, ...)`; log-densities in nats; every generated ensemble can be made exact by
an independence-Metropolis chain (exact Heun-map densities, never a Hutchinson estimate) or HMC refinement.

```python
import jax

from dphys import generative as gen
from dphys.lattice import Phi4Action

key, L = jax.random.PRNGKey(0), 4
action = Phi4Action(kappa=0.22, lam=0.02)
ens = gen.phi4_hmc_ensemble(action, L, chains=2, samples=32, n_adapt=20, key=key)  # ens.samples (T, chains, L, L)
score, _ = gen.train_phi4_score(ens.samples.reshape(-1, L, L), channels=(4,), steps=20, key=key,
                                progress=False)          # a Z2-odd LatticeUNet score (VE process)
x, log_q, evals = gen.phi4_proposals(score, key, L, 16, "heun", heun_steps=4)  # exact log q [nats]
chain = gen.phi4_metropolis(key, action, x, log_q)        # exact for e^{-S}: chain.chain, chain.acceptance
est = gen.phi4_estimates(ens.samples, action)             # {"abs_M", "chi2", "binder", ...}: Estimates

links, acc, step, seconds = gen.u1_hmc_ensemble(2.0, L, chains=2, samples=16, therm=10, n_leapfrog=5, key=key)
u1, _ = gen.train_u1_score(links.reshape(-1, 2, L, L), 2.0, width=4, depth=1, s_min=0.05, s_max=3.0, steps=20,
                           batch_size=16, lr=2e-3, key=key, progress=False)   # plaquette score at beta = 2
out = gen.diffusion_ensemble(u1, 2.5, key, n=8, steps=10, n_refine=2)        # conditioned on beta = 2.5, HMC-refined
```

phi^4 (`phi4`):
- `phi4_hmc_ensemble`: an HMC ensemble (adapted step, a `Phi4Ensemble` with acceptance and tau);
  `hmc_seconds_per_trajectory`.
- `train_phi4_score`: a Z2-odd `LatticeUNet` score by denoising score matching; `sample_phi4`: samples
  with any diffusion sampler.
- `phi4_proposals`: Heun or PF-ODE proposals with exact log q; `phi4_metropolis`: the independence chain,
  a `MetropolisChain`.
- `phi4_estimates` (observables with jackknife blocks fitted to tau), `chain_tau`, `deviations` (in combined
  standard errors), `cost_per_independent` ($2\tau \times$ cost per step), `fewest_agreeing`.

U(1) (`u1`):
- `u1_hmc_ensemble`: HMC of the Wilson action; `train_u1_score`: a `U1Score` (plaquette network, the
  wrapped-normal `u1_dsm_loss`) at beta_train.
- `ConditionedU1Score`: conditioned on beta_target (`mode` in `CONDITIONING_MODES`); `sample_u1`,
  `annealed_langevin`, `u1_proposals` (Heun, exact log q).
- `diffusion_ensemble` (a `DiffusionEnsemble`: raw and `hmc_refine`d configurations), `u1_exact_metropolis`
  (an exact chain, a `MetropolisResult`).
"""

# phi^4 (dphys.generative.phi4): HMC ensembles, score training, proposals, Metropolis chain, comparison
#     ens = phi4_hmc_ensemble(action, L, chains=8, samples=250, n_adapt=100, key=key)
#     score, _ = train_phi4_score(ens.samples.reshape(-1, L, L), channels=(8, 16), steps=1500, key=key)
from dphys.generative.phi4 import MetropolisChain as MetropolisChain
from dphys.generative.phi4 import Phi4Ensemble as Phi4Ensemble
from dphys.generative.phi4 import chain_tau as chain_tau
from dphys.generative.phi4 import cost_per_independent as cost_per_independent
from dphys.generative.phi4 import deviations as deviations
from dphys.generative.phi4 import fewest_agreeing as fewest_agreeing
from dphys.generative.phi4 import hmc_seconds_per_trajectory as hmc_seconds_per_trajectory
from dphys.generative.phi4 import phi4_estimates as phi4_estimates
from dphys.generative.phi4 import phi4_hmc_ensemble as phi4_hmc_ensemble
from dphys.generative.phi4 import phi4_metropolis as phi4_metropolis
from dphys.generative.phi4 import phi4_proposals as phi4_proposals
from dphys.generative.phi4 import sample_phi4 as sample_phi4
from dphys.generative.phi4 import train_phi4_score as train_phi4_score

# U(1) (dphys.generative.u1): a plaquette score trained at beta_train, conditioned on beta_target
#     score, _ = train_u1_score(links, beta_train, width=16, depth=3, s_min=0.01, s_max=3.0, steps=500,
#                               batch_size=64, lr=2e-3, key=key)
#     ens = diffusion_ensemble(score, 5.0, key, n=256, mode="keep")      # or mode="dm4u1", sampler="annealed"
from dphys.generative.u1 import CONDITIONING_MODES as CONDITIONING_MODES
from dphys.generative.u1 import ConditionedU1Score as ConditionedU1Score
from dphys.generative.u1 import DiffusionEnsemble as DiffusionEnsemble
from dphys.generative.u1 import MetropolisResult as MetropolisResult
from dphys.generative.u1 import U1Score as U1Score
from dphys.generative.u1 import annealed_langevin as annealed_langevin
from dphys.generative.u1 import diffusion_ensemble as diffusion_ensemble
from dphys.generative.u1 import hmc_refine as hmc_refine
from dphys.generative.u1 import sample_u1 as sample_u1
from dphys.generative.u1 import train_u1_score as train_u1_score
from dphys.generative.u1 import u1_dsm_loss as u1_dsm_loss
from dphys.generative.u1 import u1_exact_metropolis as u1_exact_metropolis
from dphys.generative.u1 import u1_hmc_ensemble as u1_hmc_ensemble
from dphys.generative.u1 import u1_proposals as u1_proposals
