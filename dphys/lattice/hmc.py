"""HMC for lattice actions: the kernel and runners live in `dphys.mcmc` (one sampler layer below
the domain packages); this module re-exports them under their former names."""

from dphys.mcmc.base import HMCInfo as HMCInfo
from dphys.mcmc.base import HMCState as HMCState
from dphys.mcmc.hmc import HMC as HMC
from dphys.mcmc.hmc import leapfrog as leapfrog
from dphys.mcmc.runner import check_acceptance as check_acceptance
from dphys.mcmc.runner import run_chain as run_chain
from dphys.mcmc.runner import sample_chains as sample_chains

__all__ = ["HMC", "HMCInfo", "HMCState", "check_acceptance", "leapfrog", "run_chain", "sample_chains"]
