r"""Local central potentials $V(r)$ [MeV] of the radial distance $r$ [fm], analytic and neural alike.

Every potential is an equinox Module and a callable `V(r) -> MeV`, elementwise over `r`; its
parameters are array fields (differentiable), its static choices `eqx.field(static=True)`. The
solvers in `dphys.scattering` accept any of them. A potential that is discontinuous (a square well)
or contains a delta shell declares its special radii with `discontinuities()`, so that the radial
integration restarts there and applies the exact matching condition instead of stepping over them.

Default parameters are the published ones (REFERENCES.md); the published scattering parameters
they should reproduce live in the tests, not here.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from dphys.constants import HBARC

__all__ = [
    "AbstractPotential",
    "DeltaShell",
    "GaussianSum",
    "HALQCDpOmega",
    "MalflietTjon",
    "NeuralPotential",
    "ReidSoftCore1S0",
    "SquareWell",
    "Yukawa",
]


def as_parameter(x: ArrayLike) -> Array | np.ndarray:
    """Parameters keep a traced or JAX value as it is and store Python/NumPy numbers as float64
    NumPy arrays, so that a potential built before float64 is enabled keeps its exact values."""
    if isinstance(x, jax.Array):
        return x
    return np.asarray(x, dtype=np.float64)


class AbstractPotential(eqx.Module):
    r"""A local central potential: `V(r)` in MeV at radial distance `r` in fm, elementwise.

    Subclasses implement `__call__`. The solvers integrate $u'' = [2\mu V(r)/(\hbar c)^2 + \ldots]u$
    from a small $r_0$ outwards, so `V` must be finite for $r > 0$, at most as singular as $1/r$ at the
    origin, and negligible beyond the matching radius.
    """

    @abc.abstractmethod
    def __call__(self, r: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
        """V(r) [MeV] at `r` [fm]."""

    def discontinuities(self) -> tuple[tuple[Array, Array], ...]:
        r"""Radii where $V$ is not smooth, as pairs `(b, lam)`: `b` [fm] the radius and `lam` [MeV fm]
        the strength of a delta shell $\lambda\,\delta(r - b)$ there (0 for a plain step of $V$). The
        solver restarts the integration at each `b` and applies $u'(b^+) = u'(b^-) + (2\mu\lambda/
        (\hbar c)^2) u(b)$. Empty for smooth potentials; the number of entries is static."""
        return ()


class GaussianSum(AbstractPotential):
    r"""$V(r) = \sum_j c_j \exp(-(r/d_j)^2)$.

    The defaults are the HAL QCD $\Omega\Omega$ $^1S_0$ potential (Gongyo et al., PRL 120 (2018)
    212001): $c = (914, 305, -112)$ MeV, $d = (0.143, 0.305, 0.949)$ fm, for $m_\Omega = 1711.5$ MeV.

    **Fields:** `c` [MeV], `d` [fm] (same length).
    """

    c: Float[Array, " n"] = eqx.field(converter=as_parameter, default=(914.0, 305.0, -112.0))
    d: Float[Array, " n"] = eqx.field(converter=as_parameter, default=(0.143, 0.305, 0.949))

    def __check_init__(self):
        if jnp.shape(self.c) != jnp.shape(self.d) or jnp.ndim(self.c) != 1:
            raise ValueError(f"GaussianSum: c and d must be 1D of equal length, got shapes "
                             f"{jnp.shape(self.c)} and {jnp.shape(self.d)}")

    def __call__(self, r):
        r = jnp.asarray(r)[..., None]
        return jnp.sum(self.c * jnp.exp(-((r / self.d) ** 2)), axis=-1)


class Yukawa(AbstractPotential):
    r"""A sum of Yukawa terms $V(r) = \sum_j c_j e^{-\mu_j r}/r$.

    **Fields:** `c` [MeV fm] (negative: attractive), `mu` [fm^-1] ranges (same length).
    """

    c: Float[Array, " n"] = eqx.field(converter=as_parameter)
    mu: Float[Array, " n"] = eqx.field(converter=as_parameter)

    def __check_init__(self):
        if jnp.shape(self.c) != jnp.shape(self.mu) or jnp.ndim(self.c) != 1:
            raise ValueError(f"Yukawa: c and mu must be 1D of equal length, got shapes "
                             f"{jnp.shape(self.c)} and {jnp.shape(self.mu)}")

    def __call__(self, r):
        r = jnp.asarray(r)
        return jnp.sum(self.c * jnp.exp(-self.mu * r[..., None]), axis=-1) / r


class ReidSoftCore1S0(AbstractPotential):
    r"""Reid soft-core $^1S_0$ nucleon-nucleon potential (Reid 1968), with $x = 0.7\,r$ [r in fm]:

    $$ V(r) = c_1 e^{-x}/x + c_2 e^{-4x}/x + c_3 e^{-7x}/x, $$

    $c = (-10.463, -1650.6, 6484.2)$ MeV by default. Use the nucleon-average mass
    ($\mu = m_N/2$, `dphys.constants.M_NUCLEON`).

    **Fields:** `c` [MeV] (three coefficients).
    """

    c: Float[Array, "3"] = eqx.field(converter=as_parameter, default=(-10.463, -1650.6, 6484.2))

    def __call__(self, r):
        x = 0.7 * jnp.asarray(r)[..., None]
        return jnp.sum(self.c * jnp.exp(-jnp.array([1.0, 4.0, 7.0]) * x), axis=-1) / x[..., 0]


class MalflietTjon(AbstractPotential):
    r"""Malfliet-Tjon potential $V(r) = c_1 e^{-\mu_1 r}/r + c_2 e^{-\mu_2 r}/r$ with
    $c_2 = 1438.72$ MeV fm, $\mu = (1.55, 3.11)$ fm^-1, and $c_1 = -513.968$ MeV fm ($^1S_0$, default)
    or $-626.885$ MeV fm ($^3S_1$, `MalflietTjon.triplet()`).

    **Fields:** `c` [MeV fm], `mu` [fm^-1] (two each).
    """

    c: Float[Array, "2"] = eqx.field(converter=as_parameter, default=(-513.968, 1438.72))
    mu: Float[Array, "2"] = eqx.field(converter=as_parameter, default=(1.55, 3.11))

    @classmethod
    def singlet(cls) -> MalflietTjon:
        """The $^1S_0$ parametrisation (MT-I/III singlet)."""
        return cls()

    @classmethod
    def triplet(cls) -> MalflietTjon:
        """The $^3S_1$ parametrisation (MT-I/III triplet), which binds the deuteron."""
        return cls(c=(-626.885, 1438.72))

    def __call__(self, r):
        r = jnp.asarray(r)
        return jnp.sum(self.c * jnp.exp(-self.mu * r[..., None]), axis=-1) / r


class HALQCDpOmega(AbstractPotential):
    r"""HAL QCD $p\Omega$ $^5S_2$ potential (t/a = 12):

    $$ V(r) = b_1 e^{-b_2 r^2} + b_3 (1 - e^{-b_4 r^2}) \left(e^{-m_\pi r/\hbar c}/r\right)^2, $$

    $b_1 = -313.0$ MeV, $b_2 = 81.7$ fm^-2, $b_3 = -252$ MeV fm^2, $b_4 = 0.85$ fm^-2,
    $m_\pi = 146$ MeV.

    **Fields:** `b1` [MeV], `b2` [fm^-2], `b3` [MeV fm^2], `b4` [fm^-2], `m_pi` [MeV].
    """

    b1: Float[Array, ""] = eqx.field(converter=as_parameter, default=-313.0)
    b2: Float[Array, ""] = eqx.field(converter=as_parameter, default=81.7)
    b3: Float[Array, ""] = eqx.field(converter=as_parameter, default=-252.0)
    b4: Float[Array, ""] = eqx.field(converter=as_parameter, default=0.85)
    m_pi: Float[Array, ""] = eqx.field(converter=as_parameter, default=146.0)

    def __call__(self, r):
        r = jnp.asarray(r)
        yukawa = jnp.exp(-self.m_pi / HBARC * r) / r
        return self.b1 * jnp.exp(-self.b2 * r**2) + self.b3 * -jnp.expm1(-self.b4 * r**2) * yukawa**2


class SquareWell(AbstractPotential):
    r"""$V(r) = V_0$ for $r < b$, 0 beyond ($V_0 < 0$: attractive well, $> 0$: barrier).

    **Fields:** `v0` [MeV] depth, `b` [fm] radius.
    """

    v0: Float[Array, ""] = eqx.field(converter=as_parameter)
    b: Float[Array, ""] = eqx.field(converter=as_parameter)

    def __call__(self, r):
        return jnp.where(jnp.asarray(r) < self.b, self.v0, 0.0)

    def discontinuities(self):
        return ((self.b, jnp.zeros_like(self.v0)),)


class DeltaShell(AbstractPotential):
    r"""A delta shell $V(r) = \lambda\,\delta(r - b)$, treated exactly by the matching condition
    $u'(b^+) - u'(b^-) = g\,u(b)$ with $g = 2\mu\lambda/(\hbar c)^2$ [fm^-1]. Its s-wave phase shift is
    $\tan\delta_0 = -g\sin^2(kb)/(k + g\sin kb\cos kb)$, scattering length $a = g b^2/(1 + g b)$
    (particle-physics sign; REFERENCES.md writes $V = (\hbar^2/2\mu)\,g\,\delta(r - b)$).

    `V(r)` itself returns 0 (the shell has no smooth part).

    **Fields:** `lam` [MeV fm] strength ($< 0$ attractive), `b` [fm] radius.
    """

    lam: Float[Array, ""] = eqx.field(converter=as_parameter)
    b: Float[Array, ""] = eqx.field(converter=as_parameter)

    def __call__(self, r):
        return jnp.zeros_like(jnp.asarray(r, dtype=float)) * self.lam

    def discontinuities(self):
        return ((self.b, self.lam),)


class NeuralPotential(AbstractPotential):
    r"""A neural potential $V(r) = s\, \mathrm{MLP}(r/R)\, e^{-r/R}$ (envelope `"exponential"`) or
    $s\, \mathrm{MLP}(r/R)\, e^{-(r/R)^2}$ (envelope `"gaussian"`): a smooth (tanh) multilayer
    perceptron of $r/R$ with one scalar output, finite at the origin and decaying at least like
    $e^{-r/R}$ (times a bounded function) at large $r$, with the same call signature as the
    analytic potentials.

    **Arguments:**

    - `key`: PRNG key of the initial weights.
    - `width`, `depth`: hidden width and number of hidden layers of the `eqx.nn.MLP`.
    - `length`: $R$ [fm], the length scale of input and envelope.
    - `scale`: $s$ [MeV], the output scale.
    - `envelope`: `"exponential"` or `"gaussian"`.
    """

    mlp: eqx.nn.MLP
    length: float = eqx.field(static=True)
    scale: float = eqx.field(static=True)
    envelope: str = eqx.field(static=True)

    def __init__(self, key: PRNGKeyArray, *, width: int = 32, depth: int = 2, length: float = 1.0,
                 scale: float = 100.0, envelope: str = "exponential"):
        if envelope not in ("exponential", "gaussian"):
            raise ValueError(f"NeuralPotential: envelope must be 'exponential' or 'gaussian', got {envelope!r}")
        if not (length > 0 and scale > 0):
            raise ValueError(f"NeuralPotential: length and scale must be > 0, got length={length}, scale={scale}")
        self.mlp = eqx.nn.MLP("scalar", "scalar", width, depth, activation=jnp.tanh, key=key)
        self.length, self.scale, self.envelope = float(length), float(scale), envelope

    def __call__(self, r):
        x = jnp.asarray(r, dtype=float) / self.length
        shape = jnp.exp(-x) if self.envelope == "exponential" else jnp.exp(-(x**2))
        net = jnp.vectorize(self.mlp)(x)
        return self.scale * net * shape
