r"""HAL QCD: potentials from lattice QCD R-correlators, and the scattering they predict.

- `synthesis`: exact synthetic R-correlators from known local or non-local potentials, radial (s-wave)
  or on a periodic box, with overlaps, relativistic or non-relativistic energies, noise and
  jackknife samples (`synthesize_radial`, `synthesize_box`, `add_noise`, `Correlator`).
- `extraction`: the time-dependent HAL QCD equation; the leading-order extraction (`lo_potential`)
  and unsupervised neural potentials trained on its residual (`fit_potential`).
- `potentials`: the systems (`omega_omega`, `omega_ccc`, `Yamaguchi`, `GaussianKernel`) and the neural
  potentials (`NeuralPotential`, `NeuralNonlocalPotential`), `TabulatedPotential`.
- `io`: `load_correlator` / `save_correlator` for lattice data as NumPy files.
- `lattice`: real lattice data: the compressed NBS reader (`read_compressed_nbs`, `read_records`), the
  correlator text reader, the spin-singlet projection and decompression onto the periodic box,
  `r_correlator` with jackknife bins, the LO potential term by term (`lo_terms`, lattice units),
  `a1_project`, `bin_in_r`, `load_xixi_sample` (the HAL QCD Xi-Xi 48^4 sample).
- `published`: the published L = 40 Xi-Xi potentials (`load_published`), multi-Gaussian and neural
  fits with bootstrap replicas (`fit_gaussians`, `fit_neural`, `bootstrap_replicas`).

Units: MeV, fm, times in fm (fm/c); `mass` is the reduced mass. Scattering observables come from
`dphys.scattering` (`phase_shift` for local, `nonlocal_phase_shift` for non-local potentials).
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
