"""Lattice and few-variable field theories: actions as pure functions of one configuration
(phi4, u1, quantum, zero_d), samplers (hmc, langevin), ensembles on disk, and exact results
(exact) used as references."""

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
from dphys.lattice.phi4 import two_point as two_point
from dphys.lattice.quantum import DoubleWellAction as DoubleWellAction
from dphys.lattice.quantum import correlator as correlator
from dphys.lattice.quantum import count_kinks as count_kinks
from dphys.lattice.quantum import qm_observables as qm_observables
from dphys.lattice.quantum import temperature as temperature
from dphys.lattice.u1 import U1Action as U1Action
from dphys.lattice.u1 import gauge_transform as gauge_transform
from dphys.lattice.u1 import plaquette as plaquette
from dphys.lattice.u1 import plaquette_angles as plaquette_angles
from dphys.lattice.u1 import random_gauge_transform as random_gauge_transform
from dphys.lattice.u1 import topological_charge as topological_charge
from dphys.lattice.u1 import u1_observables as u1_observables
from dphys.lattice.u1 import wilson_loop as wilson_loop
from dphys.lattice.u1 import wrap as wrap
from dphys.lattice.zero_d import AnharmonicAction as AnharmonicAction
