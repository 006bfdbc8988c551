r"""Two-dimensional compact U(1) lattice gauge theory with the Wilson action.

A configuration is the array of link angles `links` of shape `(2, L, L)`: `links[mu, x0, x1]`
is $\theta_\mu(x)$ on the link from site $x = (x_0, x_1)$ to $x + \hat\mu$, with periodic
boundaries. The plaquette angle

$$\theta_P(x) = \theta_0(x) + \theta_1(x + \hat 0) - \theta_0(x + \hat 1) - \theta_1(x)$$

enters the action $S = -\beta \sum_P \cos\theta_P$ ($V = L^2$ plaquettes) and the topological
charge $Q = \frac{1}{2\pi}\sum_P [\theta_P]$ with $[\cdot]$ wrapped to $(-\pi, \pi]$, an integer
on every configuration. Angles are in radians and need not be wrapped. Exact finite-volume
results are in `dphys.lattice.exact.u1_exact`.

**The noised ensemble** (the physics a diffusion model of the links needs; the generator is
`dphys.generative.u1`). Link noise of standard deviation $s$ (wrapped normal,
`dphys.diffusion.wrapped_normal_score`) commutes with gauge transformations (they translate link
space), so for gauge-invariant data every noised density $p_s$ is gauge invariant; ignoring the
two Polyakov-loop holonomies (uniform and independent of the plaquettes under the Wilson action),
$\log p_s$ is a function $F$ of the plaquette angles, and

$$\frac{\partial \log p_s}{\partial\theta_\mu(x)} = \sum_P h_P\,\frac{\partial\theta_P}{\partial\theta_\mu(x)},
\qquad h_P = \frac{\partial F}{\partial\theta_P}$$

(`plaquette_adjoint`). Link noise $s$ puts Gaussian noise of covariance $s^2\Delta$ on the
(lifted) plaquettes, $\Delta$ the lattice Laplacian of the plaquettes: $4s^2$ on each, $-s^2$
between neighbours, and none on their sum, which is $2\pi Q$ and which no link move can change.
In the Villain form of the action (`villain_beta`) the noised plaquettes are a periodised Gaussian
of covariance $1/\beta_V + s^2\Delta$, whose score is exact and local once the plaquettes'
windings are known. `local_plaquette_field` is its Wilson version: the exact field of one noised
plaquette (`one_plaquette_field`), corrected for the correlations of the noise; it is
$-\beta\sin\theta_P$ at $s = 0$ and vanishes at large noise. What it misses is global: the net
charge keeps the precision $\beta_V$ at every noise level (the noise never touches it), so the
charge of the clean configuration is suppressed by $e^{-2\pi^2\beta_V Q_0^2/V}$ while the windings
of the plaquettes near $\pm\pi$ are still undecided. `topological_log_weight` adds that factor,
averaged over the windings (taken independent, the charge Gaussian), and its gradient
`topological_field` pushes the undecided plaquettes towards a small $|Q_0|$. Without it, the
reverse process of any local score fixes the charge where the noise is large and gives
$\chi_t \approx 0.045$ at every $\beta$ (measured at L = 8: exact 0.0034 at $\beta = 7$).

`tau_q` is the integrated autocorrelation time of a topological-charge history, with the bound
that holds when the charge (nearly) never changes, as in HMC at large $\beta$.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from dphys._checks import check_int_range
from dphys.lattice.measure import measure
from dphys.lattice.phi4 import check_lattice_shape
from dphys.stats import Estimate, integrated_autocorrelation_time, mean_with_autocorrelation

__all__ = [
    "U1Action",
    "check_links",
    "gauge_augment",
    "gauge_transform",
    "local_plaquette_field",
    "one_plaquette_field",
    "plaquette",
    "plaquette_adjoint",
    "plaquette_angles",
    "random_gauge_transform",
    "tau_q",
    "topological_charge",
    "topological_field",
    "topological_log_weight",
    "u1_observables",
    "villain_beta",
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
    R = check_int_range(R, "R", 1, size - 1)
    T = check_int_range(T, "T", 1, size - 1)
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
    loops = tuple((check_int_range(R, "R", 1, size - 1), check_int_range(T, "T", 1, size - 1)) for R, T in loops)
    data, _ = measure(_u1_measure, ensemble, 3, static=(loops,))
    q = np.round(data.pop("Q"))
    out: dict[str, Estimate | np.ndarray] = {k: _mean_with_errors(v, S) for k, v in data.items()}
    out["chi_t"] = _mean_with_errors(q**2 / size**2, S)
    out["Q"] = _mean_with_errors(q, S)
    out["Q_history"] = q
    return out


# --------------------------------------------------------------------------------------------
# The noised ensemble (module docstring)
# --------------------------------------------------------------------------------------------


def check_links(links: Float[ArrayLike, "*batch 2 L L"], L: int | None = None, name: str = "links") -> int:
    """Validate link configurations of shape `(..., 2, L, L)` (and, if given, the lattice size `L`
    a model was trained on).

    **Arguments:** `links` (radians; only the shape is read), `L` (None: any), `name` (for the message).

    **Returns:** the lattice size L. Raises `ValueError` naming the shape (or both sizes)."""
    shape = tuple(np.shape(links))
    if len(shape) < 3 or shape[-3] != 2 or shape[-1] != shape[-2] or shape[-1] < 2:
        raise ValueError(f"{name} of shape {shape}: expected (..., 2, L, L) link angles with L >= 2")
    if L is not None and shape[-1] != L:
        raise ValueError(
            f"{name} on a {shape[-1]}x{shape[-1]} lattice, but the model was trained on {L}x{L}; a model "
            f"of another L is usable only through the documented transfer: rebuild it with "
            f"`dphys.generative.U1Score.on_lattice({shape[-1]})` (the network is fully convolutional, so this is "
            f"allowed but untested physics)"
        )
    return shape[-1]


def gauge_augment(key: PRNGKeyArray, links: Float[Array, "batch 2 L L"]) -> Float[Array, "batch 2 L L"]:
    r"""Independent random gauge transformations (Haar site angles, `random_gauge_transform` with
    one key of `jax.random.split(key, batch)` each) of a batch of configurations: training-data
    augmentation that leaves every gauge-invariant observable unchanged.

    **Arguments:** `key`, `links` `(batch, 2, L, L)` (radians).

    **Returns:** the transformed links, wrapped to $(-\pi, \pi]$, same shape."""
    return jax.vmap(random_gauge_transform)(jax.random.split(key, links.shape[0]), links)


def plaquette_adjoint(h: Float[Array, "L L"]) -> Float[Array, "2 L L"]:
    r"""The link vector $\sum_P h_P\,\partial\theta_P/\partial\theta_\mu(x)$: with
    $\theta_P(x) = \theta_0(x) + \theta_1(x+\hat 0) - \theta_0(x+\hat 1) - \theta_1(x)$,
    component 0 is $h(x) - h(x - \hat 1)$ and component 1 is $h(x - \hat 0) - h(x)$.
    For $h_P = -\beta\sin\theta_P$ this is $-\nabla S$ of `U1Action(beta)`.

    **Arguments:** `h`, one number per plaquette `(L, L)` (indexed by the lower-left site).

    **Returns:** the link vector `(2, L, L)`."""
    return jnp.stack([h - jnp.roll(h, 1, axis=1), jnp.roll(h, 1, axis=0) - h])


_GH_X, _GH_W = np.polynomial.hermite.hermgauss(24)


def one_plaquette_field(theta_p: Float[Array, "*shape"], beta: Float[ArrayLike, ""], s: Float[ArrayLike, ""],
                        n_terms: int = 32) -> Float[Array, "*shape"]:
    r"""$\partial_\theta\log F(\theta)$, elementwise (radians$^{-1}$), with $F$ the density of one plaquette
    of the Wilson ensemble, $e^{\beta\cos\theta}$, convolved with the plaquette noise $\mathcal N(0, 4s^2)$
    (four links of noise $s$): $F(\theta) = \mathbb E_\varepsilon\, e^{\beta\cos(\theta - \varepsilon)}$.
    $-\beta\sin\theta$ at $s = 0$, smooth and $2\pi$-periodic, $\to 0$ at large noise.

    For $4\beta s^2 \ge 4.5$ or $s \ge 0.5$ the Fourier series
    $F = 1 + 2\sum_j \frac{I_j(\beta)}{I_0(\beta)} e^{-2s^2j^2}\cos j\theta$ (`n_terms` terms); below,
    where that series cancels to float32 precision near $\theta = \pi$ at large $\beta$, 24-point
    Gauss-Hermite quadrature in $\varepsilon$ in log space. Measured against float64 quadrature for
    $\beta \le 15$: absolute error at most $0.0025\,\beta$. Traceable in
    `beta` and `s`.

    **Arguments:** `theta_p` plaquette angles (any shape, radians), `beta` > 0, `s` >= 0 (link
    noise, radians; scalars), `n_terms` of the series.

    **Returns:** the field, shaped like `theta_p`."""
    beta, s = jnp.asarray(beta, float), jnp.asarray(s, float)
    theta_p = jnp.asarray(theta_p)

    def quadrature(theta):  # E f(eps) = sum_k w_k f(2 sqrt 2 s x_k) / sqrt(pi)
        arg = theta[..., None] - 2 * jnp.sqrt(2.0) * s * jnp.asarray(_GH_X, theta.dtype)
        post = jax.nn.softmax(jnp.log(jnp.asarray(_GH_W, theta.dtype)) + beta * jnp.cos(arg), axis=-1)
        return -beta * jnp.sum(post * jnp.sin(arg), axis=-1)

    def series(theta):  # I_j/I_0 from the backward recurrence I_j/I_{j-1} = 1/(2j/beta + I_{j+1}/I_j)
        _, r = jax.lax.scan(lambda r_next, j: (1 / (2 * j / beta + r_next),) * 2, jnp.zeros_like(beta),
                            jnp.arange(n_terms, 0, -1, dtype=beta.dtype))
        j = jnp.arange(1, n_terms + 1, dtype=theta.dtype)
        c = (jnp.cumprod(r[::-1]) * jnp.exp(-2 * s**2 * j**2)).astype(theta.dtype)
        tj = theta[..., None] * j
        return -2 * jnp.sum(j * c * jnp.sin(tj), axis=-1) / (1 + 2 * jnp.sum(c * jnp.cos(tj), axis=-1))

    # one branch per call (beta and s are scalars; under a vmap over them both run, as a select)
    return jax.lax.cond((4 * beta * s**2 < 4.5) & (s < 0.5), quadrature, series, theta_p)


def local_plaquette_field(theta_p: Float[Array, "L L"], beta: Float[ArrayLike, ""],
                          s: Float[ArrayLike, ""]) -> Float[Array, "L L"]:
    r"""The local plaquette field $h_P$ of the noised Wilson ensemble (module docstring, "Physics"):
    the one-plaquette field `one_plaquette_field` (noise $4s^2$ on each plaquette, taken
    independent) corrected for the correlation of the plaquette noise, $s^2\Delta$ with $\Delta$ the
    lattice Laplacian of the plaquettes, in momentum space:

    $$h(p) = \frac{1 + 4\beta_V s^2}{1 + \beta_V s^2\lambda_p}\,h_{1}(p),
      \qquad \lambda_p = 4 - 2\cos p_0 - 2\cos p_1,$$

    with $\beta_V$ = `villain_beta(beta)`. For a Villain ensemble whose windings are decided this is
    the exact score, $-(1/\beta_V + s^2\Delta)^{-1}\theta$; it is $-\beta\sin\theta_P$ at $s = 0$ and
    vanishes at large noise. The net charge, which the noise cannot change, is the business of
    `topological_field`. Radians$^{-1}$.

    **Arguments:** `theta_p` `(L, L)` (radians), `beta` > 0, `s` >= 0 (link noise, radians).

    **Returns:** $h_P$, `(L, L)`."""
    bv = villain_beta(beta)
    k = 2 * jnp.pi * jnp.fft.fftfreq(theta_p.shape[-1])
    lam = 4 - 2 * jnp.cos(k)[:, None] - 2 * jnp.cos(k)[None, :]
    kernel = (1 + 4 * bv * s**2) / (1 + bv * s**2 * lam)
    return jnp.real(jnp.fft.ifft2(jnp.fft.fft2(one_plaquette_field(theta_p, beta, s)) * kernel)).astype(theta_p.dtype)


def villain_beta(beta: Float[ArrayLike, ""]) -> Float[Array, ""]:
    r"""The Villain coupling $\beta_V$ (dimensionless, like `beta`) with the same mean plaquette as the
    Wilson action at `beta`:
    $e^{-1/2\beta_V} = I_1(\beta)/I_0(\beta)$ (so $\beta_V \to \beta - 1/2$ at large $\beta$;
    $\beta_V(1) = 0.62$). Traceable in `beta`.

    **Arguments:** `beta` > 0. **Returns:** $\beta_V$ (an array of `beta`'s shape)."""
    beta = jnp.asarray(beta, float)
    return -0.5 / jnp.log(jax.scipy.special.i1e(beta) / jax.scipy.special.i0e(beta))


def topological_log_weight(theta_p: Float[Array, "L L"], beta: Float[ArrayLike, ""], s: Float[ArrayLike, ""],
                           n_images: int = 4) -> Float[Array, ""]:
    r"""The global (topological) factor of the noised density that the local field
    `local_plaquette_field` misses, in nats (module docstring, "Physics").

    In the Villain picture ($\beta_V$ = `villain_beta(beta)`) the noised plaquettes are a periodised
    Gaussian whose covariance is $1/\beta_V + s^2\Delta$ ($\Delta$ the lattice Laplacian of the
    plaquettes): the uniform mode, the net charge, keeps the precision $\beta_V$ at every noise level,
    where the local field gives it $\beta_d = \beta_V/(1 + 4\beta_V s^2)$. The missing weight is
    $\exp(-a Q_0^2)$, $a = 2\pi^2(\beta_V - \beta_d)/V$, on the charge $Q_0$ of the clean
    configuration. Given the noised plaquettes $\theta_P$, $2\pi Q_0 = \sum_P(\theta_P + 2\pi j_P)$ with
    independent windings $j_P$ of weights $\mathcal N(\theta_P + 2\pi j_P; 0, v)$,
    $v = 1/\beta_V + 4s^2$ ($|j_P|\le$ `n_images`); with $Q_0$ Gaussian of the resulting mean $M$ and
    variance $S^2$,

    $$\log\mathbb E[e^{-aQ_0^2}\mid\theta] = -\frac{aM^2}{1 + 2aS^2} - \tfrac12\log(1 + 2aS^2).$$

    It vanishes at $s = 0$ ($a = 0$); its gradient (`topological_field`) acts on plaquettes near
    $\pm\pi$, whose winding is undecided, and pushes them to lower $|Q_0|$.

    **Arguments:** `theta_p` `(L, L)` (radians), `beta` > 0, `s` >= 0 (link noise, radians),
    `n_images` windings on each side.

    **Returns:** the log-weight, a scalar (nats)."""
    bv = villain_beta(beta)
    v = 1 / bv + 4 * s**2
    a = 2 * jnp.pi**2 * (bv - bv / (1 + 4 * bv * s**2)) / theta_p.size
    d = wrap(theta_p)[..., None] + 2 * jnp.pi * jnp.arange(-n_images, n_images + 1)
    p = jax.nn.softmax(-0.5 * d**2 / v, axis=-1)
    mean = jnp.sum(p * d, axis=-1) / (2 * jnp.pi)
    var = jnp.sum(p * d**2, axis=-1) / (4 * jnp.pi**2) - mean**2
    m, s2 = jnp.sum(mean), jnp.sum(var)
    return -a * m**2 / (1 + 2 * a * s2) - 0.5 * jnp.log1p(2 * a * s2)


def topological_field(theta_p: Float[Array, "L L"], beta: Float[ArrayLike, ""], s: Float[ArrayLike, ""]
                      ) -> Float[Array, "L L"]:
    r"""$\partial\,$`topological_log_weight`$/\partial\theta_P$ (radians$^{-1}$): the plaquette field of the
    global topological factor at coupling `beta` and link noise `s`; zero at $s = 0$.

    **Arguments:** as `topological_log_weight`. **Returns:** the field `(L, L)`."""
    return jax.grad(topological_log_weight)(theta_p, beta, s)


def tau_q(q: Float[ArrayLike, "T *chains"], min_changes: int = 20) -> tuple[float, float, bool]:  # noqa: F821
    r"""Integrated autocorrelation time of a topological-charge history, in updates (Wolff's
    `dphys.stats.integrated_autocorrelation_time`, chains as replicas), with its error and whether
    it is only a lower bound.

    Wolff's estimate needs many changes of $Q$; with $n_c$ changes in $T C$ updates the mean time
    between changes is $TC/n_c$, and $\tau_{int} \ge TC/(2(n_c + 1))$ is used when larger. A series
    with fewer than `min_changes` changes of $Q$ (frozen) or shorter than $50\,\tau$ is flagged as
    a lower bound; a series that never changes gets the bound and a NaN error.

    **Arguments:** `q`: the charges, `(T,)` or `(T, chains)`; `min_changes` >= 1.

    **Returns:** `(tau, error, is_lower_bound)` (floats and a bool)."""
    if isinstance(min_changes, bool) or not isinstance(min_changes, int) or min_changes < 1:
        raise ValueError(f"tau_q: min_changes={min_changes!r}, expected an int >= 1")
    if np.ndim(q) not in (1, 2) or np.shape(q)[0] < 2:
        raise ValueError(f"tau_q: q of shape {np.shape(q)}, expected (T,) or (T, chains) with T >= 2")
    q = np.asarray(q, dtype=np.float64)
    q2 = q.reshape(q.shape[0], -1)
    T, C = q2.shape
    n_changes = int(np.sum(np.diff(q2, axis=0) != 0))
    bound = T * C / (2.0 * (n_changes + 1))
    if n_changes == 0:
        return bound, float("nan"), True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tau = integrated_autocorrelation_time(q2)
    value, error = float(tau.tau), float(tau.error)
    if n_changes < min_changes and bound > value:
        value, error = bound, float("nan")
    return value, error, bool(n_changes < min_changes or T < 50 * value)
