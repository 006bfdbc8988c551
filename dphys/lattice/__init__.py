"""Lattice and few-variable field theories: actions as pure functions of one configuration,
their Langevin drifts, and exact results used as references."""

from dphys.lattice.exact import density_1d as density_1d
from dphys.lattice.exact import expectation_1d as expectation_1d
from dphys.lattice.zero_d import AnharmonicAction as AnharmonicAction
from dphys.lattice.zero_d import langevin_drift as langevin_drift
