r"""The Lednicky-Lyuboshitz model: the correlation function of a pair with a Gaussian source
$S(r) = (4\pi R^2)^{-3/2} e^{-r^2/4R^2}$ when the wave function outside the potential is the
asymptotic s wave with the effective-range amplitude (femtoscopy convention, $f_0 = -a$)

$$ f(k) = \Big(\frac{1}{f_0} + \frac{d_0 k^2}{2} - ik\Big)^{-1}. $$

Per spin channel $S$ with weight $\rho_S$ (Lednicky & Lyuboshitz, Sov. J. Nucl. Phys. 35 (1982) 770):

$$ \Delta C_S = \frac{|f|^2}{2R^2}\Big(1 - \frac{d_0}{2\sqrt\pi R}\Big)
   + \frac{2\,\mathrm{Re} f}{\sqrt\pi R} F_1(2kR) - \frac{\mathrm{Im} f}{R} F_2(2kR), $$

$F_1(z) = D(z)/z$ with $D$ the Dawson function, $F_2(z) = (1 - e^{-z^2})/z$.

- Distinguishable particles (`parity` 0): $C = 1 + \sum_S \rho_S \Delta C_S$.
- Identical particles: a spatially symmetric channel (`parity` +1, even $l$) has
  $|\psi(\mathbf r)+\psi(-\mathbf r)|^2/2$, which doubles the s-wave terms and adds the quantum
  statistics term: $1 + e^{-4k^2R^2} + 2\Delta C_S$; an antisymmetric one (`parity` -1) has no s
  wave: $1 - e^{-4k^2R^2}$. For pp: $\rho = (1/4, 3/4)$, parity $(+1, -1)$.
- Coulomb correction ($Z_1 Z_2 \ne 0$, $\eta = k_C/k$, $k_C = \alpha Z_1 Z_2\mu/\hbar c$): the
  amplitude becomes the Coulomb-modified
  $f_C = (1/f_0 + d_0k^2/2 - 2k_C h(\eta) - ik A_c(\eta))^{-1}$ with $h$ from
  `dphys.scattering.coulomb_h` and the Gamow factor $A_c = 2\pi\eta/(e^{2\pi\eta}-1)$, and the whole
  correlation is multiplied by $A_c(\eta)$ (the usual approximation; exact only when the source is
  small compared with the Bohr radius $1/k_C$ and large compared with the potential).

The formula is exact only outside the range of the potential, so that it agrees with a full
Koonin-Pratt calculation better as $R$ grows (tests/femto/test_lednicky.py).

**Accuracy of the Coulomb variant** (Gamow factor times C), measured against the exact Koonin-Pratt
pp correlation (`dphys.femto.correlation.pp_correlation`: Reid soft-core $^1S_0$ + Coulomb, Coulomb
waves summed to convergence) for a Gaussian source $R = 1.2$ fm, with the potential's own
Coulomb-modified scattering parameters ($f_0 = -a = 7.75$ fm, $d_0 = 2.73$ fm) in the singlet and a
Coulomb-only triplet: $|C_{LL}/C_{KP} - 1|$ is 2.5 % to 16 % for $10 \le k^* \le 300$ MeV/c
(+16 % at 10 MeV/c, +4 % at 20, -10 % at 50-75, -2.5 % at 300 MeV/c) and +24 % at 5 MeV/c
(tests/femto/test_lednicky.py asserts the range). It is a qualitative model for charged pairs at
femtoscopic radii, not a substitute for the Koonin-Pratt kernel.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from dphys.scattering.coulomb import coulomb_h, gamow_factor
from dphys.scattering.radial import coulomb_momentum

__all__ = ["lednicky_lyuboshitz", "scattering_amplitude"]


def scattering_amplitude(k: Float[ArrayLike, "..."], f0: Float[ArrayLike, "..."], d0: Float[ArrayLike, "..."],
                         kc: Float[ArrayLike, ""] = 0.0) -> Array:
    r"""The effective-range s-wave amplitude $f(k) = f_0/(1 + f_0 d_0k^2/2 - ikf_0)$ [fm]
    (femtoscopy convention; $f_0 = 0$ gives $f = 0$), or with $k_C \ne 0$ the Coulomb-modified
    $f_0/(1 + f_0(d_0k^2/2 - 2k_C h(\eta) - ikA_c(\eta)))$.

    **Arguments:** `k` [fm^-1]; `f0` [fm]; `d0` [fm]; `kc` $= \alpha Z_1Z_2\mu/\hbar c$ [fm^-1].

    **Returns:** the complex amplitude [fm], broadcast shape.
    """
    k, f0, d0, kc = (jnp.asarray(x, dtype=float) for x in (k, f0, d0, kc))
    charged = kc != 0
    eta = jnp.where(charged, kc / k, 1.0)
    ac = jnp.where(charged, gamow_factor(eta), 1.0)
    hterm = jnp.where(charged, 2 * kc * coulomb_h(eta), 0.0)
    return f0 / (1 + f0 * (d0 * k**2 / 2 - hterm) - 1j * k * ac * f0)


def _positive(name: str, what: str, x):
    if isinstance(x, jax.core.Tracer):
        return
    v = np.asarray(x, dtype=np.float64)
    if not (np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ValueError(f"{name}: {what} must be finite and > 0, got {v.tolist()}")


def lednicky_lyuboshitz(
    k: Float[ArrayLike, " nk"],
    radius: Float[ArrayLike, ""],
    f0: Float[ArrayLike, " nc"],
    d0: Float[ArrayLike, " nc"],
    weight: Float[ArrayLike, " nc"] = 1.0,
    coulomb: float = 0.0,
    mass: float | None = None,
    parity: int | ArrayLike = 0,
) -> Float[Array, " nk"]:
    r"""The Lednicky-Lyuboshitz correlation function (module docstring), summed over spin channels
    given as arrays (`f0`, `d0`, `weight`, `parity` broadcast against each other).

    **Arguments:**

    - `k`: momenta [fm^-1] (> 0), half the momentum difference in the pair frame.
    - `radius`: Gaussian source width $R$ [fm] (> 0).
    - `f0`: scattering length [fm], femtoscopy convention ($f_0 = -a$; 0: no interaction).
    - `d0`: effective range [fm].
    - `weight`: spin weights $\rho_S$ (summing to 1).
    - `coulomb`: $Z_1 Z_2$ (0: no Coulomb correction).
    - `mass`: the reduced mass [MeV], needed with Coulomb.
    - `parity`: 0 distinguishable; +1 / -1 spatially symmetric / antisymmetric channel of identical
      particles.

    **Returns:** $C(k)$, shaped like `k`.
    """
    name = "lednicky_lyuboshitz"
    _positive(name, "k [fm^-1]", k)
    _positive(name, "radius R [fm]", radius)
    if coulomb != 0:
        if mass is None:
            raise ValueError(f"{name}: mass (the reduced mass [MeV]) is needed with coulomb = {coulomb}")
        _positive(name, "mass [MeV]", mass)
    par = np.asarray(parity)
    if not np.all(np.isin(par, (-1, 0, 1))):
        raise ValueError(f"{name}: parity must be 0, +1 or -1, got {par.tolist()}")
    if not isinstance(weight, jax.core.Tracer):
        w = np.asarray(weight, dtype=np.float64)
        shape = np.broadcast_shapes(w.shape, np.shape(f0), par.shape)
        if not (np.all(w >= 0) and abs(np.sum(np.broadcast_to(w, shape)) - 1) < 1e-12):
            raise ValueError(f"{name}: weight must be >= 0 and sum to 1 over the channels, got {w.tolist()}")
    kc = 0.0 if coulomb == 0 else coulomb_momentum(mass, coulomb)
    return _ll(jnp.asarray(k, dtype=float), jnp.asarray(radius, dtype=float), jnp.asarray(f0, dtype=float),
               jnp.asarray(d0, dtype=float), jnp.asarray(weight, dtype=float), jnp.asarray(kc, dtype=float),
               jnp.asarray(par))


@jax.jit
def _ll(k, radius, f0, d0, weight, kc, parity):
    f0, d0, weight, parity = jnp.broadcast_arrays(*(jnp.atleast_1d(x) for x in (f0, d0, weight, parity)))
    kk = k[:, None]
    f = scattering_amplitude(kk, f0, d0, kc)
    z = 2 * kk * radius
    f1 = jax.scipy.special.dawsn(z) / z
    f2 = -jnp.expm1(-(z**2)) / z
    strong = (jnp.abs(f) ** 2 / (2 * radius**2) * (1 - d0 / (2 * jnp.sqrt(jnp.pi) * radius))
              + 2 * f.real * f1 / (jnp.sqrt(jnp.pi) * radius) - f.imag * f2 / radius)
    qs = jnp.exp(-4 * kk**2 * radius**2)
    channel = jnp.where(parity == 0, strong, jnp.where(parity == 1, qs + 2 * strong, -qs))
    c = 1 + jnp.sum(weight * channel, axis=-1)
    charged = kc != 0
    eta = jnp.where(charged, kc / k, 1.0)
    return jnp.where(charged, gamow_factor(eta), 1.0) * c
