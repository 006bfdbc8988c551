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
invariant and translation equivariant. At zero noise $h_P = -\beta\sin\theta_P$ (the drift of
$S = -\beta\sum_P\cos\theta_P$); the network adds a learned residual to the Gaussian
approximation $h_P^{(0)} = -\beta\sin\theta_P/(1 + 4\beta s^2)$ (a plaquette of variance
$1/\beta$ convolved with the plaquette noise of variance $4s^2$).

**Physics conditioning** (`ConditionedU1Score`): at sampling time the learned $h_P$ of the model
trained at $\beta_{train}$ is scaled by $\beta_{target}/\beta_{train}$, and blended with the exact
drift $-\beta_{target}\sin\theta_P$ at small noise with weight $e^{-(s/s_{exact})^2}$. After the
reverse SDE, `hmc_refine` runs a short HMC at the exact target action from every sample; HMC
does not move between topological sectors at large $\beta$, so the sector weights are those of
the diffusion stage: the workflow `u1-diffusion` measures them against `u1_exact`.

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
    "gaussian_plaquette_field",
    "gauge_augment",
    "hmc_refine",
    "plaquette_adjoint",
    "sample_u1",
    "u1_dsm_loss",
    "u1_proposals",
    "wrapped_normal_log_prob",
    "wrapped_normal_score",
]


CONDITIONING_MODES = {
    "villain": "h scaled by [b_t/(1 + 4 b_t s^2)]/[b/(1 + 4 b s^2)]: b_t/b at zero noise, 1 at large noise",
    "scale": "h scaled by b_t/b at every noise level (DM4U1)",
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


def gaussian_plaquette_field(theta_p: Float[Array, "L L"], beta: Float[ArrayLike, ""],
                             s: Float[ArrayLike, ""]) -> Float[Array, "L L"]:
    r"""$h_P = -\beta\sin\theta_P/(1 + 4\beta s^2)$: the local Gaussian approximation to the noised
    ensemble at coupling $\beta$ and link noise $s$ (a plaquette of variance $1/\beta$ plus its own
    noise of variance $4s^2$, the correlations of neighbouring plaquette noises neglected), with
    $\sin\theta_P$ for $\theta_P$ (periodic). Exact at $s = 0$; vanishes as $1/s^2$ at large noise,
    where the wrapped noised density becomes uniform. (Keeping the noise correlations,
    $h(p) \propto \beta/(1 + \beta s^2\lambda_p)$ with $\lambda_p = 4 - 2\cos p_0 - 2\cos p_1$,
    is wrong for a periodic state: it keeps the full force $\beta$ on the long-wavelength modes of
    $\sin\theta_P$ at any noise, and measured at L = 8 it samples $\beta = 7$ far worse.)"""
    return -beta * jnp.sin(theta_p) / (1 + 4 * beta * s**2)


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
      h_P = -\frac{\beta\sin\theta_P}{1 + 4\beta s_t^2} + r_P(\theta; \ln s_t)$$

    with $r$ = `net` (`U1ScoreNet`) and $s_t$ from `process` (a VE process, e.g.
    `dd.VEGeometric(0.01, 3.0)`). A score in the sense of `dphys.diffusion` (`score(x, t)` on one
    configuration `(2, L, L)`, with a `process`), so `dd.sample` draws from it.

    **Arguments:** `net`, `process`, `beta` (> 0), `L` (the training lattice size; other sizes are
    refused unless rebuilt with `on_lattice`).
    """

    net: U1ScoreNet
    process: dd.AbstractProcess
    beta: float = eqx.field(static=True)
    L: int = eqx.field(static=True)

    def __init__(self, net: U1ScoreNet, process: dd.AbstractProcess, beta: float, L: int):
        if not isinstance(process, dd.AbstractProcess):
            raise ValueError(f"U1Score: process must be a dphys.diffusion process, got {process!r}")
        if float(process.mean_std(process.t_max)[0]) != 1.0:
            raise ValueError("U1Score: the wrapped-noise construction needs a variance-exploding process "
                             f"(alpha_t = 1), got {type(process).__name__}")
        self.net, self.process = net, process
        self.beta = _check_beta(beta)
        self.L = int(L)

    def on_lattice(self, L: int) -> U1Score:
        """The same (fully convolutional) network used on an L x L lattice: the documented transfer."""
        return U1Score(self.net, self.process, self.beta, L)

    def plaquette_field(self, links: Float[Array, "2 L L"], t: Float[ArrayLike, ""]) -> Float[Array, "L L"]:
        """$h_P$ at time t (radians$^{-1}$)."""
        _, s = self.process.mean_std(t)
        tp = plaquette_angles(links)
        return gaussian_plaquette_field(tp, self.beta, s) + self.net(tp, jnp.log(s))

    def __call__(self, links: Float[Array, "2 L L"], t: Float[ArrayLike, ""]) -> Float[Array, "2 L L"]:
        check_links(links, self.L)
        return plaquette_adjoint(self.plaquette_field(links, t))


class ConditionedU1Score(eqx.Module):
    r"""A `U1Score` trained at $\beta_{train}$ conditioned on $\beta_{target}$:

    $$h_P^{target} = (1 - w)\,\frac{\beta_{target}}{\beta_{train}}\,h_P + w\,(-\beta_{target}\sin\theta_P),
      \qquad w = e^{-(s_t/s_{exact})^2},$$

    i.e. the learned score scaled by the coupling ratio (exact for $\log p_0 = \beta\sum\cos\theta_P$
    at zero noise) and, at small noise, the exact drift of the target action (where denoising score
    matching learns least). `s_exact = 0` switches the blend off.

    **Arguments:** `score` (a `U1Score`), `beta_target` (> 0), `s_exact` (>= 0, radians),
    `max_ratio`: above `beta_target/beta_train` > `max_ratio` a `UserWarning` says the model is
    used far outside what it was trained for.
    """

    score: U1Score
    beta_target: Float[Array, ""]  # traced: one compilation serves every target coupling
    s_exact: float = eqx.field(static=True)
    mode: str = eqx.field(static=True)

    def __init__(self, score: U1Score, beta_target: float, s_exact: float = 0.05, max_ratio: float = 10.0,
                 mode: str = "villain"):
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
        """The factor applied to the learned $h_P$ at noise level `s` (see the class docstring)."""
        b1, b2 = self.score.beta, self.beta_target
        if self.mode == "scale":
            return b2 / b1 * jnp.ones_like(s)
        return b2 * (1 + 4 * b1 * s**2) / (b1 * (1 + 4 * b2 * s**2))

    def __call__(self, links: Float[Array, "2 L L"], t: Float[ArrayLike, ""]) -> Float[Array, "2 L L"]:
        check_links(links, self.score.L)
        _, s = self.process.mean_std(t)
        if self.mode == "scale":
            h = self.ratio(s) * self.score.plaquette_field(links, t)
        else:
            tp = plaquette_angles(links)
            h = gaussian_plaquette_field(tp, self.beta_target, s) + self.ratio(s) * self.score.net(tp, jnp.log(s))
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
                 steps: int = 20, batch_size: int | None = None, progress: bool | str = False
                 ) -> tuple[Float[Array, "n_samples 2 L L"], Float[Array, " n_samples"]]:
    r"""Independent configurations from the Heun sampler of a (conditioned) U(1) score, wrapped to
    $(-\pi, \pi]$, with their exact log-density on the torus (module docstring): the proposals of an
    exact independence Metropolis, `dd.metropolis_correct(key, links, log_q, log_p)` with
    $\log p = \beta\sum_P\cos\theta_P$. Cost per configuration: `2 * steps` score evaluations,
    each with $2L^2$ JVPs, and `steps` log-determinants of $2L^2\times 2L^2$ matrices.

    **Returns:** `(links, log_q)`."""
    base = score.score if isinstance(score, ConditionedU1Score) else score
    if L != base.L:
        check_links(np.zeros((2, L, L)), base.L)
    s_max = float(base.process.mean_std(base.process.t_max)[1])
    x, log_q, _ = dd.sample_with_log_density(score, key, (2, L, L), n_samples, steps=steps, batch_size=batch_size,
                                             prior_log_prob=jax.tree_util.Partial(wrapped_normal_log_prob, s=s_max),
                                             progress=progress)
    return wrap(x), log_q


def hmc_refine(key: PRNGKeyArray, links: Float[Array, "n 2 L L"], beta: float, *, n_trajectories: int = 10,
               n_leapfrog: int = 10, step_size: float | None = None, n_adapt: int = 10
               ) -> tuple[Float[Array, "n 2 L L"], float]:
    r"""A short HMC run at the exact target action $S = -\beta\sum_P\cos\theta_P$ from each
    configuration (one chain per configuration, `n_adapt` step-size-adapting trajectories then
    `n_trajectories` at the frozen step): equilibrates the local fluctuations; the topological
    sector of each configuration stays what it was at large $\beta$.

    **Returns:** `(links, acceptance)`: the last configuration of every chain and the mean
    acceptance probability of the fixed-step trajectories."""
    beta = _check_beta(beta)
    check_links(links)
    eps = 0.5 / math.sqrt(beta) / n_leapfrog * 3 if step_size is None else step_size
    kernel = HMC(U1Action(jnp.asarray(beta)), eps, n_leapfrog, wrap=wrap)
    xs, info, _ = sample_chains(kernel, key, links, 1, n_therm=max(n_adapt, 1), thin=n_trajectories,
                                adapt_step_size=n_adapt > 0)
    return xs[:, -1], float(jnp.mean(info.acceptance_probability))
