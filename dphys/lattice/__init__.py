r"""Lattice and few-variable field theories: actions as pure functions of one configuration
(phi4, u1, quantum, zero_d, complex_models), samplers (hmc, langevin, complex_langevin), ensembles
on disk, and exact results (exact) used as references.

Lattice units throughout (the spacing `a` of the quantum-mechanical paths in inverse energy units, angles
in radians); fields are periodic, one configuration `(L,) * d` (phi^4), `(2, L, L)` link angles (U(1))
or `(N,)` paths; an action maps one configuration to a dimensionless scalar $S$, ensembles are time-major
`(n_samples, chains, ...)` and observables come back as `dphys.stats` Estimates (value, error).

```python
import jax
import jax.numpy as jnp

from dphys import lattice, mcmc

key = jax.random.PRNGKey(0)
action = lattice.Phi4Action(kappa=0.22, lam=0.02)               # hopping-form phi^4, dimensionless
kernel = lattice.HMC(action, step_size=0.2, n_leapfrog=5)       # = dphys.mcmc.HMC
out = mcmc.ensemble(kernel, key, jnp.zeros((2, 4, 4)), 100, n_therm=50)  # 2 chains on 4 x 4
obs = lattice.phi4_observables(out.samples, action)            # {"M", "chi2", "binder", "G", ...}: Estimates
links = jax.random.uniform(key, (2, 4, 4), minval=-jnp.pi, maxval=jnp.pi)  # U(1) links (2, L, L) [rad]
P, Q = lattice.plaquette(links), lattice.topological_charge(links)
W = lattice.wilson_loop(links, 1, 2)                           # W(1 x 2) of one configuration
exact = lattice.u1_exact(1.0, 4)                               # character expansion: "plaquette", ...
x = jnp.zeros(16)                                              # a periodic path of N = 16 sites
S_dw = lattice.DoubleWellAction(a=0.5, lam=1.0, eta=1.0)(x)
ref = lattice.double_well_exact(0.5, 1.0, 1.0, 16)            # transfer-matrix <x^2>, energies, ...
```

Actions (`phi4`, `u1`, `quantum`, `zero_d`, `complex_models`):
- `Phi4Action` (hopping form, kappa, lambda), `U1Action` (Wilson, beta), `DoubleWellAction` (a periodic path),
  `AnharmonicAction` (one variable); complex actions for complex Langevin: `GaussianAction`,
  `QuarticAction`, `AnharmonicChainAction`.

Samplers (`hmc`, `langevin`, `complex_langevin`; the kernels are those of `dphys.mcmc`):
- `HMC`, `MALA`, `leapfrog`, `HMCState`, `HMCInfo`, `run_chain`, `sample_chains`, `check_acceptance`.
- `langevin_chain` (fixed-step Langevin dynamics), `langevin_drift` ($-\nabla S$ for `dphys.integrate_sde`).
- Complex Langevin: `cl_chain`, `cl_chains` (vmapped), `cl_thermalise` (measures $K_\mathrm{ref}$),
  `cl_drift`, `RunawayError`; `cl_observables` and `weighted_mean` (Langevin-time averages, jackknife),
  `reference_observables`, `cumulants_from_moments`.

phi^4 and quantum-mechanical observables (`phi4`, `quantum`):
- `phi4_observables` (M, |M|, chi2, Binder, G_c(t), ...), from `magnetisation`, `two_point`, `action_density`;
  `effective_mass`; `symmetry_augment` (random translations and signs); `check_lattice_shape`.
- `qm_observables`, `correlator`, `count_kinks`, `temperature` ($T = 1/Na$).

U(1) gauge field (`u1`):
- `plaquette`, `plaquette_angles`, `wilson_loop`, `topological_charge`, `u1_observables`, `tau_q`
  (autocorrelation of Q), `wrap` (to $(-\pi, \pi]$), `check_links`.
- Gauge symmetry: `gauge_transform`, `random_gauge_transform`, `gauge_augment`.
- The noised-plaquette physics of the U(1) diffusion: `local_plaquette_field`, `one_plaquette_field`,
  `topological_field`, `topological_log_weight`, `plaquette_adjoint`, `villain_beta`.

Exact references (`exact`, `cl_density`, `complex_models`):
- `u1_exact` and `u1_character_coefficients` (character expansion), `double_well_exact`,
  `double_well_hamiltonian`, `transfer_matrix_exact`, `hamiltonian_spectrum`, `density_1d`, `expectation_1d`.
- Gaussian complex Langevin: `drift_matrix`, `gaussian_cl_covariance`, `gaussian_cl_log_density`,
  `gaussian_mode_covariances`.

Complex Langevin studies (`cl_density`): `cl_model` (one of `CL_MODELS`: "gauss", "quartic", "chain", with its
exact references), `cl_ensemble` (thermalised, chunked CL samples), `moment_estimates` ($\langle z^n\rangle$,
weighted jackknife).

Ensembles on disk (`ensemble`): `save_ensemble`, `load_ensemble` (an `Ensemble` with its theory,
parameters, sampler and seed), `.npz`.
"""

from dphys.lattice.cl_density import CL_MODELS as CL_MODELS
from dphys.lattice.cl_density import cl_ensemble as cl_ensemble
from dphys.lattice.cl_density import cl_model as cl_model
from dphys.lattice.cl_density import drift_matrix as drift_matrix
from dphys.lattice.cl_density import gaussian_cl_covariance as gaussian_cl_covariance
from dphys.lattice.cl_density import gaussian_cl_log_density as gaussian_cl_log_density
from dphys.lattice.cl_density import moment_estimates as moment_estimates
from dphys.lattice.complex_langevin import RunawayError as RunawayError
from dphys.lattice.complex_langevin import cl_chain as cl_chain
from dphys.lattice.complex_langevin import cl_chains as cl_chains
from dphys.lattice.complex_langevin import cl_drift as cl_drift
from dphys.lattice.complex_langevin import cl_observables as cl_observables
from dphys.lattice.complex_langevin import cl_thermalise as cl_thermalise
from dphys.lattice.complex_langevin import cumulants_from_moments as cumulants_from_moments
from dphys.lattice.complex_langevin import reference_observables as reference_observables
from dphys.lattice.complex_langevin import weighted_mean as weighted_mean
from dphys.lattice.complex_models import AnharmonicChainAction as AnharmonicChainAction
from dphys.lattice.complex_models import GaussianAction as GaussianAction
from dphys.lattice.complex_models import QuarticAction as QuarticAction
from dphys.lattice.complex_models import gaussian_mode_covariances as gaussian_mode_covariances
from dphys.lattice.ensemble import Ensemble as Ensemble
from dphys.lattice.ensemble import load_ensemble as load_ensemble
from dphys.lattice.ensemble import save_ensemble as save_ensemble
from dphys.lattice.exact import density_1d as density_1d
from dphys.lattice.exact import double_well_exact as double_well_exact
from dphys.lattice.exact import double_well_hamiltonian as double_well_hamiltonian
from dphys.lattice.exact import expectation_1d as expectation_1d
from dphys.lattice.exact import hamiltonian_spectrum as hamiltonian_spectrum
from dphys.lattice.exact import transfer_matrix_exact as transfer_matrix_exact
from dphys.lattice.exact import u1_character_coefficients as u1_character_coefficients
from dphys.lattice.exact import u1_exact as u1_exact
from dphys.lattice.hmc import HMC as HMC
from dphys.lattice.hmc import HMCInfo as HMCInfo
from dphys.lattice.hmc import HMCState as HMCState
from dphys.lattice.hmc import check_acceptance as check_acceptance
from dphys.lattice.hmc import leapfrog as leapfrog
from dphys.lattice.hmc import run_chain as run_chain
from dphys.lattice.hmc import sample_chains as sample_chains
from dphys.lattice.langevin import MALA as MALA
from dphys.lattice.langevin import langevin_chain as langevin_chain
from dphys.lattice.langevin import langevin_drift as langevin_drift
from dphys.lattice.phi4 import Phi4Action as Phi4Action
from dphys.lattice.phi4 import action_density as action_density
from dphys.lattice.phi4 import check_lattice_shape as check_lattice_shape
from dphys.lattice.phi4 import effective_mass as effective_mass
from dphys.lattice.phi4 import magnetisation as magnetisation
from dphys.lattice.phi4 import phi4_observables as phi4_observables
from dphys.lattice.phi4 import symmetry_augment as symmetry_augment
from dphys.lattice.phi4 import two_point as two_point
from dphys.lattice.quantum import DoubleWellAction as DoubleWellAction
from dphys.lattice.quantum import correlator as correlator
from dphys.lattice.quantum import count_kinks as count_kinks
from dphys.lattice.quantum import qm_observables as qm_observables
from dphys.lattice.quantum import temperature as temperature
from dphys.lattice.u1 import U1Action as U1Action
from dphys.lattice.u1 import check_links as check_links
from dphys.lattice.u1 import gauge_augment as gauge_augment
from dphys.lattice.u1 import gauge_transform as gauge_transform
from dphys.lattice.u1 import local_plaquette_field as local_plaquette_field
from dphys.lattice.u1 import one_plaquette_field as one_plaquette_field
from dphys.lattice.u1 import plaquette as plaquette
from dphys.lattice.u1 import plaquette_adjoint as plaquette_adjoint
from dphys.lattice.u1 import plaquette_angles as plaquette_angles
from dphys.lattice.u1 import random_gauge_transform as random_gauge_transform
from dphys.lattice.u1 import tau_q as tau_q
from dphys.lattice.u1 import topological_charge as topological_charge
from dphys.lattice.u1 import topological_field as topological_field
from dphys.lattice.u1 import topological_log_weight as topological_log_weight
from dphys.lattice.u1 import u1_observables as u1_observables
from dphys.lattice.u1 import villain_beta as villain_beta
from dphys.lattice.u1 import wilson_loop as wilson_loop
from dphys.lattice.u1 import wrap as wrap
from dphys.lattice.zero_d import AnharmonicAction as AnharmonicAction
