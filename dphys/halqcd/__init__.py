r"""HAL QCD: potentials from lattice QCD R-correlators, and the scattering they predict.

Exact synthetic correlators from known potentials (to test an extraction), the leading-order and
neural (unsupervised, trained on the residual of the time-dependent HAL QCD equation) extractions with
jackknife errors, and readers for real lattice data (the Xi-Xi 48^4 sample, the published L = 40
potentials). Units: MeV, fm, times in fm (fm/c); `mass` is the reduced mass; `lo_terms` works in lattice
units. Scattering observables come from `dphys.scattering` (`phase_shift` for local,
`nonlocal_phase_shift` for non-local potentials). Float64.

```python
import equinox as eqx
import jax
import numpy as np

jax.config.update("jax_enable_x64", True)                       # the scattering solvers need float64
from dphys import halqcd
from dphys.constants import M_OMEGA_LATTICE
from dphys.scattering import effective_range

mu = M_OMEGA_LATTICE / 2                                         # the reduced mass [MeV]
truth = halqcd.omega_omega()                                     # a GaussianSum V(r) [MeV], r [fm]
corr = halqcd.synthesize_radial(truth, mass=mu, spacing=0.05, sites=100, times=0.2 + 0.05 * np.arange(6),
                                n_states=6)                      # exact R(r, t), times [fm]
corr = halqcd.add_noise(corr, jax.random.PRNGKey(1), configs=4, noise=1e-4)  # 4 jackknife samples
v_lo = halqcd.lo_potential(corr, order=2)                        # V_LO = K/R [MeV], (samples, slices, r)
mean, err = halqcd.jackknife_band(v_lo[:, 2, 9])                 # at r = 0.5 fm
fit = halqcd.fit_potential(corr, lambda k: halqcd.NeuralPotential(k, width=16, envelope="gaussian"),
                           key=jax.random.PRNGKey(0), steps=100, progress=False)  # one network per sample
a = eqx.filter_vmap(lambda v: effective_range(v, mass=mu).a)(fit.model)  # a [fm] per jackknife sample
```

Synthetic correlators (`synthesis`):
- `synthesize_radial`: the exact s-wave R(r, t) of a local or non-local potential (lowest box states,
  overlaps, relativistic or non-relativistic energies); `synthesize_box`: on a periodic $L^3$ box.
- `Correlator`: R on its time slices with spacing, geometry, mass, jackknife flag; `add_noise`: noisy
  configurations and their jackknife samples.
- `radial_hamiltonian`: the discretised s-wave Hamiltonian [MeV]; `box_distances`: minimal-image r [fm].

Extraction (`extraction`):
- `equation_lhs`: $K = [c(\hbar c)^2\partial_t^2 - \hbar c\,\partial_t + (\hbar c)^2\nabla^2/2\mu] R$;
  `lo_potential`: $V_\mathrm{LO} = K/R$ [MeV].
- `fit_potential`: one neural potential per jackknife sample trained on the equation's residual
  (`residual_loss` on the prepared `FitData` of `fit_data`); `ensemble_member` picks one;
  `jackknife_band`: the central value and error over samples.

Potentials (`potentials`, and re-exported from `dphys.scattering`):
- `omega_omega` (the HAL QCD Omega-Omega 1S0 `GaussianSum`), `omega_ccc` with `M_OMEGA_CCC` [MeV]
  and `OMEGA_CCC_CHARGE_RADIUS` [fm] for `FormFactorCoulomb` (strong + extended-charge Coulomb correction).
- `NeuralPotential` (local), `NeuralNonlocalPotential` (separable, symmetric), `TabulatedPotential`
  (linear interpolation), `Yamaguchi` and `GaussianKernel` (non-local test systems).

Data (`io`, `lattice`, `published`):
- `load_correlator` / `save_correlator`: synthetic or lattice correlators as NumPy files.
- `read_compressed_nbs` (a `CompressedNBS`), `read_records`, `representative_sites`, `read_correlator_file`,
  `baryon_correlator`: the raw HAL QCD formats; `spin_singlet`, `decompress_singlet`: the singlet
  projection onto the periodic box.
- `load_xixi_sample` (a `LatticeSample`), `r_correlator` with `jackknife_bins`, `lo_terms` (an `LOTerms`,
  lattice units), `a1_project`, `bin_in_r`; `XIXI_AINV` [MeV], `XIXI_MASS` [a^-1], `lattice_spacing` [fm].
- `load_published` (`PublishedPotential`s, the L = 40 Xi-Xi LO potentials), `bootstrap_replicas`,
  `fit_gaussians` (a `GaussianFit`), `fit_neural`.
"""

from dphys.halqcd.extraction import FitData as FitData
from dphys.halqcd.extraction import ensemble_member as ensemble_member
from dphys.halqcd.extraction import equation_lhs as equation_lhs
from dphys.halqcd.extraction import fit_data as fit_data
from dphys.halqcd.extraction import fit_potential as fit_potential
from dphys.halqcd.extraction import jackknife_band as jackknife_band
from dphys.halqcd.extraction import lo_potential as lo_potential
from dphys.halqcd.extraction import residual_loss as residual_loss
from dphys.halqcd.io import load_correlator as load_correlator
from dphys.halqcd.io import save_correlator as save_correlator
from dphys.halqcd.lattice import XIXI_AINV as XIXI_AINV
from dphys.halqcd.lattice import XIXI_MASS as XIXI_MASS
from dphys.halqcd.lattice import CompressedNBS as CompressedNBS
from dphys.halqcd.lattice import LatticeSample as LatticeSample
from dphys.halqcd.lattice import LOTerms as LOTerms
from dphys.halqcd.lattice import a1_project as a1_project
from dphys.halqcd.lattice import baryon_correlator as baryon_correlator
from dphys.halqcd.lattice import bin_in_r as bin_in_r
from dphys.halqcd.lattice import decompress_singlet as decompress_singlet
from dphys.halqcd.lattice import jackknife_bins as jackknife_bins
from dphys.halqcd.lattice import lattice_spacing as lattice_spacing
from dphys.halqcd.lattice import lo_terms as lo_terms
from dphys.halqcd.lattice import load_xixi_sample as load_xixi_sample
from dphys.halqcd.lattice import r_correlator as r_correlator
from dphys.halqcd.lattice import read_compressed_nbs as read_compressed_nbs
from dphys.halqcd.lattice import read_correlator_file as read_correlator_file
from dphys.halqcd.lattice import read_records as read_records
from dphys.halqcd.lattice import representative_sites as representative_sites
from dphys.halqcd.lattice import spin_singlet as spin_singlet
from dphys.halqcd.potentials import M_OMEGA_CCC as M_OMEGA_CCC
from dphys.halqcd.potentials import OMEGA_CCC_CHARGE_RADIUS as OMEGA_CCC_CHARGE_RADIUS
from dphys.halqcd.potentials import FormFactorCoulomb as FormFactorCoulomb
from dphys.halqcd.potentials import NeuralNonlocalPotential as NeuralNonlocalPotential
from dphys.halqcd.potentials import TabulatedPotential as TabulatedPotential
from dphys.halqcd.potentials import omega_ccc as omega_ccc
from dphys.halqcd.potentials import omega_omega as omega_omega
from dphys.halqcd.published import GaussianFit as GaussianFit
from dphys.halqcd.published import PublishedPotential as PublishedPotential
from dphys.halqcd.published import bootstrap_replicas as bootstrap_replicas
from dphys.halqcd.published import fit_gaussians as fit_gaussians
from dphys.halqcd.published import fit_neural as fit_neural
from dphys.halqcd.published import load_published as load_published
from dphys.halqcd.synthesis import Correlator as Correlator
from dphys.halqcd.synthesis import add_noise as add_noise
from dphys.halqcd.synthesis import box_distances as box_distances
from dphys.halqcd.synthesis import radial_hamiltonian as radial_hamiltonian
from dphys.halqcd.synthesis import synthesize_box as synthesize_box
from dphys.halqcd.synthesis import synthesize_radial as synthesize_radial
from dphys.scattering.non_local import GaussianKernel as GaussianKernel
from dphys.scattering.non_local import Yamaguchi as Yamaguchi
from dphys.scattering.potentials import NeuralPotential as NeuralPotential
