r"""Potentials of the HAL QCD systems: the synthetic truths and the neural potentials learned from
correlators.

- Local truths: `omega_omega()` (HAL QCD, Gongyo et al. PRL 120 (2018) 212001) and `omega_ccc()`
  (a Gaussian fitted with dphys itself to the quoted scattering parameters, see there), both
  `dphys.scattering.GaussianSum`.
- Non-local truths: `dphys.scattering.Yamaguchi` (separable) and `dphys.scattering.GaussianKernel`
  (Gaussian non-locality), s-wave kernels $W(r, r')$ [MeV fm^-1] (`dphys.scattering.non_local`).
- Neural: `dphys.scattering.NeuralPotential` (local $V_\theta(r)$) and `NeuralNonlocalPotential`
  (separable, symmetric by construction); `TabulatedPotential` turns a potential known on grid
  points (the leading-order extraction) into a callable for the scattering solver.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from dphys.constants import ALPHA, HBARC
from dphys.scattering.non_local import AbstractNonlocalPotential
from dphys.scattering.potentials import AbstractPotential, GaussianSum

__all__ = ["M_OMEGA_CCC", "OMEGA_CCC_CHARGE_RADIUS", "FormFactorCoulomb", "NeuralNonlocalPotential",
           "TabulatedPotential", "omega_ccc", "omega_omega"]

M_OMEGA_CCC = 4796.0  # [MeV] lattice Omega_ccc mass, about (Lyu et al. PRL 127 (2021) 072003)
# [fm] r.m.s. charge radius of Omega_ccc (charge +2) for the form factor: the lattice estimate ~0.41 fm of
# Can et al. (PRD 92 (2015) 114515) that Lyu et al. use, as we recall it (not verified against the paper)
OMEGA_CCC_CHARGE_RADIUS = 0.41

# Omega_ccc-Omega_ccc 1S0 without Coulomb: NOT the published parameters (not known to us with
# certainty) but a single Gaussian c exp(-(r/d)^2) fitted with dphys: Levenberg-Marquardt
# (optimistix, reverse-mode Jacobian through dphys.scattering.effective_range, float64) on
# (1/a - 1/1.6 fm, r - 0.57 fm) at the reduced mass M_OMEGA_CCC / 2, the scattering parameters that
# REFERENCES.md quotes for Lyu et al. It has one bound state, bound by 5.34 MeV (REFERENCES.md:
# "about 5.7 MeV"); tests/halqcd/test_potentials.py checks a, r and B.
OMEGA_CCC_C = (-122.99873001,)
OMEGA_CCC_D = (0.52237131,)


def omega_omega() -> GaussianSum:
    r"""The HAL QCD $\Omega\Omega$ $^1S_0$ potential, $\sum_j c_j e^{-(r/d_j)^2}$ with
    $c = (914, 305, -112)$ MeV, $d = (0.143, 0.305, 0.949)$ fm, for $m_\Omega = 1711.5$ MeV
    (reduced mass `M_OMEGA_LATTICE / 2`)."""
    return GaussianSum()


def omega_ccc() -> GaussianSum:
    r"""An $\Omega_{ccc}\Omega_{ccc}$ $^1S_0$ potential without Coulomb, for $m_{\Omega_{ccc}} = 4796$ MeV
    (reduced mass `M_OMEGA_CCC / 2`): a Gaussian $c\,e^{-(r/d)^2}$, $c = -123.0$ MeV, $d = 0.5224$ fm,
    **fitted with dphys's own differentiable solver** to the scattering parameters quoted for Lyu et
    al., PRL 127 (2021) 072003 ($a = 1.6$ fm, $r = 0.57$ fm; the published Gaussian-sum parameters
    were not known to us with certainty). It binds by 5.34 MeV (quoted: about 5.7 MeV)."""
    return GaussianSum(c=OMEGA_CCC_C, d=OMEGA_CCC_D)


class TabulatedPotential(AbstractPotential):
    r"""A local potential known on grid points, linearly interpolated: $V(r)$ [MeV] between
    `r[0]` and `r[-1]`, $V(r_0)$ below, 0 beyond the last point (so tabulate out to where $V$ is
    negligible).

    **Fields:** `r` [fm] ascending grid, `v` [MeV] values.
    """

    r: Float[Array, " n"]
    v: Float[Array, " n"]

    def __call__(self, r):
        r = jnp.asarray(r)
        return jnp.where(r <= self.r[-1], jnp.interp(r, self.r, self.v), 0.0)


class NeuralNonlocalPotential(AbstractNonlocalPotential):
    r"""A neural separable non-local potential, symmetric by construction:

    $$ U_\theta(r, r') = s \sum_{k=1}^{K} c_k\, \phi_k(r)\,\phi_k(r'), \qquad
       \phi_k(r) = \mathrm{MLP}_k(r/R)\, e^{-r/R}, $$

    with one tanh MLP of $r/R$ with $K$ outputs and learned coefficients $c_k$ of either sign
    ($K = 1$ contains the Yamaguchi form exactly). On radial data it is the s-wave kernel
    $W(r, r')$ [MeV fm^-1] (`dphys.scattering.non_local`), on box data the 3D kernel
    $U(|\mathbf r|, |\mathbf r'|)$ [MeV fm^-3]. The equation residual uses `factors`, never the matrix.

    **Arguments:** `key`; `rank` $K$; `width`, `depth` of the MLP; `length` $R$ [fm]; `scale` $s$.
    """

    mlp: eqx.nn.MLP
    coeff: Float[Array, " K"]
    length: float = eqx.field(static=True)
    scale: float = eqx.field(static=True)

    def __init__(self, key: PRNGKeyArray, *, rank: int = 2, width: int = 32, depth: int = 2,
                 length: float = 1.0, scale: float = 100.0):
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise ValueError(f"NeuralNonlocalPotential: rank must be an int >= 1, got {rank!r}")
        if not (length > 0 and scale > 0):
            raise ValueError(f"NeuralNonlocalPotential: length and scale must be > 0, got {length}, {scale}")
        k1, k2 = jax.random.split(key)
        self.mlp = eqx.nn.MLP("scalar", rank, width, depth, activation=jnp.tanh, key=k1)
        self.coeff = -jnp.ones(rank) / rank + 0.1 * jax.random.normal(k2, (rank,))
        self.length, self.scale = float(length), float(scale)

    def factors(self, r: Float[ArrayLike, "..."]) -> Float[Array, "... K"]:
        r"""$\phi_k(r)$, shape `r.shape + (K,)`."""
        x = jnp.asarray(r, dtype=float) / self.length
        flat = jax.vmap(self.mlp)(x.reshape(-1))
        return (flat * jnp.exp(-x.reshape(-1))[:, None]).reshape(*x.shape, -1)

    def __call__(self, r, rp):
        r, rp = jnp.broadcast_arrays(jnp.asarray(r, dtype=float), jnp.asarray(rp, dtype=float))
        return self.scale * jnp.sum(self.coeff * self.factors(r) * self.factors(rp), axis=-1)


class FormFactorCoulomb(AbstractPotential):
    r"""A strong potential plus the *short-range difference* between the Coulomb repulsion of two
    extended charges and that of point charges, to be used with the solvers' point Coulomb
    (`coulomb = Z1 Z2`), so that the total is the folded Coulomb potential of two dipole charge
    distributions ($G_E(q^2) = (1 + q^2/\Lambda^2)^{-2}$, $\langle r^2\rangle = 12/\Lambda^2$):

    $$ V(r) = V_s(r) + \frac{Z_1Z_2\,\alpha\hbar c}{r}\Big[\underbrace{1 - e^{-x}\big(1 + \tfrac{11}{16}x
       + \tfrac{3}{16}x^2 + \tfrac{1}{48}x^3\big)}_{\text{folded}} - \underbrace{1}_{\text{point}}\Big],
       \qquad x = \Lambda r = \sqrt{12}\,r/r_\text{ch}. $$

    The correction behaves as $-Z_1Z_2\alpha\hbar c/r$ at the origin (the folded potential is finite
    there) and vanishes exponentially beyond a few $r_\text{ch}$.

    **Fields:** `strong` the strong potential V_s(r) [MeV]; `z1z2` = $Z_1 Z_2$ (for
    $\Omega_{ccc}\Omega_{ccc}$: 4); `radius` $r_\text{ch}$ [fm], the r.m.s. charge radius (> 0).
    """

    strong: AbstractPotential
    z1z2: float = eqx.field(static=True)
    radius: float = eqx.field(static=True)

    def __check_init__(self):
        if not (np.isfinite(self.radius) and self.radius > 0):
            raise ValueError(f"FormFactorCoulomb: radius (r.m.s. charge radius) must be > 0 [fm], got {self.radius}")
        if not (np.isfinite(self.z1z2) and self.z1z2 >= 0):
            raise ValueError(f"FormFactorCoulomb: z1z2 must be >= 0, got {self.z1z2}")

    def __call__(self, r):
        r = jnp.asarray(r, dtype=float)
        x = np.sqrt(12.0) / self.radius * r
        poly = 1 + 11 * x / 16 + 3 * x**2 / 16 + x**3 / 48
        return self.strong(r) - self.z1z2 * ALPHA * HBARC * jnp.exp(-x) * poly / r
