r"""Two-body scattering: the radial Schroedinger equation with and without Coulomb, phase shifts,
wave functions, effective-range parameters, bound states and a library of local and non-local potentials.

Units: MeV, fm, fm^-1 (`dphys.constants.HBARC`). `mass` is always the *reduced* mass $\mu$ [MeV].
Sign convention (particle physics): $k\cot\delta_0 = -1/a + r k^2/2$, $a > 0$ with a shallow bound
state; the femtoscopy $f_0 = -a$. Everything needs float64 (`jax.config.update("jax_enable_x64",
True)`), acts on one momentum (vmap for many) and is differentiable in the potential's parameters.

```python
import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)                     # the solvers need float64
from dphys import scattering as sc
from dphys.constants import M_OMEGA_LATTICE, M_PROTON

mass = M_OMEGA_LATTICE / 2                                     # the REDUCED mass [MeV]
V = sc.GaussianSum(c=(914.0, 305.0, -112.0), d=(0.143, 0.305, 0.949))  # V(r) [MeV], r [fm]
delta = sc.phase_shift(V, 0.5, mass=mass)                      # delta_0 [rad] at k = 0.5 fm^-1
a, r = sc.effective_range(V, mass=mass)                        # [fm]: k cot delta = -1/a + r k^2/2
B = sc.binding_energy(V, mass=mass)                            # [MeV], > 0
u = sc.wavefunction(V, 0.5, jnp.linspace(0.5, 10.0, 20), mass=mass)  # u_0(r) on a grid
da = jax.grad(lambda V: sc.effective_range(V, mass=mass).a)(V)  # da/dc, da/dd: a GaussianSum
d_pp = sc.phase_shift(sc.ReidSoftCore1S0(), 0.5, mass=M_PROTON / 2, coulomb=1.0)  # relative to Coulomb
W = sc.Yamaguchi.from_scattering(-23.7, 1.4, mass=M_PROTON / 2)  # a separable non-local kernel
d_nl = sc.nonlocal_phase_shift(W, 0.5, mass=M_PROTON / 2)      # Chebyshev-panel integral equation
```

Local potentials (`potentials`, `av18`; each an equinox module `V(r)` [MeV] at `r` [fm]):
- `AbstractPotential`: the base class (elementwise `V(r)`).
- `GaussianSum` (Omega-Omega), `ReidSoftCore1S0`, `Yukawa`, `MalflietTjon`, `HALQCDpOmega` (p-Omega 5S2),
  `SquareWell`, `DeltaShell` (exact matching condition), `NeuralPotential` (an MLP with an envelope).
- `AV18`: Argonne v18 in one partial wave, with or without the electromagnetic terms.

Non-local potentials (`non_local`; s-wave kernels W(r, r') [MeV fm^-1]):
- `AbstractNonlocalPotential`: the base class; `Yamaguchi` (separable, closed form), `GaussianKernel`
  (Perey-Buck type).
- `nonlocal_phase_shift`, `nonlocal_effective_range`: the s-wave integral equation on a
  `RadialQuadrature` (composite Chebyshev panels, built by `chebyshev_quadrature`).

Solvers (`radial`, `coupled`):
- `phase_shift`: $\delta_l(k)$ [rad] (relative to Coulomb when `coulomb` = $Z_1 Z_2$ != 0).
- `wavefunction`: $u_l(r)$ on a grid; `solve_radial`: both at once, a `RadialSolution`.
- `coulomb_momentum`: $k_C = \alpha Z_1 Z_2 \mu/\hbar c$ [fm^-1].
- `coupled_phase_shifts`: two tensor-coupled waves with Coulomb, Stapp bar phases and mixing angle
  (`CoupledPhases`).

Observables and bound states (`observables`, `bound`):
- `effective_range_function`: $k\cot\delta_0$ (Coulomb-modified when charged).
- `effective_range`: the scattering length and effective range, an `EffectiveRange` (a, r) [fm].
- `binding_energy`: $B_n > 0$ [MeV] of the state with n nodes; `count_bound_states`.

Proton-proton with AV18 (`av18`):
- `pp_phase_shift`, `pp_coupled_phase_shifts`: the nuclear pp phases, relative to EM-distorted waves
  (`convention="em"`, Nijmegen) or to point-Coulomb waves (`"coulomb"`).
- `pp_momentum`: k [fm^-1] from $T_\mathrm{lab}$ [MeV]; `alpha_prime_ratio`: $\alpha'/\alpha$.

Coulomb functions (`coulomb`, dimensionless):
- `coulomb_functions`: $F_l$, $G_l$ and derivatives (Steed), a `CoulombFunctions`.
- `coulomb_phase` ($\sigma_l$), `gamow_factor` ($C_0^2$), `coulomb_normalization` ($C_l$), `coulomb_h`
  ($h(\eta)$), `turning_point` ($\rho_{tp}$).
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
