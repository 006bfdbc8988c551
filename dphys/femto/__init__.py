r"""Femtoscopy: emission sources, the Koonin-Pratt correlation function of a pair with a short-range
potential and Coulomb (partial waves summed to convergence, identical-particle symmetrisation) and
the Lednicky-Lyuboshitz analytic model.

Units: k [fm^-1] (half the momentum difference in the pair rest frame), r [fm], S(r) [fm^-3], masses
[MeV] (`mass` is the *reduced* mass), potentials V(r) [MeV]. Float64 (`jax.enable_x64`).

- `sources`: `GaussianSource`, `CauchySource`, `DoubleGaussianSource`, `CoreTailSource`,
  `NeuralSource`, `check_source`.
- `correlation`: `pair_kernel`, `pp_kernel`, `fold`, `correlation_function`, `pp_correlation`,
  `SpinChannel`, `PartialWave`, `pp_kernel_waves`, `Kernel`, `radial_quadrature`.
- `lednicky`: `lednicky_lyuboshitz` (with and without the Coulomb correction).
- `data`: correlation data (`CorrelationData`; CSV and HEPData YAML readers with units checked, a
  CSV writer) and the shipped pp pseudo-data (`load_default`).
- `alice`: the ALICE pp 13 TeV p-p correlation function and its resolution and decay matrices
  (CSV/NPZ exports, or the ROOT files with uproot), units and matrix axes checked.
- `decomposition`: the measured-correlation model N(k) R [lambda_gen C_pp + lambda_pL T[C_pL] +
  lambda_flat] (momentum resolution, feed-down, lambda parameters, baseline) as pure JAX functions.
- `inverse`: training sets for the inverse problem C(k) -> (Gaussian well, source radius):
  `simulate_correlations`, `gaussian_well`, `well_depth`.
- `fitting`: chi^2 with errors or covariance, Levenberg-Marquardt fits with (J^T J)^-1 errors, optax
  fits with MacKay's effective number of parameters, anchored ensembles for uncertainty bands.
"""

from dphys.femto import alice as alice
from dphys.femto import correlation as correlation
from dphys.femto import data as data
from dphys.femto import decomposition as decomposition
from dphys.femto import fitting as fitting
from dphys.femto import inverse as inverse
from dphys.femto import lednicky as lednicky
from dphys.femto import sources as sources
from dphys.femto.correlation import Kernel as Kernel
from dphys.femto.correlation import PartialWave as PartialWave
from dphys.femto.correlation import SpinChannel as SpinChannel
from dphys.femto.correlation import correlation_function as correlation_function
from dphys.femto.correlation import coulomb_partial_wave_sums as coulomb_partial_wave_sums
from dphys.femto.correlation import fold as fold
from dphys.femto.correlation import n_partial_waves as n_partial_waves
from dphys.femto.correlation import pair_kernel as pair_kernel
from dphys.femto.correlation import pp_correlation as pp_correlation
from dphys.femto.correlation import pp_kernel as pp_kernel
from dphys.femto.correlation import pp_kernel_waves as pp_kernel_waves
from dphys.femto.correlation import radial_quadrature as radial_quadrature
from dphys.femto.data import CorrelationData as CorrelationData
from dphys.femto.data import load_default as load_default
from dphys.femto.data import read_data as read_data
from dphys.femto.data import write_csv as write_csv
from dphys.femto.fitting import FitResult as FitResult
from dphys.femto.fitting import fit_ensemble as fit_ensemble
from dphys.femto.fitting import fit_least_squares as fit_least_squares
from dphys.femto.fitting import fit_optax as fit_optax
from dphys.femto.lednicky import lednicky_lyuboshitz as lednicky_lyuboshitz
from dphys.femto.sources import AbstractSource as AbstractSource
from dphys.femto.sources import CauchySource as CauchySource
from dphys.femto.sources import CoreTailSource as CoreTailSource
from dphys.femto.sources import DoubleGaussianSource as DoubleGaussianSource
from dphys.femto.sources import GaussianSource as GaussianSource
from dphys.femto.sources import NeuralSource as NeuralSource
from dphys.femto.sources import check_source as check_source
from dphys.femto.sources import radial_integral as radial_integral
