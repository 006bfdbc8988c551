r"""Markov-chain Monte Carlo with one contract (blackjax's): a kernel is an immutable object with
`init(position) -> state` and `step(key, state) -> (state, info)`, the PRNG key first, its step
size (where it has one) a field; chains are a vmap over keys; sample arrays are time-major.

Targets are $e^{-S(x)}/Z$ with a dimensionless action `action(x) -> S` of one configuration (any PyTree
of arrays); log-densities are in nats.

```python
import jax
import jax.numpy as jnp

from dphys import mcmc

action = lambda x: 0.5 * jnp.sum(x**2)                              # S(x): here a Gaussian in 4 dims
key, x0s = jax.random.PRNGKey(0), jnp.zeros((4, 4))                 # 4 chains (leading axis)
kernel = mcmc.HMC(action, step_size=0.1, n_leapfrog=10, wrap=None)  # or mcmc.MALA(action, 0.05)
state = kernel.init(x0s[0]); state, info = kernel.step(key, state)  # info.acceptance_probability
kernel, x = mcmc.adapt_step_size(kernel, key, x0s, 50, return_positions=True)  # dual averaging,
#   then the median over chains, frozen: a new kernel
out = mcmc.ensemble(kernel, key, x, 100, thin=1, chunks=None)   # out.samples (T, chains, ...), out.info
#   (T*thin, chains); any init/step kernel, a blackjax SamplingAlgorithm included
mcmc.check_acceptance(out.info, kernel.step_size, chain_axis=1)
out, acceptance = mcmc.adapted_ensemble(kernel, key, x0s, 100, n_adapt=50, thin=1, chunks=None)
#   the three lines above in one call (key split: adaptation, sampling)

cl = mcmc.ComplexLangevin(lambda z: 0.5 * (1 + 1j) * jnp.sum(z**2), 0.01, k_ref=None)  # holomorphic S(z)
cl_state = cl.init(jnp.zeros(4, complex))                           # cl_state.weight = Langevin time
log_p = lambda y: -action(y)                                        # unnormalised target log-density
def propose(k):                                                     # propose(key) -> (x, log_q)
    y = jax.random.normal(k, (4,)); return y, -0.5 * jnp.sum(y**2)
im = mcmc.IndependenceMetropolis(propose, log_p)
ys = jax.random.normal(key, (200, 4))                               # proposals drawn beforehand
chain, info = mcmc.independence_chain(key, ys, -0.5 * jnp.sum(ys**2, 1), log_p)   # jit-able;
#   log_q = +inf rejects a proposal (counted in info.n_invalid)
samples, infos, step = mcmc.sample_chains(kernel, key, x0s, 100, n_therm=0, thin=1, adapt_step_size=False)
#   chain-major (chains, n, ...); mcmc.run_chain for one chain
```

Kernels (`hmc`, `mala`, `complex_langevin`, `independence`; `base`):
- `AbstractKernel`: the contract; `HMCState` (position, action, gradient) and `HMCInfo` (acceptance
  probability, is_accepted, delta_H, step_size) of `HMC` and `MALA`.
- `HMC`: unit-mass momenta, `n_leapfrog` steps of `leapfrog`, an optional `wrap` (e.g. angles mod 2 pi).
- `MALA`: the Metropolis-adjusted Langevin algorithm.
- `ComplexLangevin`: Euler-Maruyama for a holomorphic S(z), adaptive step (`k_ref`); `CLState`, `CLInfo`.
- `IndependenceMetropolis` (`IndependenceState`, `IndependenceInfo`): proposals from a normalised model;
  `independence_chain`: the same over proposals drawn beforehand (`IndependenceChainInfo`).

Running chains (`runner`):
- `ensemble`: independent chains, time-major, in jitted chunks, an `Ensemble` (samples, info, step_size,
  seconds); `adapt_step_size`: dual averaging then the median over chains, frozen;
  `adapted_ensemble`: both in one call; `check_acceptance`: warns when the acceptance has collapsed.
- `run_chain`: one chain inside one jit; `sample_chains`: `run_chain` vmapped, chain-major.
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
