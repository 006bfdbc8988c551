"""Argonne v18 for proton-proton scattering: phase shifts in two conventions and their gradient.

`AV18(wave)` is the pp potential in one partial wave without the point Coulomb (the solver adds it with
`coulomb=1`): the femtoscopy convention. `pp_phase_shift(..., convention="em")` is the convention of the
Nijmegen and Granada partial-wave analyses (relative to EM-distorted waves); 3P2 is coupled to 3F2 by the
tensor force (`pp_coupled_phase_shifts`). The gradient of a phase shift with respect to an AV18
coefficient goes through the ODE solver. Runs in a few minutes on a laptop CPU (mostly compilation).

    python examples/av18.py
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)  # the scattering solvers need float64

from dphys.constants import M_PROTON  # noqa: E402
from dphys.scattering import (  # noqa: E402
      AV18,
      phase_shift,
      pp_coupled_phase_shifts,
      pp_momentum,
      pp_phase_shift,
)

mass = M_PROTON / 2  # the REDUCED mass [MeV]
t_lab = np.array([5.0, 25.0, 100.0])  # laboratory energy [MeV]; k = sqrt(m_p T_lab / 2)
ks = np.asarray(pp_momentum(t_lab))  # [fm^-1]

v = AV18("1S0")
print("V_1S0(r) [MeV] at r = 0.5, 1, 2 fm:", np.round(np.asarray(v(jnp.array([0.5, 1.0, 2.0]))), 3))
femto = jax.vmap(lambda k: phase_shift(v, k, mass=mass, coulomb=1.0))(jnp.asarray(ks))
print("1S0, relative to point Coulomb [deg]:", np.round(np.degrees(np.asarray(femto)), 3), "at T_lab =", t_lab)
em = [math.degrees(float(pp_phase_shift(v, float(k)))) for k in ks]
print("1S0, EM-wave convention (Granada)  [deg]:", np.round(em, 3))

c = pp_coupled_phase_shifts(AV18("3P2"), float(ks[1]))
print(f"3P2-3F2 at 25 MeV: 3P2 {math.degrees(float(c.delta_minus)):.3f}, 3F2 {math.degrees(float(c.delta_plus)):.4f}, "
      f"epsilon_2 {math.degrees(float(c.epsilon)):.3f} deg (uncoupled 3P2: "
      f"{math.degrees(float(phase_shift(AV18('3P2'), float(ks[1]), mass=mass, l=1, coulomb=1.0))):.3f})")

# d delta(1S0, 25 MeV) / d(short-range pp coefficients I, P of the S=0, T=1 central term)
grad = jax.grad(lambda p: phase_shift(p, float(ks[1]), mass=mass, coulomb=1.0))(v)
print("d delta / d c01[pp] [rad/MeV]:", np.asarray(grad.c01[0]))
