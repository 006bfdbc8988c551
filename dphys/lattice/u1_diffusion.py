r"""Score-based diffusion for 2D U(1) link angles on the torus, with physics conditioning on the
target coupling (the DM4U1 idea: train at a small $\beta$, sample at a larger one).

**Wrapped noise.** Link angles live on $[-\pi, \pi)^{2V}$. The forward process adds i.i.d.
Gaussian noise of standard deviation $s_t$ (a VE process, `dd.VEGeometric`) and reads the result
mod $2\pi$, so the noised density is a product of wrapped normals convolved with the data, and
the denoising target of one link is the wrapped-normal score

$$\partial_x \log \sum_k \mathcal N(x - x_0 + 2\pi k;\, s^2) = -\sum_k w_k\,\frac{x - x_0 + 2\pi k}{s^2},
\qquad w_k \propto e^{-(x - x_0 + 2\pi k)^2/2s^2}$$

(`wrapped_normal_score`, `n_images` images on each side of the nearest one). The learned score is
$2\pi$-periodic, so the Euler-Maruyama reverse SDE of `dd.sample` can run on the unwrapped
angles and be wrapped at the end; the prior $\mathcal N(0, s_{max}^2)$ is uniform on the torus up
to $e^{-2 s_{max}^2}$ in every gauge-invariant quantity (a plaquette collects four link noises).

**Gauge structure.** Link noise commutes with gauge transformations (they translate link space),
so for gauge-invariant data every $p_t$ is gauge invariant; ignoring the two Polyakov-loop
holonomies (uniform and independent of the plaquettes under the Wilson action), $\log p_t$ is a
function $F$ of the plaquette angles, and

$$\frac{\partial \log p_t}{\partial\theta_\mu(x)} = \sum_P h_P\,\frac{\partial\theta_P}{\partial\theta_\mu(x)},
\qquad h_P = \frac{\partial F}{\partial\theta_P}$$

(`plaquette_adjoint`). `U1ScoreNet` outputs one $h_P$ per plaquette from the gauge-invariant image
$(\cos\theta_P, \sin\theta_P)$ through circular convolutions, so its score is exactly gauge
invariant and translation equivariant.

**Physics.** The score is an analytic field known for every $\beta$ plus a learned residual:
$h_P = h^{loc}_P + h^{top}_P + r_P$. Link noise $s$ puts Gaussian noise of covariance $s^2\Delta$
on the (lifted) plaquettes, $\Delta$ the lattice Laplacian of the plaquettes: $4s^2$ on each,
$-s^2$ between neighbours, and none on their sum, which is $2\pi Q$ and which no link move can
change. In the Villain form of the action (`villain_beta`) the noised plaquettes are a periodised
Gaussian of covariance $1/\beta_V + s^2\Delta$, whose score is exact and local once the
plaquettes' windings are known. `local_plaquette_field` is its Wilson version: the exact field of
one noised plaquette, corrected for the correlations of the noise; it is $-\beta\sin\theta_P$ at
$s = 0$ and vanishes at large noise. What it misses is global: the net charge keeps the precision
$\beta_V$ at every noise level (the noise never touches it), so the charge of the clean
configuration is suppressed by $e^{-2\pi^2\beta_V Q_0^2/V}$ while the windings of the plaquettes
near $\pm\pi$ are still undecided. `topological_log_weight` adds that factor, averaged over the
windings (taken independent, the charge Gaussian), and its gradient `topological_field` pushes the
undecided plaquettes towards a small $|Q_0|$. Without it, the reverse process of any local score
fixes the charge where the noise is large and gives $\chi_t \approx 0.045$ at every $\beta$
(measured at L = 8: exact 0.0034 at $\beta = 7$).

**Physics conditioning** (`ConditionedU1Score`): at sampling time the analytic field is evaluated
at $\beta_{target}$, the residual learned at $\beta_{train}$ is kept or rescaled
(`CONDITIONING_MODES`), and at small noise the exact drift $-\beta_{target}\sin\theta_P$ takes over
with weight $e^{-(s/s_{exact})^2}$. After the reverse SDE, `hmc_refine` runs a short HMC at the
exact target action from every sample; HMC does not move between topological sectors at large
$\beta$, so the sector weights are those of the diffusion stage: the workflow `u1-diffusion`
measures them against `u1_exact`.

**Exact independence Metropolis** (`u1_proposals`): the score is $2\pi$-periodic, so each Heun
step commutes with the shifts by $2\pi$ and the density of the wrapped Heun samples on the torus
is the wrapped-normal prior density of the starting point divided by the Jacobian determinant of
the map (`dd.sample_with_log_density` with `wrapped_normal_log_prob` as the prior). With it,
`dd.metropolis_correct` makes the ensemble exact for any target action, sectors included; its
acceptance measures how well the conditioned model matches the target.
"""

from __future__ import annotations

import math
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

import dphys.diffusion as dd
from dphys.lattice.hmc import HMC, sample_chains
from dphys.lattice.u1 import U1Action, plaquette_angles, random_gauge_transform, wrap
from dphys.nn.lattice import CircularConv2d
from dphys.nn.mlp import Linear, NoiseEmbedding, _initialise

__all__ = [
    "CONDITIONING_MODES",
    "ConditionedU1Score",
    "U1Score",
    "U1ScoreNet",
    "check_links",
    "gauge_augment",
    "hmc_refine",
    "local_plaquette_field",
    "one_plaquette_field",
    "plaquette_adjoint",
    "sample_u1",
    "topological_field",
    "topological_log_weight",
    "u1_dsm_loss",
    "u1_proposals",
    "villain_beta",
    "wrapped_normal_log_prob",
    "wrapped_normal_score",
]


CONDITIONING_MODES = {
    "scale": "learned residual scaled by b_t/b at every noise level (DM4U1's scaling)",
    "villain": "learned residual scaled by [b_t/(1 + 4 b_t s^2)]/[b/(1 + 4 b s^2)]: b_t/b at zero noise, 1 at large",
    "keep": "learned residual as trained at b",
    "drop": "no learned residual: the analytic physics field at b_t alone (a control)",
}


def _check_beta(beta, name: str = "beta") -> float:
    if isinstance(beta, jax.core.Tracer):
        raise ValueError(f"{name} must be a concrete number, got a traced value")
    beta = float(beta)
    if not (math.isfinite(beta) and beta > 0):
        raise ValueError(f"{name}={beta}: expected a finite inverse coupling > 0")
    return beta


def check_links(links: Float[ArrayLike, "*batch 2 L L"], L: int | None = None, name: str = "links") -> int:
    """Validate link configurations of shape `(..., 2, L, L)` (and, if given, the lattice size `L`);
    return L. Raises ValueError naming the shape."""
    shape = tuple(np.shape(links))
    if len(shape) < 3 or shape[-3] != 2 or shape[-1] != shape[-2] or shape[-1] < 2:
        raise ValueError(f"{name} of shape {shape}: expected (..., 2, L, L) link angles with L >= 2")
    if L is not None and shape[-1] != L:
        raise ValueError(
            f"{name} on a {shape[-1]}x{shape[-1]} lattice, but the model was trained on {L}x{L}; a model "
            f"of another L is usable only through the documented transfer: rebuild it with "
            f"`U1Score.on_lattice({shape[-1]})` (the network is fully convolutional, so this is "
            f"allowed but untested physics)"
        )
    return shape[-1]


# --------------------------------------------------------------------------------------------
# Wrapped noise
# --------------------------------------------------------------------------------------------


def wrapped_normal_score(
    x: Float[ArrayLike, "*shape"], x0: Float[ArrayLike, "*shape"], s: Float[ArrayLike, "*shape"], n_images: int = 3
) -> Float[Array, "*shape"]:
    r"""Score of the wrapped normal, $\partial_x\log\sum_{|k|\le K}\mathcal N(x - x_0 + 2\pi k; s^2)$,
    elementwise (radians$^{-1}$), with $x - x_0$ first wrapped to $(-\pi, \pi]$ and $K$ = `n_images`.
    $2\pi$-periodic in $x$; for $s \lesssim 1$ it is $-(x - x_0)/s^2$ near $x_0$. The neglected
    images weigh less than $e^{-(2K+1)^2\pi^2/2s^2}$ (< $10^{-9}$ for $K = 3$, $s \le 3$)."""
    d = wrap(jnp.asarray(x) - jnp.asarray(x0))
    k = jnp.arange(-n_images, n_images + 1, dtype=d.dtype)
    s = jnp.asarray(s)[..., None]
    dk = d[..., None] + 2 * jnp.pi * k
    w = jax.nn.softmax(-0.5 * (dk / s) ** 2, axis=-1)
    return -jnp.sum(w * dk, axis=-1) / s[..., 0] ** 2


def gauge_augment(key: PRNGKeyArray, links: Float[Array, "batch 2 L L"]) -> Float[Array, "batch 2 L L"]:
    """Independent random gauge transformations (Haar site angles) of a batch of configurations."""
    return jax.vmap(random_gauge_transform)(jax.random.split(key, links.shape[0]), links)


# --------------------------------------------------------------------------------------------
# Gauge-covariant score
# --------------------------------------------------------------------------------------------


def plaquette_adjoint(h: Float[Array, "L L"]) -> Float[Array, "2 L L"]:
    r"""The link vector $\sum_P h_P\,\partial\theta_P/\partial\theta_\mu(x)$: with
    $\theta_P(x) = \theta_0(x) + \theta_1(x+\hat 0) - \theta_0(x+\hat 1) - \theta_1(x)$,
    component 0 is $h(x) - h(x - \hat 1)$ and component 1 is $h(x - \hat 0) - h(x)$.
    For $h_P = -\beta\sin\theta_P$ this is $-\nabla S$ of `U1Action(beta)`."""
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
    `beta` and `s`."""
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
    `topological_field`. Radians$^{-1}$."""
    bv = villain_beta(beta)
    k = 2 * jnp.pi * jnp.fft.fftfreq(theta_p.shape[-1])
    lam = 4 - 2 * jnp.cos(k)[:, None] - 2 * jnp.cos(k)[None, :]
    kernel = (1 + 4 * bv * s**2) / (1 + bv * s**2 * lam)
    return jnp.real(jnp.fft.ifft2(jnp.fft.fft2(one_plaquette_field(theta_p, beta, s)) * kernel)).astype(theta_p.dtype)


def villain_beta(beta: Float[ArrayLike, ""]) -> Float[Array, ""]:
    r"""The Villain coupling $\beta_V$ (dimensionless, like `beta`) with the same mean plaquette as the
    Wilson action at `beta`:
    $e^{-1/2\beta_V} = I_1(\beta)/I_0(\beta)$ (so $\beta_V \to \beta - 1/2$ at large $\beta$;
    $\beta_V(1) = 0.62$). Traceable in `beta`."""
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
    $\pm\pi$, whose winding is undecided, and pushes them to lower $|Q_0|$."""
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
    global topological factor at coupling `beta` and link noise `s`; zero at $s = 0$."""
    return jax.grad(topological_log_weight)(theta_p, beta, s)


class _FiLMBlock(eqx.Module):
    conv: CircularConv2d
    film: Linear

    def __init__(self, c_in: int, c_out: int, kernel_size: int, embed_dim: int):
        self.conv = CircularConv2d(c_in, c_out, kernel_size, key=None)
        self.film = Linear(embed_dim, 2 * c_out, key=None)

    def __call__(self, x, emb):
        scale, shift = jnp.split(self.film(emb), 2)
        return jax.nn.silu(self.conv(x) * (1 + scale[:, None, None]) + shift[:, None, None])


class U1ScoreNet(eqx.Module):
    r"""Plaquette network $r_P(\cos\theta, \sin\theta; \ln s)$: `depth` blocks of circular
    convolution (`kernel_size`, `width` channels) with FiLM modulation by a `NoiseEmbedding` of
    $\ln s$ and SiLU, then a linear circular convolution to one channel. Gauge invariant (it sees
    plaquettes only) and exactly translation equivariant (no pooling).

    **Arguments:** `width`, `depth` (>= 1), `kernel_size` (odd), `embed_dim`, `key`.

    Called as `net(theta_p, log_s)` on plaquette angles `(L, L)`; returns `(L, L)`.
    """

    embedding: NoiseEmbedding
    blocks: tuple
    project: CircularConv2d

    def __init__(self, width: int = 32, depth: int = 4, *, kernel_size: int = 3, embed_dim: int = 32,
                 key: PRNGKeyArray):
        for name, v in (("width", width), ("depth", depth), ("embed_dim", embed_dim)):
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"U1ScoreNet: {name}={v!r}, expected a positive int")
        channels = [2] + [width] * depth
        blocks = tuple(_FiLMBlock(a, b, kernel_size, embed_dim) for a, b in zip(channels[:-1], channels[1:]))
        project = CircularConv2d(width, 1, kernel_size, key=None)
        project = eqx.tree_at(lambda p: p.weight, project, 0.1 * project.weight)  # small initial residual
        emb = NoiseEmbedding(embed_dim, min_frequency=0.1, max_frequency=10.0, key=None)
        self.embedding, self.blocks, self.project = _initialise((emb, blocks, project), key)

    def __call__(self, theta_p: Float[Array, "L L"], log_s: Float[ArrayLike, ""]) -> Float[Array, "L L"]:
        emb = self.embedding(log_s)
        x = jnp.stack([jnp.cos(theta_p), jnp.sin(theta_p)]).astype(self.project.weight.dtype)
        for block in self.blocks:
            x = block(x, emb)
        return self.project(x)[0]


class U1Score(eqx.Module):
    r"""Learned score of the noised U(1) ensemble at $\beta$ = `beta` (the training coupling):

    $$\nabla_{\theta}\log p_t = \texttt{plaquette\_adjoint}(h),\qquad
      h_P = h^{loc}_P(\theta; \beta, s_t) + h^{top}_P(\theta; \beta, s_t) + r_P(\theta; \ln s_t)$$

    with the analytic physics field (`physics_field`: $h^{loc}$ = `local_plaquette_field`, $h^{top}$ =
    `topological_field`) and the learned residual $r$ = `net` (`U1ScoreNet`); $s_t$ from `process`
    (a VE process, e.g. `dd.VEGeometric(0.01, 3.0)`). A score in the sense of `dphys.diffusion`
    (`score(x, t)` on one configuration `(2, L, L)`, with a `process`), so `dd.sample` draws from it.

    **Arguments:** `net`, `process`, `beta` (> 0), `L` (the training lattice size; other sizes are
    refused unless rebuilt with `on_lattice`), `topological` (default True; False leaves
    $h^{top}$ out).
    """

    net: U1ScoreNet
    process: dd.AbstractProcess
    beta: float = eqx.field(static=True)
    L: int = eqx.field(static=True)
    topological: bool = eqx.field(static=True)

    def __init__(self, net: U1ScoreNet, process: dd.AbstractProcess, beta: float, L: int, topological: bool = True):
        if not isinstance(process, dd.AbstractProcess):
            raise ValueError(f"U1Score: process must be a dphys.diffusion process, got {process!r}")
        if float(process.mean_std(process.t_max)[0]) != 1.0:
            raise ValueError("U1Score: the wrapped-noise construction needs a variance-exploding process "
                             f"(alpha_t = 1), got {type(process).__name__}")
        self.net, self.process = net, process
        self.beta = _check_beta(beta)
        self.L = int(L)
        self.topological = bool(topological)

    def on_lattice(self, L: int) -> U1Score:
        """The same (fully convolutional) network used on an L x L lattice: the documented transfer."""
        return U1Score(self.net, self.process, self.beta, L, self.topological)

    def physics_field(self, theta_p: Float[Array, "L L"], beta: Float[ArrayLike, ""], s: Float[ArrayLike, ""]
                      ) -> Float[Array, "L L"]:
        """The analytic part of $h_P$ at coupling `beta`: `local_plaquette_field` plus, if
        `topological`, `topological_field`."""
        h = local_plaquette_field(theta_p, beta, s)
        return h + topological_field(theta_p, beta, s) if self.topological else h

    def plaquette_field(self, links: Float[Array, "2 L L"], t: Float[ArrayLike, ""]) -> Float[Array, "L L"]:
        """$h_P$ at time t (radians$^{-1}$)."""
        _, s = self.process.mean_std(t)
        tp = plaquette_angles(links)
        return self.physics_field(tp, self.beta, s) + self.net(tp, jnp.log(s))

    def __call__(self, links: Float[Array, "2 L L"], t: Float[ArrayLike, ""]) -> Float[Array, "2 L L"]:
        check_links(links, self.L)
        return plaquette_adjoint(self.plaquette_field(links, t))


class ConditionedU1Score(eqx.Module):
    r"""A `U1Score` trained at $\beta_{train}$ conditioned on $\beta_{target}$:

    $$h_P^{target} = (1 - w)\,\big[h^{loc}_P(\beta_{target}) + h^{top}_P(\beta_{target}) + \rho(s_t)\,r_P\big]
      + w\,(-\beta_{target}\sin\theta_P), \qquad w = e^{-(s_t/s_{exact})^2}:$$

    the analytic physics field of `U1Score` evaluated at the target coupling (the physics
    conditioning: the local field and the topological term are known for every $\beta$), the learned
    residual $r$ times the factor $\rho$ of `mode` (`CONDITIONING_MODES`; `ratio`), and, at small
    noise, the exact drift of the target action. `s_exact = 0` switches the blend off.

    **Arguments:** `score` (a `U1Score`), `beta_target` (> 0), `s_exact` (>= 0, radians), `mode`,
    `max_ratio`: above `beta_target/beta_train` > `max_ratio` a `UserWarning` says the model is
    used far outside what it was trained for.
    """

    score: U1Score
    beta_target: Float[Array, ""]  # traced: one compilation serves every target coupling
    s_exact: float = eqx.field(static=True)
    mode: str = eqx.field(static=True)

    def __init__(self, score: U1Score, beta_target: float, s_exact: float = 0.05, max_ratio: float = 10.0,
                 mode: str = "keep"):
        if not isinstance(score, U1Score):
            raise ValueError(f"ConditionedU1Score: score must be a U1Score, got {type(score).__name__}")
        if mode not in CONDITIONING_MODES:
            raise ValueError(f"ConditionedU1Score: mode={mode!r}, expected one of {sorted(CONDITIONING_MODES)}")
        self.mode = mode
        self.score = score
        beta_target = _check_beta(beta_target, "beta_target")
        self.beta_target = jnp.asarray(beta_target)
        s_exact = float(s_exact)
        if not (math.isfinite(s_exact) and s_exact >= 0):
            raise ValueError(f"ConditionedU1Score: s_exact={s_exact}, expected a finite number >= 0")
        self.s_exact = s_exact
        ratio = beta_target / score.beta
        if ratio > max_ratio or ratio < 1 / max_ratio:
            warnings.warn(
                f"beta_target={beta_target} is {ratio:.3g} times the training beta={score.beta}, beyond "
                f"the factor {max_ratio} this conditioning has been checked for; expect wrong sector weights",
                UserWarning, stacklevel=2)

    @property
    def process(self) -> dd.AbstractProcess:
        return self.score.process

    def ratio(self, s: Float[ArrayLike, ""]) -> Float[Array, ""]:
        """The factor $\rho$ applied to the learned residual at noise level `s` (`CONDITIONING_MODES`)."""
        b1, b2 = self.score.beta, self.beta_target
        s = jnp.asarray(s)
        return {"scale": b2 / b1 * jnp.ones_like(s),
                "villain": b2 * (1 + 4 * b1 * s**2) / (b1 * (1 + 4 * b2 * s**2)),
                "keep": jnp.ones_like(s),
                "drop": jnp.zeros_like(s)}[self.mode]

    def __call__(self, links: Float[Array, "2 L L"], t: Float[ArrayLike, ""]) -> Float[Array, "2 L L"]:
        check_links(links, self.score.L)
        _, s = self.process.mean_std(t)
        tp = plaquette_angles(links)
        h = self.score.physics_field(tp, self.beta_target, s)
        if self.mode != "drop":
            h = h + self.ratio(s) * self.score.net(tp, jnp.log(s))
        if self.s_exact > 0:
            w = jnp.exp(-((s / self.s_exact) ** 2))
            h = (1 - w) * h - w * self.beta_target * jnp.sin(plaquette_angles(links))
        return plaquette_adjoint(h)


# --------------------------------------------------------------------------------------------
# Training, sampling, refinement
# --------------------------------------------------------------------------------------------


def u1_dsm_loss(score: U1Score, x0: Float[Array, "batch 2 L L"], key: PRNGKeyArray,
                n_images: int = 3) -> Float[Array, ""]:
    r"""Denoising score matching with the wrapped-normal target,
    $\mathbb E_{s, x_0, z}\, s^2\,\|\nabla\log p_t(x_0 + s z) - \nabla\log\mathcal N_{wrap}(x_0 + sz; x_0, s^2)\|^2/d$,
    $\ln s$ uniform on the process's range (stratified, `dd.sample_training_times` with `"ncsn"`).
    Its minimiser over periodic functions is the score of the wrapped noised density. Usable in
    `dphys.fit` as `lambda m, b, k: u1_dsm_loss(m, b, k)`."""
    check_links(x0, score.L, "x0")
    n = x0.shape[0]
    k_t, k_z = jax.random.split(key)
    t, w = dd.sample_training_times(score.process, k_t, n, "ncsn")
    _, s = jax.vmap(score.process.mean_std)(t)
    sb = s[:, None, None, None]
    xt = x0 + sb * jax.random.normal(k_z, x0.shape, x0.dtype)
    target = wrapped_normal_score(xt, x0, jnp.broadcast_to(sb, x0.shape), n_images)
    pred = jax.vmap(score)(xt, t)
    per_sample = jnp.mean(((pred - target) * sb) ** 2, axis=(1, 2, 3))
    return jnp.mean(w * per_sample)


def sample_u1(score: U1Score | ConditionedU1Score, key: PRNGKeyArray, L: int, n_samples: int, *,
              steps: int = 200, sampler: str = "em", n_corrector: int = 1, snr: float = 0.16,
              batch: int = 256) -> Float[Array, "n_samples 2 L L"]:
    r"""Independent configurations from the reverse SDE of a (conditioned) U(1) score (`dd.sample`
    with `sampler` `"em"` (Euler-Maruyama, `steps` steps) or `"pc"` (plus `n_corrector` Langevin
    corrector steps per step at signal-to-noise ratio `snr`)), wrapped to $(-\pi, \pi]$, drawn in
    batches of at most `batch`. The score is $2\pi$-periodic, so the unwrapped reverse SDE is the
    wrapped one read mod $2\pi$."""
    base = score.score if isinstance(score, ConditionedU1Score) else score
    if L != base.L:
        check_links(np.zeros((2, L, L)), base.L)
    if sampler not in ("em", "pc"):
        raise ValueError(f"sample_u1: sampler={sampler!r}, expected 'em' or 'pc'")
    parts = []
    for i, start in enumerate(range(0, n_samples, batch)):
        m = min(batch, n_samples - start)
        x, _ = dd.sample(score, jax.random.fold_in(key, i), (2, L, L), n_samples=m, sampler=sampler, steps=steps,
                         n_corrector=n_corrector, snr=snr)
        parts.append(wrap(x))
    return jnp.concatenate(parts)


def wrapped_normal_log_prob(x: Float[ArrayLike, "*shape"], s: float, n_images: int = 6) -> Float[Array, ""]:
    r"""$\sum_i \log\sum_{|k|\le K}\mathcal N(x_i + 2\pi k; 0, s^2)$: the log-density on the torus of
    i.i.d. $\mathcal N(0, s^2)$ components read mod $2\pi$, in nats (`x` and `s` in radians; a
    $2\pi$-periodic function of `x`; $K$ = `n_images`, enough for $s \lesssim 4$: the next image
    weighs $< e^{-(2K+1)^2\pi^2/2s^2}$)."""
    d = wrap(jnp.asarray(x)).reshape(-1)[:, None] + 2 * jnp.pi * jnp.arange(-n_images, n_images + 1)
    per = jax.scipy.special.logsumexp(-0.5 * (d / s) ** 2, axis=1) - 0.5 * jnp.log(2 * jnp.pi * s**2)
    return jnp.sum(per)


def u1_proposals(score: U1Score | ConditionedU1Score, key: PRNGKeyArray, L: int, n_samples: int, *,
                 steps: int = 20, batch_size: int | None = None, progress: bool | str = False,
                 fold: str = "reject") -> tuple[Float[Array, "n_samples 2 L L"], Float[Array, " n_samples"]]:
    r"""Independent configurations from the Heun sampler of a (conditioned) U(1) score, wrapped to
    $(-\pi, \pi]$, with their exact log-density on the torus (module docstring): the proposals of an
    exact independence Metropolis, `dd.metropolis_correct(key, links, log_q, log_p)` with
    $\log p = \beta\sum_P\cos\theta_P$. Cost per configuration: `2 * steps` score evaluations,
    each with $2L^2$ JVPs, and `steps` log-determinants of $2L^2\times 2L^2$ matrices. A
    proposal whose Heun map folds (a step with $\det J \le 0$) gets $\log q = +\infty$ with the
    default `fold="reject"` and is rejected by the Metropolis step (`dd.sample_with_log_density`);
    at $\beta = 7$ with the analytic field alone (L = 4, 10 steps) that is a quarter of them.

    **Returns:** `(links, log_q)`."""
    base = score.score if isinstance(score, ConditionedU1Score) else score
    if L != base.L:
        check_links(np.zeros((2, L, L)), base.L)
    s_max = float(base.process.mean_std(base.process.t_max)[1])
    x, log_q, _ = dd.sample_with_log_density(score, key, (2, L, L), n_samples, steps=steps, batch_size=batch_size,
                                             prior_log_prob=jax.tree_util.Partial(wrapped_normal_log_prob, s=s_max),
                                             progress=progress, fold=fold)
    return wrap(x), log_q


def hmc_refine(key: PRNGKeyArray, links: Float[Array, "n 2 L L"], beta: float, *, n_trajectories: int = 10,
               n_leapfrog: int = 10, step_size: float | None = None, n_adapt: int = 10
               ) -> tuple[Float[Array, "n 2 L L"], Float[Array, ""]]:
    r"""A short HMC run at the exact target action $S = -\beta\sum_P\cos\theta_P$ from each
    configuration (one chain per configuration, `n_adapt` step-size-adapting trajectories then
    `n_trajectories` at the frozen step): equilibrates the local fluctuations; the topological
    sector of each configuration stays what it was at large $\beta$.

    **Returns:** `(links, acceptance)`: the last configuration of every chain and the mean
    acceptance probability of the fixed-step trajectories (a scalar array; works under jit)."""
    beta = _check_beta(beta)
    check_links(links)
    eps = 0.5 / math.sqrt(beta) / n_leapfrog * 3 if step_size is None else step_size
    kernel = HMC(U1Action(jnp.asarray(beta)), eps, n_leapfrog, wrap=wrap)
    xs, info, _ = sample_chains(kernel, key, links, 1, n_therm=max(n_adapt, 1), thin=n_trajectories,
                                adapt_step_size=n_adapt > 0)
    return xs[:, -1], jnp.mean(info.acceptance_probability)
