r"""Generative models of lattice fields: diffusion models of the U(1) gauge field and of the
phi^4 scalar field, built from `dphys.diffusion` (processes, losses, samplers), `dphys.lattice`
(actions, observables, the exact noised-plaquette physics) and `dphys.nn` (networks). This is
the top library layer: only the workflows and the CLI sit above it.
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
