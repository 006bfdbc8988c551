r"""Two-dimensional compact U(1) lattice gauge theory with the Wilson action.

A configuration is the array of link angles `links` of shape `(2, L, L)`: `links[mu, x0, x1]`
is $\theta_\mu(x)$ on the link from site $x = (x_0, x_1)$ to $x + \hat\mu$, with periodic
boundaries. The plaquette angle

$$\theta_P(x) = \theta_0(x) + \theta_1(x + \hat 0) - \theta_0(x + \hat 1) - \theta_1(x)$$

enters the action $S = -\beta \sum_P \cos\theta_P$ ($V = L^2$ plaquettes) and the topological
charge $Q = \frac{1}{2\pi}\sum_P [\theta_P]$ with $[\cdot]$ wrapped to $(-\pi, \pi]$, an integer
on every configuration. Angles are in radians and need not be wrapped. Exact finite-volume
results are in `dphys.lattice.exact.u1_exact`.
"""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from dphys.lattice.phi4 import _check_int, _measure, check_lattice_shape
from dphys.stats import Estimate, mean_with_autocorrelation

__all__ = [
    "U1Action",
    "gauge_transform",
    "plaquette",
    "plaquette_angles",
    "random_gauge_transform",
    "topological_charge",
    "u1_observables",
    "wilson_loop",
    "wrap",
]

_TWO_PI = 2 * np.pi


def _lattice_size(links: Array) -> int:
    """Validate a link configuration of shape (2, L, L) and return L."""
    shape = jnp.shape(links)
    if len(shape) != 3 or shape[0] != 2:
        raise ValueError(f"links of shape {shape}: expected (2, L, L), link angle mu at site x")
    return check_lattice_shape(shape[1:], "links (trailing lattice axes)")[0]


def _shift(f: Array, mu: int, n: int = 1) -> Array:
    """f(x + n mu_hat) on the periodic lattice."""
    return jnp.roll(f, -n, axis=mu)


def _rectangle_angles(links: Array, n0: int, n1: int) -> Array:
    """Sum of oriented link angles around the n0 x n1 rectangle with lower-left corner x (counter-
    clockwise: n0 steps along +0, n1 along +1, back along -0 and -1), for every x."""
    line0 = sum(_shift(links[0], 0, k) for k in range(n0))  # sum_k theta_0(x + k 0_hat)
    line1 = sum(_shift(links[1], 1, k) for k in range(n1))
    return line0 + _shift(line1, 0, n0) - _shift(line0, 1, n1) - line1


def wrap(theta: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
    r"""Angles wrapped to $(-\pi, \pi]$: $[\theta] = \pi - ((\pi - \theta) \bmod 2\pi)$ (radians).
    Its derivative is 1 away from the cuts."""
    return jnp.pi - jnp.mod(jnp.pi - jnp.asarray(theta), _TWO_PI)


def plaquette_angles(links: Float[Array, "2 L L"]) -> Float[Array, "L L"]:
    r"""Unwrapped plaquette angles $\theta_P(x) = \theta_0(x) + \theta_1(x+\hat 0) -
    \theta_0(x+\hat 1) - \theta_1(x)$ of one configuration (radians), indexed by the plaquette's
    lower-left site."""
    _lattice_size(links)
    return _rectangle_angles(links, 1, 1)


class U1Action(eqx.Module):
    r"""The Wilson action $S = -\beta\sum_P \cos\theta_P$ of one link configuration `(2, L, L)`.

    **Arguments:** `beta` (inverse coupling, dimensionless, a differentiable field).
    """

    beta: Float[ArrayLike, ""]

    def __call__(self, links: Float[Array, "2 L L"]) -> Float[Array, ""]:
        return -self.beta * jnp.sum(jnp.cos(plaquette_angles(links)))


def plaquette(links: Float[Array, "2 L L"]) -> Float[Array, ""]:
    r"""Average plaquette $\frac{1}{V}\sum_P \cos\theta_P$ of one configuration."""
    return jnp.mean(jnp.cos(plaquette_angles(links)))


def topological_charge(links: Float[Array, "2 L L"]) -> Float[Array, ""]:
    r"""Topological charge $Q = \frac{1}{2\pi}\sum_P [\theta_P]$, $[\cdot] \in (-\pi, \pi]$.

    On the torus every link enters two plaquettes with opposite signs, so $\sum_P \theta_P = 0$
    and $Q = \sum_P ([\theta_P] - \theta_P)/2\pi$ is an integer up to rounding, which grows with
    the volume and the size of the angles: in float32 with links in $[-\pi, \pi)$ about
    $2\cdot 10^{-6}$ at $L = 16$ and $10^{-5}$ at $L = 64$ (`u1_observables` rounds)."""
    return jnp.sum(wrap(plaquette_angles(links))) / _TWO_PI


def wilson_loop(links: Float[Array, "2 L L"], R: int, T: int) -> Float[Array, ""]:
    r"""Rectangular Wilson loop $W(R \times T)$ of one configuration.

    $\cos$ of the sum of oriented link angles around the rectangle with extent $R$ along
    direction 0 and $T$ along direction 1, averaged over all $V$ positions and over both
    orientations ($R \times T$ and $T \times R$; once when $R = T$). By Stokes' theorem the loop
    angle is the sum of the $RT$ enclosed plaquette angles; `wilson_loop(links, 1, 1)` is the
    `plaquette`.

    **Arguments:** `links` `(2, L, L)`; `R`, `T`: static integers in `1..L-1` (loops that wind
    around the torus are excluded).

    **Returns:** scalar $W$.
    """
    size = _lattice_size(links)
    R = _check_int(R, "R", 1, size - 1)
    T = _check_int(T, "T", 1, size - 1)
    orientations = [(R, T)] if R == T else [(R, T), (T, R)]
    return sum(jnp.mean(jnp.cos(_rectangle_angles(links, *o))) for o in orientations) / len(orientations)


def gauge_transform(links: Float[Array, "2 L L"], alpha: Float[Array, "L L"]) -> Float[Array, "2 L L"]:
    r"""Gauge transformation $\theta_\mu(x) \to [\alpha(x) + \theta_\mu(x) - \alpha(x + \hat\mu)]$
    with site angles `alpha` (radians), wrapped to $(-\pi, \pi]$. Plaquette angles change only
    by multiples of $2\pi$, so every gauge-invariant observable is unchanged."""
    size = _lattice_size(links)
    if jnp.shape(alpha) != (size, size):
        raise ValueError(f"alpha of shape {jnp.shape(alpha)}: expected the site shape {(size, size)}")
    return wrap(alpha[None] + links - jnp.stack([_shift(alpha, 0), _shift(alpha, 1)]))


def random_gauge_transform(key: PRNGKeyArray, links: Float[Array, "2 L L"]) -> Float[Array, "2 L L"]:
    r"""`gauge_transform` with independent uniform site angles $\alpha(x) \in [-\pi, \pi)$ drawn from
    `key` (Haar measure), e.g. to augment training data."""
    size = _lattice_size(links)
    alpha = jax.random.uniform(key, (size, size), jnp.result_type(links), -jnp.pi, jnp.pi)
    return gauge_transform(links, alpha)


def _u1_measure(links: Array, loops: tuple[tuple[int, int], ...]) -> dict[str, Array]:
    out = {"plaquette": plaquette(links), "Q": topological_charge(links)}
    for R, T in loops:
        out[f"wilson_{R}x{T}"] = wilson_loop(links, R, T)
    return out


def _mean_with_errors(x: np.ndarray, S: float) -> Estimate:
    """`mean_with_autocorrelation`, or a NaN error for a constant series (e.g. frozen topology),
    for which the data carry no information on the error."""
    if np.ptp(x) == 0:
        return Estimate(float(x.flat[0]), float("nan"))
    return mean_with_autocorrelation(x, S)


def u1_observables(
    ensemble: Float[ArrayLike, "n_samples *chains 2 L L"],
    loops: Sequence[tuple[int, int]] = ((1, 1), (1, 2), (2, 2)),
    *,
    S: float = 1.5,
) -> dict[str, Estimate | np.ndarray]:
    r"""Ensemble averages of U(1) observables, errors from the integrated autocorrelation time.

    Keys (the names of `u1_exact` for direct comparison):

    - `"plaquette"`: $\langle \cos\theta_P\rangle$;
    - `"wilson_RxT"` for each `(R, T)` in `loops`: $\langle W(R\times T)\rangle$;
    - `"chi_t"`: topological susceptibility $\chi_t = \langle Q^2\rangle / V$;
    - `"Q"`: $\langle Q\rangle$ (zero by parity);
    - `"Q_history"`: the rounded charges themselves (NumPy array of shape `(n_samples,)` or
      `(n_samples, n_chains)`), to inspect topology freezing.

    Every error is Wolff's `dphys.stats.mean_with_autocorrelation` (chains as independent
    replicas). A constant series (a frozen charge) gets a NaN error, since such data say nothing
    about their own uncertainty.

    **Arguments:** `ensemble` of shape `(n_samples, 2, L, L)` or `(n_samples, n_chains, 2, L, L)`
    in Monte Carlo time order; `loops`: Wilson loop sizes (each in `1..L-1`); `S`: Wolff's window
    parameter.

    **Returns:** dict of `dphys.stats.Estimate` (floats) plus the `"Q_history"` array.
    """
    size = int(np.shape(ensemble)[-1])
    loops = tuple((_check_int(R, "R", 1, size - 1), _check_int(T, "T", 1, size - 1)) for R, T in loops)
    data, _ = _measure(_u1_measure, ensemble, 3, static=(loops,))
    q = np.round(data.pop("Q"))
    out: dict[str, Estimate | np.ndarray] = {k: _mean_with_errors(v, S) for k, v in data.items()}
    out["chi_t"] = _mean_with_errors(q**2 / size**2, S)
    out["Q"] = _mean_with_errors(q, S)
    out["Q_history"] = q
    return out
