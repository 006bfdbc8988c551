r"""Emission sources $S(r)$ [fm^-3] of femtoscopy: the probability density of the pair's relative
distance $r$ [fm] in the pair rest frame, radially symmetric and normalised,

$$ \int d^3r\, S(r) = \int_0^\infty 4\pi r^2 S(r)\, dr = 1. $$

Every source is an equinox Module and a callable `S(r) -> fm^-3`, elementwise over `r`; parameters are
array fields (differentiable), static choices `eqx.field(static=True)`. Analytic sources are
normalised in closed form; the `NeuralSource` divides by its integral computed on a quadrature grid
(`radial_integral`), so it is normalised by construction for any weights.

Conventions: the Gaussian source has the *single-particle* width $R$,
$S(r) = (4\pi R^2)^{-3/2} e^{-r^2/4R^2}$ (each Cartesian component of the relative distance has
variance $2R^2$); with $k$ half the momentum difference in the pair frame the free identical-boson
correlation is then $1 + e^{-4k^2R^2}$.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

__all__ = [
    "AbstractSource",
    "CauchySource",
    "CoreTailSource",
    "DoubleGaussianSource",
    "GaussianSource",
    "NeuralSource",
    "check_source",
    "radial_integral",
]

_N_NORM = 96  # Gauss-Legendre nodes of the mapped quadrature used for normalisation integrals


def _param(x: ArrayLike) -> Array | np.ndarray:
    """Keep traced/JAX values as they are; store Python/NumPy numbers as float64 NumPy arrays."""
    if isinstance(x, jax.Array):
        return x
    return np.asarray(x, dtype=np.float64)


def _concrete(x) -> np.ndarray | None:
    """The value of a parameter if it is concrete (not traced), else None."""
    if isinstance(x, jax.core.Tracer):
        return None
    try:
        return np.asarray(x, dtype=np.float64)
    except Exception:  # noqa: BLE001 - abstract values (e.g. eval_shape)
        return None


def _check(cls: str, name: str, value, lo: float, hi: float | None = None, *, closed: bool = False) -> None:
    """ValueError unless every concrete entry of `value` is finite and > lo (>= lo if closed), <= hi."""
    v = _concrete(value)
    if v is None:
        return
    ok = np.all(np.isfinite(v)) and (np.all(v >= lo) if closed else np.all(v > lo))
    if hi is not None:
        ok = ok and np.all(v <= hi)
    if not ok:
        bound = f"{'>=' if closed else '>'} {lo}" + ("" if hi is None else f" and <= {hi}")
        raise ValueError(f"{cls}: {name} must be finite and {bound}, got {v.tolist()}")


def _gauss(r: Array, radius: Array) -> Array:
    return (4 * jnp.pi * radius**2) ** -1.5 * jnp.exp(-(r**2) / (4 * radius**2))


def radial_integral(fn: Callable, scale: float = 2.0, n: int = _N_NORM) -> Float[Array, ""]:
    r"""$\int_0^\infty 4\pi r^2 f(r)\, dr$ by Gauss-Legendre quadrature in the mapped variable
    $x = r/(r + s) \in [0, 1)$, $r = s\,x/(1-x)$, $dr = s\,dx/(1-x)^2$: exact for smooth integrands
    that fall off like a power $r^{-4}$ or faster, and for exponential or Gaussian fall-off on the
    scale `s`.

    **Arguments:** `fn` elementwise $f(r)$ [r in fm]; `scale` $s$ [fm]; `n` number of nodes.

    **Returns:** the integral (units of $f$ times fm^3).
    """
    x, w = np.polynomial.legendre.leggauss(n)
    x, w = (x + 1) / 2, w / 2
    r = scale * x / (1 - x)
    jac = scale / (1 - x) ** 2
    return jnp.sum(w * jac * 4 * jnp.pi * r**2 * fn(jnp.asarray(r)))


class AbstractSource(eqx.Module):
    r"""A radially symmetric, normalised source: `S(r)` [fm^-3] at relative distance `r` [fm],
    elementwise, with $\int 4\pi r^2 S\, dr = 1$. Subclasses implement `__call__`; `scale` is a length
    [fm] of the source used to place quadrature points (`radial_integral`, `check_source`)."""

    @abc.abstractmethod
    def __call__(self, r: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
        """S(r) [fm^-3] at `r` [fm]."""

    def scale(self) -> Float[ArrayLike, ""]:
        """A typical length of the source [fm] (for quadrature grids)."""
        return 2.0


class GaussianSource(AbstractSource):
    r"""$S(r) = (4\pi R^2)^{-3/2} \exp(-r^2/4R^2)$, with $R$ the single-particle source width.

    **Fields:** `radius` $R$ [fm] (> 0).
    """

    radius: Float[Array, ""] = eqx.field(converter=_param)

    def __check_init__(self):
        _check("GaussianSource", "radius R [fm]", self.radius, 0.0)

    def __call__(self, r):
        return _gauss(jnp.asarray(r), self.radius)

    def scale(self):
        return 2 * self.radius


class CauchySource(AbstractSource):
    r"""The three-dimensional Cauchy (Lorentzian) source
    $S(r) = R / (\pi^2 (r^2 + R^2)^2)$, with a long power-law tail $r^2 S \sim r^{-2}$
    (so a fraction $\approx 4R/(\pi r_\text{max})$ of the pairs lies beyond $r_\text{max}$).

    **Fields:** `radius` $R$ [fm] (> 0).
    """

    radius: Float[Array, ""] = eqx.field(converter=_param)

    def __check_init__(self):
        _check("CauchySource", "radius R [fm]", self.radius, 0.0)

    def __call__(self, r):
        r = jnp.asarray(r)
        return self.radius / (jnp.pi**2 * (r**2 + self.radius**2) ** 2)

    def scale(self):
        return self.radius


class DoubleGaussianSource(AbstractSource):
    r"""$S(r) = w\, G_{R_1}(r) + (1 - w)\, G_{R_2}(r)$, a mixture of two Gaussian sources
    $G_R = (4\pi R^2)^{-3/2} e^{-r^2/4R^2}$.

    **Fields:** `radius1`, `radius2` $R_{1,2}$ [fm] (> 0); `weight` $w \in [0, 1]$.
    """

    radius1: Float[Array, ""] = eqx.field(converter=_param)
    radius2: Float[Array, ""] = eqx.field(converter=_param)
    weight: Float[Array, ""] = eqx.field(converter=_param)

    def __check_init__(self):
        _check("DoubleGaussianSource", "radius1 [fm]", self.radius1, 0.0)
        _check("DoubleGaussianSource", "radius2 [fm]", self.radius2, 0.0)
        _check("DoubleGaussianSource", "weight", self.weight, 0.0, 1.0, closed=True)

    def __call__(self, r):
        r = jnp.asarray(r)
        return self.weight * _gauss(r, self.radius1) + (1 - self.weight) * _gauss(r, self.radius2)

    def scale(self):
        return 2 * jnp.maximum(self.radius1, self.radius2)


class CoreTailSource(AbstractSource):
    r"""A Gaussian core plus an exponential tail, the shape that strongly decaying resonances give
    (a pair member emitted a distance $\sim c\tau$ away from the core):

    $$ S(r) = (1 - \lambda)\,(4\pi R^2)^{-3/2} e^{-r^2/4R^2} + \lambda\, \frac{e^{-r/\ell}}{8\pi\ell^3}, $$

    both parts normalised to 1 separately.

    **Fields:** `radius` $R$ [fm] (> 0), `tail_length` $\ell$ [fm] (> 0), `tail_fraction`
    $\lambda \in [0, 1]$.
    """

    radius: Float[Array, ""] = eqx.field(converter=_param)
    tail_length: Float[Array, ""] = eqx.field(converter=_param)
    tail_fraction: Float[Array, ""] = eqx.field(converter=_param)

    def __check_init__(self):
        _check("CoreTailSource", "radius R [fm]", self.radius, 0.0)
        _check("CoreTailSource", "tail_length [fm]", self.tail_length, 0.0)
        _check("CoreTailSource", "tail_fraction", self.tail_fraction, 0.0, 1.0, closed=True)

    def __call__(self, r):
        r = jnp.asarray(r)
        tail = jnp.exp(-r / self.tail_length) / (8 * jnp.pi * self.tail_length**3)
        return (1 - self.tail_fraction) * _gauss(r, self.radius) + self.tail_fraction * tail

    def scale(self):
        return 2 * jnp.maximum(self.radius, self.tail_length)


class NeuralSource(AbstractSource):
    r"""A neural source of any radial shape, positive and normalised by construction:

    $$ S(r) = \frac{g(r)}{\int_0^\infty 4\pi r'^2 g(r')\,dr'}, \qquad
       g(r) = \mathrm{softplus}\big(\mathrm{MLP}(x)\big)\, \frac{1}{(1 + (r/s)^2)^2},
       \quad x = \frac{r}{r + s} \in [0, 1), $$

    a smooth (tanh) MLP of the mapped variable $x$, so that the network sees a bounded input over
    all $r$; the softplus makes $g > 0$, and the envelope makes $g$ integrable whatever the weights
    (tails as long as $r^{-4}$, like the Cauchy source, or as short as the network makes them).
    The normalisation integral is computed on every call by Gauss-Legendre quadrature in $x$
    (`radial_integral` with scale $s$, `n_quad` nodes; the integrand is smooth in $x$), never
    assumed, and is differentiable in the weights.

    **Arguments:**

    - `key`: PRNG key of the initial weights.
    - `width`, `depth`: hidden width and number of hidden layers of the `eqx.nn.MLP`.
    - `r_scale`: $s$ [fm] (> 0), the length scale of the mapping and the envelope.
    - `n_quad`: quadrature nodes of the normalisation integral.
    - `cutoff`: optional length $\ell_c$ [fm] (> 0) of an extra factor $e^{-r/\ell_c}$ in $g$: a
      prior that the source has no weight far beyond what the data resolve (without it the
      $r^{-4}$ envelope lets the network park pairs at tens of fm, where $C(k)$ cannot see them).
    - `init_scale`: factor on the initial weights (> 1 broadens the prior over source shapes).
    """

    mlp: eqx.nn.MLP
    r_scale: float = eqx.field(static=True)
    n_quad: int = eqx.field(static=True)
    cutoff: float | None = eqx.field(static=True)

    def __init__(self, key: PRNGKeyArray, *, width: int = 16, depth: int = 2, r_scale: float = 2.0,
                 n_quad: int = _N_NORM, cutoff: float | None = None, init_scale: float = 1.0):
        for what, value in (("r_scale", r_scale), ("cutoff", cutoff), ("init_scale", init_scale)):
            if value is not None and not (np.isfinite(value) and value > 0):
                raise ValueError(f"NeuralSource: {what} must be finite and > 0, got {value}")
        if width < 1 or depth < 0 or n_quad < 8:
            raise ValueError(f"NeuralSource: need width >= 1, depth >= 0, n_quad >= 8, got "
                             f"width={width}, depth={depth}, n_quad={n_quad}")
        mlp = eqx.nn.MLP("scalar", "scalar", width, depth, activation=jnp.tanh, key=key)
        self.mlp = jax.tree.map(lambda x: x * init_scale if eqx.is_inexact_array(x) else x, mlp)
        self.r_scale, self.n_quad = float(r_scale), int(n_quad)
        self.cutoff = None if cutoff is None else float(cutoff)

    def unnormalised(self, r: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
        """$g(r)$ (arbitrary units), positive."""
        r = jnp.asarray(r, dtype=float)
        x = r / (r + self.r_scale)
        envelope = 1 / (1 + (r / self.r_scale) ** 2) ** 2
        if self.cutoff is not None:
            envelope = envelope * jnp.exp(-r / self.cutoff)
        return jax.nn.softplus(jnp.vectorize(self.mlp)(x)) * envelope

    def norm(self) -> Float[Array, ""]:
        r"""$\int 4\pi r^2 g(r)\,dr$ on the quadrature grid [units of g times fm^3]."""
        return radial_integral(self.unnormalised, self.r_scale, self.n_quad)

    def __call__(self, r):
        return self.unnormalised(r) / self.norm()

    def scale(self):
        return self.r_scale


@eqx.filter_jit
def _evaluate(source, r):
    return source(r)


@eqx.filter_jit
def _integral(source, scale, n):
    return radial_integral(source, scale, n)


def check_source(source: Callable, *, scale: float | None = None, rtol: float = 1e-3) -> None:
    r"""Check that `source` is a valid source: finite and non-negative on a grid out to $10^4$ fm,
    and normalised, $|\int 4\pi r^2 S\,dr - 1| \le$ `rtol` (quadrature of `radial_integral` with
    two different node counts, which must agree: a source that is not normalisable, such as
    $S \propto r^{-3}$, makes them disagree or diverge).

    **Arguments:** `source` a callable `S(r) -> fm^-3`; `scale` [fm] the source's length scale
    (default `source.scale()` or 2 fm); `rtol` tolerance on the normalisation.

    **Returns:** None; raises `ValueError` naming the offending value.
    """
    if not callable(source):
        raise ValueError(f"check_source: the source must be a callable S(r) -> fm^-3, got {source!r}")
    if scale is None:
        scale = float(source.scale()) if isinstance(source, AbstractSource) else 2.0
    with jax.enable_x64(True):
        r = np.concatenate([[0.0], np.geomspace(1e-3, 1e4, 400)])
        values = np.asarray(_evaluate(source, jnp.asarray(r)), dtype=np.float64)
        bad = ~np.isfinite(values)
        if np.any(bad):
            i = int(np.argmax(bad))
            raise ValueError(f"check_source: S(r) must be finite, got S({r[i]:.4g} fm) = {values[i]}")
        if np.any(values < 0):
            i = int(np.argmin(values))
            raise ValueError(f"check_source: S(r) must be >= 0, got S({r[i]:.4g} fm) = {values[i]:.4g} fm^-3")
        norms = [float(_integral(source, scale, n)) for n in (_N_NORM, 2 * _N_NORM)]
    tail = r[-1] ** 3 * values[-1] * 4 * np.pi
    if not (np.all(np.isfinite(norms)) and abs(norms[1] - norms[0]) <= rtol and tail <= rtol):
        raise ValueError(
            f"check_source: S(r) is not normalisable: the integral of 4 pi r^2 S(r) does not converge "
            f"(quadrature with {_N_NORM} and {2 * _N_NORM} nodes gives {norms[0]:.6g} and {norms[1]:.6g}; "
            f"4 pi r^3 S(r) at r = 1e4 fm is {tail:.3g})"
        )
    if abs(norms[1] - 1) > rtol:
        raise ValueError(f"check_source: S(r) must be normalised to 1 (integral of 4 pi r^2 S(r) dr), "
                         f"got {norms[1]:.8g}")
