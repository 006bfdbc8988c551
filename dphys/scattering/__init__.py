r"""Two-body scattering: the radial Schroedinger equation with and without Coulomb, phase shifts,
wave functions, effective-range parameters, bound states and a library of potentials.

Units: MeV, fm, fm^-1 (`dphys.constants.HBARC`). `mass` is always the *reduced* mass $\mu$ [MeV].
Sign convention (particle physics): $k\cot\delta_0 = -1/a + r k^2/2$, $a > 0$ with a shallow bound
state; the femtoscopy $f_0 = -a$. Everything needs float64 (`jax.config.update("jax_enable_x64",
True)`), acts on one momentum (vmap for many) and is differentiable in the potential's parameters.

- `coulomb`: $F_l$, $G_l$ and derivatives (Steed), $\sigma_l$, Gamow factor, $h(\eta)$.
- `potentials`: `GaussianSum` (Omega-Omega), `ReidSoftCore1S0`, `Yukawa`, `MalflietTjon`,
  `HALQCDpOmega`, `SquareWell`, `DeltaShell`, `NeuralPotential`, `AV18` (Argonne v18 in a partial
  wave, module `av18`, with `pp_phase_shift`, `pp_coupled_phase_shifts`, `pp_momentum`, `alpha_prime_ratio`).
- `radial`: `phase_shift`, `wavefunction`, `solve_radial`.
- `observables`: `effective_range_function`, `effective_range`.
- `bound`: `binding_energy`, `count_bound_states`.
- `coupled`: `coupled_phase_shifts` (two tensor-coupled waves, Stapp bar phases and mixing angle,
  with Coulomb), `CoupledPhases`.
- `non_local`: `nonlocal_phase_shift`, `nonlocal_effective_range` (s-wave kernels W(r, r'), a
  Chebyshev-panel integral equation), `Yamaguchi` (closed form), `GaussianKernel`.
"""

from dphys.scattering.av18 import AV18 as AV18
from dphys.scattering.av18 import alpha_prime_ratio as alpha_prime_ratio
from dphys.scattering.av18 import pp_coupled_phase_shifts as pp_coupled_phase_shifts
from dphys.scattering.av18 import pp_momentum as pp_momentum
from dphys.scattering.av18 import pp_phase_shift as pp_phase_shift
from dphys.scattering.bound import binding_energy as binding_energy
from dphys.scattering.bound import count_bound_states as count_bound_states
from dphys.scattering.coulomb import CoulombFunctions as CoulombFunctions
from dphys.scattering.coulomb import coulomb_functions as coulomb_functions
from dphys.scattering.coulomb import coulomb_h as coulomb_h
from dphys.scattering.coulomb import coulomb_normalization as coulomb_normalization
from dphys.scattering.coulomb import coulomb_phase as coulomb_phase
from dphys.scattering.coulomb import gamow_factor as gamow_factor
from dphys.scattering.coulomb import turning_point as turning_point
from dphys.scattering.coupled import CoupledPhases as CoupledPhases
from dphys.scattering.coupled import coupled_phase_shifts as coupled_phase_shifts
from dphys.scattering.non_local import AbstractNonlocalPotential as AbstractNonlocalPotential
from dphys.scattering.non_local import GaussianKernel as GaussianKernel
from dphys.scattering.non_local import RadialQuadrature as RadialQuadrature
from dphys.scattering.non_local import Yamaguchi as Yamaguchi
from dphys.scattering.non_local import chebyshev_quadrature as chebyshev_quadrature
from dphys.scattering.non_local import nonlocal_effective_range as nonlocal_effective_range
from dphys.scattering.non_local import nonlocal_phase_shift as nonlocal_phase_shift
from dphys.scattering.observables import EffectiveRange as EffectiveRange
from dphys.scattering.observables import effective_range as effective_range
from dphys.scattering.observables import effective_range_function as effective_range_function
from dphys.scattering.potentials import AbstractPotential as AbstractPotential
from dphys.scattering.potentials import DeltaShell as DeltaShell
from dphys.scattering.potentials import GaussianSum as GaussianSum
from dphys.scattering.potentials import HALQCDpOmega as HALQCDpOmega
from dphys.scattering.potentials import MalflietTjon as MalflietTjon
from dphys.scattering.potentials import NeuralPotential as NeuralPotential
from dphys.scattering.potentials import ReidSoftCore1S0 as ReidSoftCore1S0
from dphys.scattering.potentials import SquareWell as SquareWell
from dphys.scattering.potentials import Yukawa as Yukawa
from dphys.scattering.radial import RadialSolution as RadialSolution
from dphys.scattering.radial import coulomb_momentum as coulomb_momentum
from dphys.scattering.radial import phase_shift as phase_shift
from dphys.scattering.radial import solve_radial as solve_radial
from dphys.scattering.radial import wavefunction as wavefunction
