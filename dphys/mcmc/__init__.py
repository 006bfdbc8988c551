r"""Markov-chain Monte Carlo with one contract (blackjax's): a kernel is an immutable object with
`init(position) -> state` and `step(key, state) -> (state, info)`, the PRNG key first, its step
size (where it has one) a field; chains are a vmap over keys; sample arrays are time-major.

```python
from dphys import mcmc

kernel = mcmc.HMC(action, step_size=0.1, n_leapfrog=10, wrap=None)   # or mcmc.MALA(action, 0.05)
state = kernel.init(x); state, info = kernel.step(key, state)         # info.acceptance_probability
kernel, x = mcmc.adapt_step_size(kernel, key, x0s, n_therm, return_positions=True)  # dual averaging,
#   then the median over chains, frozen: a new kernel
out = mcmc.ensemble(kernel, key, x, n, thin=1, chunks=None)   # out.samples (T, chains, ...), out.info
#   (T*thin, chains); any init/step kernel, a blackjax SamplingAlgorithm included
mcmc.check_acceptance(out.info, kernel.step_size, chain_axis=1)
out, acceptance = mcmc.adapted_ensemble(kernel, key, x0s, n, n_adapt=n_therm, thin=1, chunks=None)
#   the three lines above in one call (key split: adaptation, sampling)

mcmc.ComplexLangevin(action, step_size, k_ref=None)   # holomorphic S(z); state.weight = Langevin time
mcmc.IndependenceMetropolis(propose, log_p)           # propose(key) -> (x, log_q)
chain, info = mcmc.independence_chain(key, x, log_q, log_p)   # proposals drawn beforehand, jit-able;
#   log_q = +inf rejects a proposal (counted in info.n_invalid)
samples, infos, step = mcmc.sample_chains(kernel, key, x0s, n, n_therm=0, thin=1, adapt_step_size=False)
#   chain-major (chains, n, ...); mcmc.run_chain for one chain
```
"""

from dphys.mcmc.base import AbstractKernel as AbstractKernel
from dphys.mcmc.base import HMCInfo as HMCInfo
from dphys.mcmc.base import HMCState as HMCState
from dphys.mcmc.complex_langevin import CLInfo as CLInfo
from dphys.mcmc.complex_langevin import CLState as CLState
from dphys.mcmc.complex_langevin import ComplexLangevin as ComplexLangevin
from dphys.mcmc.hmc import HMC as HMC
from dphys.mcmc.hmc import leapfrog as leapfrog
from dphys.mcmc.independence import IndependenceChainInfo as IndependenceChainInfo
from dphys.mcmc.independence import IndependenceInfo as IndependenceInfo
from dphys.mcmc.independence import IndependenceMetropolis as IndependenceMetropolis
from dphys.mcmc.independence import IndependenceState as IndependenceState
from dphys.mcmc.independence import independence_chain as independence_chain
from dphys.mcmc.mala import MALA as MALA
from dphys.mcmc.runner import Ensemble as Ensemble
from dphys.mcmc.runner import adapt_step_size as adapt_step_size
from dphys.mcmc.runner import adapted_ensemble as adapted_ensemble
from dphys.mcmc.runner import check_acceptance as check_acceptance
from dphys.mcmc.runner import ensemble as ensemble
from dphys.mcmc.runner import run_chain as run_chain
from dphys.mcmc.runner import sample_chains as sample_chains
