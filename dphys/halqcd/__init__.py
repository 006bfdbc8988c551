r"""HAL QCD: potentials from lattice QCD R-correlators, and the scattering they predict.

- `synthesis`: exact synthetic R-correlators from known local or non-local potentials, radial (s-wave)
  or on a periodic box, with overlaps, relativistic or non-relativistic energies, noise and
  jackknife samples (`synthesize_radial`, `synthesize_box`, `add_noise`, `Correlator`).
- `extraction`: the time-dependent HAL QCD equation; the leading-order extraction (`lo_potential`)
  and unsupervised neural potentials trained on its residual (`fit_potential`).
- `potentials`: the systems (`omega_omega`, `omega_ccc`, `Yamaguchi`, `GaussianKernel`) and the neural
  potentials (`NeuralPotential`, `NeuralNonlocalPotential`), `TabulatedPotential`.
- `io`: `load_correlator` / `save_correlator` for lattice data as NumPy files.

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
from dphys.halqcd.potentials import M_OMEGA_CCC as M_OMEGA_CCC
from dphys.halqcd.potentials import NeuralNonlocalPotential as NeuralNonlocalPotential
from dphys.halqcd.potentials import TabulatedPotential as TabulatedPotential
from dphys.halqcd.potentials import omega_ccc as omega_ccc
from dphys.halqcd.potentials import omega_omega as omega_omega
from dphys.halqcd.synthesis import Correlator as Correlator
from dphys.halqcd.synthesis import add_noise as add_noise
from dphys.halqcd.synthesis import box_distances as box_distances
from dphys.halqcd.synthesis import radial_hamiltonian as radial_hamiltonian
from dphys.halqcd.synthesis import synthesize_box as synthesize_box
from dphys.halqcd.synthesis import synthesize_radial as synthesize_radial
from dphys.scattering.non_local import GaussianKernel as GaussianKernel
from dphys.scattering.non_local import Yamaguchi as Yamaguchi
from dphys.scattering.potentials import NeuralPotential as NeuralPotential
