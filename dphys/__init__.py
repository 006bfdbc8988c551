"""dphys: differentiable physics solvers in JAX.

Physics as pure functions of PyTrees, composed with equinox networks: every solver is jit- and
vmap-able and differentiable in its parameters. Units are physical and stated per function (MeV, fm,
fm^-1 in scattering, femtoscopy and HAL QCD; lattice units on the lattice); the few-body packages need
float64 (`jax.config.update("jax_enable_x64", True)`). Each package's docstring lists its API and a
usage block; the `dphys` command line runs the workflows (`dphys.workflows`) that reproduce results.

```python
import jax
import jax.numpy as jnp
import numpy as np

import dphys

ts = jnp.linspace(0.0, 20.0, 201)                               # save times (units of t)
x = dphys.integrate_sde(lambda t, x, a: -x, lambda t, x, a: jnp.sqrt(2.0), jnp.zeros(32), ts,
                        jax.random.PRNGKey(0), dt=0.1)          # Ornstein-Uhlenbeck: (201, 32), <x^2> -> 1
est = dphys.stats.mean_with_autocorrelation(np.asarray(x[50:, 0] ** 2))  # value, error (Wolff's window)
y = dphys.integrate_ode(lambda t, y, a: -a * y, 1.0, jnp.array([0.0, 1.0]), args=2.0)  # [1, e^{-2}]
# training: dphys.fit(loss_fn(model, batch, key), model, dphys.warmup_cosine_adam(1e-3, steps), data,
#                     steps=steps, key=key, batch_size=256).model    (a TrainResult)
```

Core (layer 1, imported by the domain packages):
- `integrate_sde` (Ito, diagonal noise; Euler, SEA, ShARK), `integrate_ode` (diffrax): fixed save times.
- `stats`: Monte Carlo error analysis (binning, jackknife, bootstrap, Wolff autocorrelations, k-statistics).
- `fit`: the training loop with checkpoints and exact resume, a `TrainResult`; `TrainingDivergedError`;
  `warmup_cosine_adam`: the clipped Adam with warm-up and cosine decay.
- `Report`: a workflow's report.json metrics {value, error, reference, unit} and figures.
- `mcmc`: HMC, MALA, complex Langevin and independence Metropolis kernels and chain runners.
- `nn`: score networks; `constants`: HBARC, ALPHA, hadron masses [MeV]; `__version__`.

Domain packages:
- `lattice`: lattice and few-variable field theories (phi^4, U(1), quantum mechanics, complex models):
  actions, samplers, ensembles on disk, observables and exact references.
- `scattering`: two-body scattering (phase shifts, effective range, bound states, potentials, Coulomb).
- `femto`: femtoscopic correlation functions, sources, data and fits.
- `halqcd`: HAL QCD potentials from R-correlators, synthetic and real lattice data.
- `diffusion`: score-based diffusion (noise processes, score matching, samplers).
- `autoregressive`: continuous-mixture autoregressive networks for lattice fields.
- `distributed`: local and mini-batch SGD over machines, vmapped or sharded.
- `superres`: conditional diffusion super-resolution (satellite cloud fields; coarse -> fine lattice
  configurations); `dphys.generative` (not imported
  here) holds the generative lattice models built on diffusion.
"""

from dphys import autoregressive as autoregressive
from dphys import constants as constants
from dphys import diffusion as diffusion
from dphys import distributed as distributed
from dphys import femto as femto
from dphys import halqcd as halqcd
from dphys import lattice as lattice
from dphys import mcmc as mcmc
from dphys import nn as nn
from dphys import scattering as scattering
from dphys import stats as stats
from dphys import superres as superres
from dphys._version import __version__ as __version__
from dphys.report import Report as Report
from dphys.sde import integrate_ode as integrate_ode
from dphys.sde import integrate_sde as integrate_sde
from dphys.train import TrainingDivergedError as TrainingDivergedError
from dphys.train import TrainResult as TrainResult
from dphys.train import fit as fit
from dphys.train import warmup_cosine_adam as warmup_cosine_adam
