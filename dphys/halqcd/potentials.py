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
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from dphys.scattering.non_local import AbstractNonlocalPotential
from dphys.scattering.potentials import AbstractPotential, GaussianSum

__all__ = ["M_OMEGA_CCC", "NeuralNonlocalPotential", "TabulatedPotential", "omega_ccc", "omega_omega"]

M_OMEGA_CCC = 4796.0  # [MeV] lattice Omega_ccc mass, about (Lyu et al. PRL 127 (2021) 072003)

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
