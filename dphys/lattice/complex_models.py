r"""Holomorphic actions $S(z)$ of complex variables, for complex Langevin, with exact references.

A complex action makes $e^{-S}$ a complex weight: expectation values
$\langle O \rangle = \int dx\, O(x)\, e^{-S(x)} / \int dx\, e^{-S(x)}$ over *real* $x$ are
well defined (when $e^{-S}$ decays along the real axis) but cannot be sampled directly. Complex
Langevin (`dphys.lattice.complex_langevin`) samples a real distribution $P(x, y)$ of
$z = x + iy$ instead. The models here are equinox Modules `S(z) -> complex scalar`, holomorphic in
every element of `z` (so that $S'(z)$ is a complex derivative), and each carries its exact
references:

- `GaussianAction`: $S = \sigma z^2/2$; moments and the whole CL distribution in closed form, also
  for the Euler discretisation at a finite step.
- `QuarticAction`: $S = \sigma z^2/2 + \lambda z^4/4$; moments by quadrature along the real axis.
- `AnharmonicChainAction`: $N$ complex anharmonic oscillators on a periodic imaginary-time lattice;
  for $\lambda = 0$ a lattice Gaussian solved exactly mode by mode; any $\lambda$ by a transfer
  matrix on a real-axis grid.

Couplings are dimensionless complex numbers (Python numbers or scalar arrays). The exact
references are NumPy float64/complex128 functions of concrete couplings; the actions themselves
are JAX functions that follow the dtype of `z` (complex64 or complex128).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float, Inexact

__all__ = [
    "AnharmonicChainAction",
    "GaussianAction",
    "QuarticAction",
    "gaussian_mode_covariances",
]

ComplexLike = complex | Inexact[ArrayLike, ""]


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------


def _concrete_complex(value: ComplexLike) -> complex | None:
    """`value` as a Python complex, or None when it is traced (checks then happen at run time)."""
    if isinstance(value, jax.core.Tracer):
        return None
    array = np.asarray(value)
    if array.shape != ():
        raise ValueError(f"a coupling must be a scalar, got shape {array.shape}: {value!r}")
    return complex(array)


def _require(name: str, value: ComplexLike) -> complex:
    """A concrete coupling for an exact reference (NumPy); a clear error when it is traced."""
    out = _concrete_complex(value)
    if out is None:
        raise ValueError(f"{name} must be concrete (not traced) to compute an exact reference")
    return out


def _check_finite(name: str, value: complex | None) -> None:
    if value is not None and not (math.isfinite(value.real) and math.isfinite(value.imag)):
        raise ValueError(f"{name}={value} must be finite")


def _check_decay(cls: str, sigma: complex | None, lam: complex | None, *, gaussian_allowed: bool) -> None:
    r"""$e^{-S}$ must decay along the real axis: Re lam > 0 (or lam = 0 and Re sigma > 0)."""
    _check_finite("sigma", sigma)
    _check_finite("lam", lam)
    if lam is None or sigma is None:
        return
    if gaussian_allowed and lam == 0:
        if sigma.real <= 0:
            raise ValueError(
                f"{cls}: with lam=0 the weight exp(-sigma x^2/2) needs Re sigma > 0, got sigma={sigma}: "
                "the integral diverges"
            )
        return
    if lam.real <= 0:
        expected = "Re lam > 0 (or lam = 0 with Re sigma > 0)" if gaussian_allowed else "Re lam > 0"
        raise ValueError(
            f"{cls}: lam={lam} gives a weight exp(-lam x^4/4) that does not decay along the real axis; "
            f"expected {expected}"
        )


def _double_factorial(n: int) -> int:
    return math.prod(range(n, 0, -2))


def _check_order(max_order: int) -> int:
    if isinstance(max_order, bool) or not isinstance(max_order, (int, np.integer)) or max_order < 1:
        raise ValueError(f"max_order={max_order!r}: expected an integer >= 1")
    return int(max_order)


def _gaussian_moments(propagator: complex, max_order: int) -> np.ndarray:
    r"""Wick's theorem: $\langle z^n\rangle = (n-1)!!\, G^{n/2}$ for even n, 0 for odd n."""
    n = np.arange(1, _check_order(max_order) + 1)
    return np.array([_double_factorial(k - 1) * propagator ** (k // 2) if k % 2 == 0 else 0.0 for k in n],
                    dtype=np.complex128)


def _check_dt(dt: float) -> float:
    dt = float(dt)
    if not (math.isfinite(dt) and dt >= 0):
        raise ValueError(f"dt={dt}: expected a finite step >= 0 (0: the continuous-time limit)")
    return dt


# ---------------------------------------------------------------------------
# Gaussian modes: the exact CL distribution of a linear drift
# ---------------------------------------------------------------------------


def gaussian_mode_covariances(mu: ArrayLike, dt: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    r"""Stationary second moments of complex Langevin for one Gaussian mode $S = \mu w^2/2$.

    With real noise, $w_{n+1} = (1 - \epsilon\mu) w_n + \sqrt{2\epsilon}\,\eta_n$ (Euler, step
    $\epsilon$ = `dt`) has the stationary moments (from $u = \rho^2 u + 2\epsilon$ and
    $v = |\rho|^2 v + 2\epsilon$ with $\rho = 1 - \epsilon\mu$)

    $$ u = \langle w^2\rangle = \frac{1}{\mu(1 - \epsilon\mu/2)}, \qquad
       v = \langle |w|^2\rangle = \frac{1}{\mathrm{Re}\,\mu - \epsilon|\mu|^2/2}, $$

    and $dt = 0$ gives the continuous-time process: $u = 1/\mu$, the exact path-integral value,
    and $v = 1/\mathrm{Re}\,\mu$. Then $\langle x^2\rangle = (v + \mathrm{Re}\,u)/2$,
    $\langle y^2\rangle = (v - \mathrm{Re}\,u)/2$, $\langle xy\rangle = \mathrm{Im}\,u/2$. The
    distribution exists iff $v > 0$ (for the Euler scheme: $|1 - \epsilon\mu| < 1$).

    **Arguments:** `mu` complex mode coefficient(s) (any shape); `dt` the Euler step (>= 0).

    **Returns:** `(u, v)`: complex128 and float64 arrays shaped like `mu`.
    """
    mu = np.asarray(mu, dtype=np.complex128)
    dt = _check_dt(dt)
    denominator = mu.real - dt * np.abs(mu) ** 2 / 2
    if np.any(denominator <= 0):
        bad = mu[denominator <= 0].ravel()[0]
        raise ValueError(
            f"no stationary distribution for the mode mu={bad} at dt={dt}: expected Re mu > 0 and "
            f"|1 - dt mu| < 1 (dt < 2 Re mu / |mu|^2 = {2 * bad.real / abs(bad) ** 2:.4g})"
        )
    return 1 / (mu * (1 - dt * mu / 2)), 1 / denominator


def _site_covariance(mu: np.ndarray, dt: float) -> np.ndarray:
    """[[<x^2>, <xy>], [<xy>, <y^2>]] at one site, averaged over the modes (translation invariance)."""
    u, v = gaussian_mode_covariances(mu, dt)
    xx, yy, xy = np.mean((v + u.real) / 2), np.mean((v - u.real) / 2), np.mean(u.imag / 2)
    return np.array([[xx, xy], [xy, yy]])


def _gaussian_density(covariance: np.ndarray, x: ArrayLike, y: ArrayLike) -> np.ndarray:
    x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
    points = np.stack([x, y], axis=-1)
    inverse = np.linalg.inv(covariance)
    quadratic = np.einsum("...i,ij,...j->...", points, inverse, points)
    return np.exp(-quadratic / 2) / (2 * np.pi * np.sqrt(np.linalg.det(covariance)))


# ---------------------------------------------------------------------------
# quadrature on the real axis
# ---------------------------------------------------------------------------


def _polynomial_potential(sigma: complex, lam: complex):
    return lambda x: sigma * x**2 / 2 + lam * x**4 / 4


def _half_width(re_potential, cutoff: float) -> float:
    """The half-width L beyond which Re V(x) - min Re V > cutoff (V even, growing at large |x|)."""
    probe = np.linspace(0.0, 1.0, 4097)
    half = 1.0
    while True:
        values = re_potential(probe * half)
        excess = values - values.min() > cutoff
        if excess[-1]:
            inside = np.flatnonzero(~excess)[-1]  # the last point within the cutoff
            return float(probe[inside + 1] * half)
        if half > 1e6:
            raise ValueError("the weight exp(-S) does not decay along the real axis")
        half *= 2


def _scaled_power(matrix: np.ndarray, n: int) -> np.ndarray:
    """matrix^n up to a positive factor (binary powering, rescaled after every product so that
    nothing overflows); ratios such as Tr(X T^n)/Tr(T^n) do not depend on the factor."""
    scale = lambda m: m / np.abs(m).max()
    result, power = None, scale(matrix)
    while n:
        if n & 1:
            result = power if result is None else scale(result @ power)
        n >>= 1
        if n:
            power = scale(power @ power)
    return result


# ---------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------


class GaussianAction(eqx.Module):
    r"""$S(z) = \sigma z^2/2$, summed over the elements of `z` (independent copies).

    Exact results for $\sigma = A + iB$, $A > 0$: $\langle z^n\rangle = (n-1)!!/\sigma^{n/2}$
    (n even; 0 for odd n), and complex Langevin with real noise is an Ornstein-Uhlenbeck process
    whose stationary distribution is a 2D Gaussian in $(x, y)$ with
    $\langle x^2\rangle = (2A^2 + B^2)/(2A|\sigma|^2)$, $\langle y^2\rangle = B^2/(2A|\sigma|^2)$,
    $\langle xy\rangle = -B/(2|\sigma|^2)$ (see `gaussian_mode_covariances`, also for a finite
    Euler step).

    **Arguments:** `sigma` (complex, Re sigma > 0; otherwise `ValueError`: the integral diverges).
    """

    sigma: ComplexLike = 1.0 + 1.0j

    def __check_init__(self):
        sigma = _concrete_complex(self.sigma)
        _check_finite("sigma", sigma)
        if sigma is not None and sigma.real <= 0:
            raise ValueError(
                f"GaussianAction: sigma={sigma} has Re sigma <= 0: the integral of exp(-sigma x^2/2) "
                "diverges; expected Re sigma > 0"
            )

    def __call__(self, z: Complex[Array, "..."]) -> Complex[Array, ""]:
        return jnp.sum(self.sigma * z**2 / 2)

    def moments(self, max_order: int = 6) -> np.ndarray:
        r"""Exact $\langle z^n\rangle$, n = 1..`max_order` (complex128; entry n-1 is $\langle z^n\rangle$)."""
        return _gaussian_moments(1 / _require("sigma", self.sigma), max_order)

    def cl_covariance(self, dt: float = 0.0) -> Float[np.ndarray, "2 2"]:
        r"""Covariance $[[\langle x^2\rangle, \langle xy\rangle], [\langle xy\rangle, \langle y^2\rangle]]$
        of the CL stationary distribution (mean zero): continuous time for `dt = 0`, else the exact
        stationary covariance of the Euler scheme with step `dt`."""
        return _site_covariance(np.asarray([_require("sigma", self.sigma)]), dt)

    def cl_density(self, x: ArrayLike, y: ArrayLike, dt: float = 0.0) -> np.ndarray:
        r"""The CL stationary density of one element,
        $P(x, y) = \exp(-\tfrac12 v^T C^{-1} v) / (2\pi\sqrt{\det C})$, $v = (x, y)$,
        $C$ = `cl_covariance(dt)`; normalised, $\int P\, dx\, dy = 1$."""
        return _gaussian_density(self.cl_covariance(dt), x, y)


class QuarticAction(eqx.Module):
    r"""$S(z) = \sigma z^2/2 + \lambda z^4/4$, summed over the elements of `z`.

    The reference moments come from quadrature along the real axis (`moments`). At
    $\sigma = 1 + i$, $\lambda = 1$: $\langle z^2\rangle = 0.428142 - 0.148010i$,
    $\langle z^4\rangle = 0.423848 - 0.280132i$.

    **Arguments:** `sigma` (complex), `lam` (complex, Re lam > 0 so that $e^{-S}$ decays along the
    real axis; otherwise `ValueError`).
    """

    sigma: ComplexLike = 1.0 + 1.0j
    lam: ComplexLike = 1.0

    def __check_init__(self):
        _check_decay("QuarticAction", _concrete_complex(self.sigma), _concrete_complex(self.lam),
                     gaussian_allowed=False)

    def __call__(self, z: Complex[Array, "..."]) -> Complex[Array, ""]:
        return jnp.sum(self.sigma * z**2 / 2 + self.lam * z**4 / 4)

    def moments(self, max_order: int = 6, *, cutoff: float = 60.0, n_points: int = 2**14 + 1) -> np.ndarray:
        r"""Exact $\langle z^n\rangle = \int x^n e^{-S(x)} dx / \int e^{-S(x)} dx$ over the real axis,
        n = 1..`max_order`, by the trapezoidal rule on $[-L, L]$ where
        $\mathrm{Re}\,S(L) - \min \mathrm{Re}\,S$ > `cutoff` (neglected weight below
        $e^{-\text{cutoff}}$). The integrand is entire and decays like $e^{-\lambda x^4/4}$, so the
        rule converges exponentially in `n_points` (complex128, about 1e-13 relative by default).

        **Returns:** complex128 array, entry n-1 is $\langle z^n\rangle$.
        """
        max_order = _check_order(max_order)
        potential = _polynomial_potential(_require("sigma", self.sigma), _require("lam", self.lam))
        half = _half_width(lambda x: potential(x).real, cutoff)
        x = np.linspace(-half, half, n_points)
        s = potential(x)
        weight = np.exp(-(s - s.real.min()))
        powers = x[None, :] ** np.arange(1, max_order + 1)[:, None]
        return (powers * weight).sum(axis=1) / weight.sum()


class AnharmonicChainAction(eqx.Module):
    r"""Complex anharmonic oscillators on a periodic imaginary-time lattice (0+1 dimensions):

    $$ S(z) = \sum_{i=0}^{N-1} \left[\frac{(z_{i+1} - z_i)^2}{2a}
             + a\left(\frac{\sigma z_i^2}{2} + \frac{\lambda z_i^4}{4}\right)\right], \quad z_N = z_0, $$

    on `z` of shape `(n_sites,)`, with lattice spacing $a$ (so inverse temperature $\beta = N a$).

    **Exact references.**

    - $\lambda = 0$: $S = z^T M z/2$ with the complex symmetric matrix $M = L/a + a\sigma$,
      $L = 2 - P - P^T$ the periodic lattice Laplacian ($P$ the shift). For real $\sigma > 0$,
      $\langle z_i z_j\rangle = (M^{-1})_{ij}$; both sides are analytic in $\sigma$ for
      $\mathrm{Re}\,\sigma > 0$ (there $\mathrm{Re}\,M$ is positive definite, the integral converges
      and $M$ is invertible), so the identity holds for complex $\sigma$ by analytic continuation.
      $M$ is circulant: in Fourier modes $p_k = 2\pi k/N$ its eigenvalues are
      $\mu_k = (2 - 2\cos p_k)/a + a\sigma$, and
      $G(t) = \langle z_i z_{i+t}\rangle = \frac1N\sum_k \cos(p_k t)/\mu_k
      = a\cosh(\theta(N/2 - t)) / (2\sinh\theta\,\sinh(N\theta/2))$ with
      $\cosh\theta = 1 + a^2\sigma/2$ (`propagator`). Each mode evolves independently under CL with
      real noise, so `cl_covariance` follows from `gaussian_mode_covariances`.
    - any $\lambda$: the transfer matrix $T(x, x') = h\, e^{-(x-x')^2/(2a) - a(V(x) + V(x'))/2}$,
      $V = \sigma x^2/2 + \lambda x^4/4$, on a uniform real grid of spacing $h$ gives
      $\langle z_0^n\rangle = \mathrm{Tr}(X^n T^N)/\mathrm{Tr}\,T^N$ (trapezoidal rule in every
      variable, exponentially convergent; `moments(method="transfer")`).

    **Arguments:** `sigma` (complex), `lam` (complex; Re lam > 0, or lam = 0 with Re sigma > 0),
    `a` lattice spacing (> 0, real), `n_sites` N (static int >= 1).
    """

    sigma: ComplexLike = 1.0 + 1.0j
    lam: ComplexLike = 1.0
    a: Float[ArrayLike, ""] = 0.5
    n_sites: int = eqx.field(static=True, default=16)

    def __check_init__(self):
        _check_decay("AnharmonicChainAction", _concrete_complex(self.sigma), _concrete_complex(self.lam),
                     gaussian_allowed=True)
        if isinstance(self.n_sites, bool) or not isinstance(self.n_sites, (int, np.integer)) or self.n_sites < 1:
            raise ValueError(f"AnharmonicChainAction: n_sites={self.n_sites!r}: expected an integer >= 1")
        a = _concrete_complex(self.a)
        if a is not None and not (a.imag == 0 and math.isfinite(a.real) and a.real > 0):
            raise ValueError(f"AnharmonicChainAction: a={self.a!r}: expected a real lattice spacing > 0")

    def __call__(self, z: Complex[Array, " n_sites"]) -> Complex[Array, ""]:
        if jnp.shape(z) != (self.n_sites,):
            raise ValueError(
                f"AnharmonicChainAction: z has shape {jnp.shape(z)}, expected ({self.n_sites},) (n_sites)"
            )
        hop = jnp.roll(z, -1) - z
        return jnp.sum(hop**2 / (2 * self.a) + self.a * (self.sigma * z**2 / 2 + self.lam * z**4 / 4))

    # --- lambda = 0 ---------------------------------------------------------------

    def _couplings(self) -> tuple[complex, complex, float]:
        return _require("sigma", self.sigma), _require("lam", self.lam), _require("a", self.a).real

    def _gaussian_couplings(self, what: str) -> tuple[complex, float]:
        sigma, lam, a = self._couplings()
        if lam != 0:
            raise ValueError(f"{what} is exact only for the Gaussian chain lam=0, got lam={lam}")
        return sigma, a

    def gaussian_matrix(self) -> Complex[np.ndarray, "n_sites n_sites"]:
        r"""$M = L/a + a\sigma$ with $S = z^T M z/2$ at $\lambda = 0$ (complex128, symmetric)."""
        sigma, _, a = self._couplings()
        n = self.n_sites
        shift = np.roll(np.eye(n), 1, axis=1)
        laplacian = 2 * np.eye(n) - shift - shift.T
        return laplacian / a + a * sigma * np.eye(n)

    def _modes(self) -> np.ndarray:
        sigma, a = self._gaussian_couplings("the mode expansion")
        p = 2 * np.pi * np.arange(self.n_sites) / self.n_sites
        return (2 - 2 * np.cos(p)) / a + a * sigma

    def propagator(self) -> Complex[np.ndarray, " n_sites"]:
        r"""Exact $G(t) = \langle z_0 z_t\rangle$, t = 0..N-1, at $\lambda = 0$ (Fourier sum, complex128)."""
        p = 2 * np.pi * np.arange(self.n_sites) / self.n_sites
        t = np.arange(self.n_sites)
        return (np.cos(np.outer(t, p)) / self._modes()).mean(axis=1)

    def cl_covariance(self, dt: float = 0.0) -> Float[np.ndarray, "2 2"]:
        r"""Site covariance $[[\langle x_i^2\rangle, \langle x_i y_i\rangle], [\cdot, \langle y_i^2\rangle]]$
        of the CL stationary distribution at $\lambda = 0$ (the same for every site); `dt > 0`: the
        exact stationary covariance of the Euler scheme with that step."""
        return _site_covariance(self._modes(), dt)

    # --- any lambda -----------------------------------------------------------------

    def moments(self, max_order: int = 6, *, method: str = "auto", cutoff: float = 40.0,
                points_per_width: float = 3.0) -> np.ndarray:
        r"""Exact single-site moments $\langle z_i^n\rangle$, n = 1..`max_order` (complex128).

        `method="gaussian"` (needs $\lambda = 0$): Wick's theorem with $G(0)$;
        `method="transfer"`: the transfer matrix on a real grid covering
        $a\,\mathrm{Re}\,V(x) - \min < $ `cutoff` with a spacing of
        $\min(\sqrt{a/2}, (a|\sigma|)^{-1/2}, (a|\lambda|)^{-1/4})$/`points_per_width` (the narrowest
        scale of the integrand); `"auto"`: Gaussian when lam = 0.
        """
        if method not in ("auto", "gaussian", "transfer"):
            raise ValueError(f"method={method!r}: expected 'auto', 'gaussian' or 'transfer'")
        _, lam, _ = self._couplings()
        if method == "gaussian" or (method == "auto" and lam == 0):
            return _gaussian_moments(self.propagator()[0], max_order)
        return self._transfer_moments(_check_order(max_order), cutoff, points_per_width)

    def _transfer_moments(self, max_order: int, cutoff: float, points_per_width: float) -> np.ndarray:
        sigma, lam, a = self._couplings()
        potential = _polynomial_potential(sigma, lam)
        half = _half_width(lambda x: a * potential(x).real, cutoff)
        # the narrowest scale of the integrand: the kinetic kernel between two neighbours, or the
        # single-site weight (width (a|lam|)^(-1/4) or (a|sigma|)^(-1/2))
        widths = [math.sqrt(a / 2), (a * abs(sigma)) ** -0.5 if sigma != 0 else math.inf,
                  (a * abs(lam)) ** -0.25 if lam != 0 else math.inf]
        n_points = 2 * math.ceil(half * points_per_width / min(widths)) + 1
        if n_points > 4001:
            raise ValueError(
                f"the transfer matrix needs {n_points} grid points (> 4001) for a={a}, sigma={sigma}, "
                f"lam={lam}; lower points_per_width or use a larger spacing a"
            )
        x = np.linspace(-half, half, n_points)
        h = x[1] - x[0]
        half_site = a * potential(x) / 2
        kernel = (x[:, None] - x[None, :]) ** 2 / (2 * a) + half_site[:, None] + half_site[None, :]
        transfer = h * np.exp(-(kernel - kernel.real.min()))
        diagonal = np.diagonal(_scaled_power(transfer, self.n_sites))
        powers = x[None, :] ** np.arange(1, max_order + 1)[:, None]
        return (powers * diagonal).sum(axis=1) / diagonal.sum()

