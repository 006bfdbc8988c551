"""dphys: differentiable physics solvers in JAX.

Physics as pure functions of PyTrees, composed with equinox networks: SDE/ODE integration
(`integrate_sde`, `integrate_ode`), Monte Carlo statistics (`dphys.stats`), a training loop with
checkpoints (`fit`), lattice field theory (`dphys.lattice`), two-body scattering
(`dphys.scattering`), femtoscopy (`dphys.femto`), HAL QCD potentials (`dphys.halqcd`), score-based diffusion (`dphys.diffusion`) with score networks (`dphys.nn`), distributed optimisation (`dphys.distributed`), autoregressive
networks (`dphys.autoregressive`), and
workflows that reproduce scientific results (`dphys.workflows`, the
`dphys` command line).
"""

from dphys._version import __version__ as __version__

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
from dphys.report import Report as Report
from dphys.sde import integrate_ode as integrate_ode
from dphys.sde import integrate_sde as integrate_sde
from dphys.train import TrainingDivergedError as TrainingDivergedError
from dphys.train import TrainResult as TrainResult
from dphys.train import fit as fit
from dphys.train import warmup_cosine_adam as warmup_cosine_adam
