"""The proton-proton correlation function: Koonin-Pratt with the Reid soft-core 1S0 potential and
Coulomb, for a few Gaussian source radii, compared with the Lednicky-Lyuboshitz model.

The kernel K(k, r) (spin-averaged, antisymmetrised |psi|^2 on a radial grid) is computed once for
the potential; each source radius is then a matrix-vector product, and all radii are one vmap.
The Lednicky-Lyuboshitz curves use the Coulomb-modified scattering length and effective range of
the same potential (dphys.scattering.effective_range) and the Coulomb correction (Gamow factor and
h(eta)); they are an approximation, closest to the full result for large sources.
Writes femto_correlation.png to the current directory. About a minute on a laptop CPU.

    python examples/femto_correlation.py
"""

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)  # femtoscopy (like scattering) needs float64

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from dphys.constants import HBARC, M_PROTON  # noqa: E402
from dphys.femto import GaussianSource, fold, lednicky_lyuboshitz, pp_kernel  # noqa: E402
from dphys.scattering import ReidSoftCore1S0, effective_range  # noqa: E402

mass = M_PROTON / 2  # reduced mass [MeV]
potential = ReidSoftCore1S0()
k = jnp.linspace(0.01, 1.0, 100)  # k = |p1 - p2|/2 in the pair frame [fm^-1]
radii = jnp.array([0.9, 1.2, 1.6, 3.0])  # Gaussian single-particle widths R [fm]

kernel = pp_kernel(k, potential, mass=mass)  # 1S0 (Reid + Coulomb) 1/4, Coulomb triplet 3/4
c_kp = jax.vmap(lambda R: fold(GaussianSource(R), kernel))(radii)

a_c, r_c = effective_range(potential, mass=mass, coulomb=1.0)  # Coulomb-modified, particle-physics sign
print(f"1S0 with Coulomb: a_C = {float(a_c):.3f} fm, r_C = {float(r_c):.3f} fm (femtoscopy f0 = -a_C)")
c_ll = jnp.stack([
    lednicky_lyuboshitz(k, R, f0=jnp.array([-a_c, 0.0]), d0=jnp.array([r_c, 0.0]),
                        weight=jnp.array([0.25, 0.75]), parity=jnp.array([1, -1]), coulomb=1.0, mass=mass)
    for R in radii
])

for R, ckp, cll in zip(radii, c_kp, c_ll):
    i = int(jnp.argmax(ckp))
    print(f"R = {float(R):.1f} fm: peak C = {float(ckp[i]):.3f} at k* = {float(k[i]) * HBARC:.1f} MeV/c "
          f"(Lednicky-Lyuboshitz {float(cll[i]):.3f}); max |KP - LL| = {float(jnp.max(jnp.abs(ckp - cll))):.3f}")

# the gradient of the correlation at the peak with respect to the source radius and the potential
grad_r, grad_pot = jax.grad(lambda R, pot: fold(GaussianSource(R), pp_kernel(k[:20], pot, mass=mass))[8],
                            argnums=(0, 1))(1.2, potential)
print(f"dC(k*={float(k[8]) * HBARC:.0f} MeV/c)/dR = {float(grad_r):.3f} fm^-1; dC/dc_Reid =",
      np.asarray(grad_pot.c))

fig, ax = plt.subplots(figsize=(6, 4))
for R, ckp, cll, colour in zip(radii, c_kp, c_ll, ["C0", "C1", "C2", "C3"]):
    ax.plot(k * HBARC, ckp, color=colour, label=f"Koonin-Pratt, R = {float(R):.1f} fm")
    ax.plot(k * HBARC, cll, color=colour, ls="--", lw=1)
ax.axhline(1.0, color="grey", lw=0.5)
ax.set_xlabel("k* [MeV/c]")
ax.set_ylabel("C(k*)")
ax.set_title("pp: Reid 1S0 + Coulomb (solid), Lednicky-Lyuboshitz (dashed)")
ax.set_xlim(0, 200)
ax.legend()
fig.tight_layout()
fig.savefig("femto_correlation.png", dpi=120)
print("wrote femto_correlation.png")
