r"""Femtoscopy: emission sources, the Koonin-Pratt correlation function of a pair with a short-range
potential and Coulomb (partial waves summed to convergence, identical-particle symmetrisation), the
Lednicky-Lyuboshitz analytic model, correlation data and fits.

Units: k [fm^-1] (half the momentum difference in the pair rest frame), r [fm], S(r) [fm^-3], masses
[MeV] (`mass` is the *reduced* mass), potentials V(r) [MeV]; the femtoscopy sign $f_0 = -a$. Float64
(`jax.config.update("jax_enable_x64", True)`). A kernel K(k, r) is computed once per potential; each
source is then a matrix-vector product (`fold`), differentiable in the source and the potential.

```python
import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)                       # femtoscopy needs float64
from dphys import femto
from dphys.constants import M_PROTON
from dphys.scattering import ReidSoftCore1S0

k = jnp.linspace(0.02, 1.0, 25)                                  # k* [fm^-1]: half the relative momentum
kernel = femto.pp_kernel(k, ReidSoftCore1S0(), mass=M_PROTON / 2)  # 1S0 strong + Coulomb, antisymmetrised
C = femto.fold(femto.GaussianSource(1.2), kernel)                # C(k*) for a Gaussian source, R = 1.2 fm
C_R = jax.vmap(lambda R: femto.fold(femto.GaussianSource(R), kernel))(jnp.array([1.0, 1.5]))
C_ll = femto.lednicky_lyuboshitz(k, 1.2, f0=jnp.array([7.8, 0.0]), d0=jnp.array([2.8, 0.0]),  # f0 = -a [fm]
                                 weight=jnp.array([0.25, 0.75]), parity=jnp.array([1, -1]),
                                 coulomb=1.0, mass=M_PROTON / 2)  # the analytic model: 1S0 + Coulomb triplet
data = femto.load_default()                                      # pp pseudo-data: data.k [fm^-1], data.C
K = femto.pp_kernel(data.k, ReidSoftCore1S0(), mass=M_PROTON / 2)
fit = femto.fit_least_squares(lambda p: femto.fold(femto.GaussianSource(p["R"]), K), {"R": 1.2}, data)
```

Sources (`sources`; equinox modules $S(r)$ [fm^-3], normalised to $\int 4\pi r^2 S = 1$):
- `AbstractSource`: the base class; `GaussianSource`, `CauchySource`, `DoubleGaussianSource`,
  `CoreTailSource` (a Gaussian core plus an exponential tail), `NeuralSource` (an MLP, normalised).
- `check_source`: finite, non-negative and normalised; `radial_integral`: $\int_0^\infty 4\pi r^2 f(r)\,dr$.

Correlation functions (`correlation`):
- `pair_kernel`: the Koonin-Pratt kernel of any pair over `SpinChannel`s (each with its `PartialWave`s),
  a `Kernel`; `pp_kernel` (1S0 potential + Coulomb singlet 1/4, triplet 3/4), `pp_kernel_waves`
  (one potential per partial wave, e.g. AV18).
- `fold`: $C(k) = \int 4\pi r^2 S(r) K(k, r)\,dr$; `correlation_function`, `pp_correlation`: kernel and
  fold in one call.
- `radial_quadrature`: the composite Gauss-Legendre r grid [fm]; `coulomb_partial_wave_sums`: $F_0$, $F_1$
  and $\sum (2l+1) F_l^2$ over even and odd l (Miller's recurrence); `n_partial_waves`: how many l it sums.
- `lednicky_lyuboshitz` (`lednicky`): the analytic model, with and without the Coulomb correction.

Data (`data`, `alice`):
- `CorrelationData`: k [fm^-1], C, stat, syst, covariance, checked on construction; `read_data` (CSV,
  HEPData YAML, units checked), `write_csv`, `load_default` (the shipped pp pseudo-data).
- `alice`: the ALICE pp 13 TeV p-p correlation function and its resolution and decay matrices
  (CSV/NPZ exports, or the ROOT files with uproot), units and matrix axes checked.

Fits and inverse problems (`fitting`, `decomposition`, `inverse`):
- `fit_least_squares`: Levenberg-Marquardt with $(J^T J)^{-1}$ errors, a `FitResult`; `fit_optax`: optax
  with MacKay's effective number of parameters; `fit_ensemble`: (anchored) ensembles for uncertainty bands.
- `decomposition`: the measured-correlation model N(k) R [lambda_gen C_pp + lambda_pL T[C_pL] +
  lambda_flat] (momentum resolution, feed-down, lambda parameters, baseline) as pure JAX functions.
- `inverse`: training sets for the inverse problem C(k) -> (Gaussian well, source radius):
  `simulate_correlations`, `gaussian_well`, `well_depth`.
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
