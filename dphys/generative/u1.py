r"""The U(1) generator: a score-based diffusion model of 2D U(1) link angles on the torus, trained
at a small coupling and sampled at larger ones by physics conditioning (the DM4U1 idea).

Built from `dphys.diffusion` (the VE process, wrapped-normal noise `wrapped_normal_score`,
samplers, the exact Heun density), `dphys.lattice.u1` (the Wilson action, plaquettes, and the
analytic physics of the noised ensemble: `local_plaquette_field`, `topological_field`,
`plaquette_adjoint`; see that module's docstring) and `dphys.nn.gauge` (the plaquette network
`U1ScoreNet`).

**The score** (`U1Score`): $\nabla\log p_t = \texttt{plaquette\_adjoint}(h)$ with
$h_P = h^{loc}_P + h^{top}_P + r_P$, the analytic field known for every $\beta$ plus a residual
$r$ learned at $\beta_{train}$ by wrapped denoising score matching (`u1_dsm_loss`, `train_u1_score`
on gauge-augmented batches). It is $2\pi$-periodic, so the Euler-Maruyama reverse SDE of
`dd.sample` can run on the unwrapped angles and be wrapped at the end; the prior
$\mathcal N(0, s_{max}^2)$ is uniform on the torus up to $e^{-2 s_{max}^2}$ in every
gauge-invariant quantity (a plaquette collects four link noises).

**Physics conditioning** (`ConditionedU1Score`, `CONDITIONING_MODES`): at sampling time the
analytic field is evaluated at $\beta_{target}$, the residual learned at $\beta_{train}$ is kept or
rescaled, and at small noise the exact drift $-\beta_{target}\sin\theta_P$ takes over with weight
$e^{-(s/s_{exact})^2}$. Mode `"dm4u1"` is DM4U1's own conditioning instead: the whole learned score
(analytic field at $\beta_{train}$ plus residual) times $\beta_{target}/\beta_{train}$, exact at
zero noise (the score of $e^{-\beta S}$ is linear in $\beta$) and not beyond; DM4U1 samples it with
annealed Langevin dynamics and a Metropolis step at small noise (`sample_u1(..., sampler="annealed")`).
After the reverse process, `hmc_refine` runs a short HMC at the exact target action from every
sample; HMC does not move between topological sectors at large $\beta$, so the sector weights
are those of the diffusion stage: the workflow `u1-diffusion` measures them against `u1_exact`.

**Exact independence Metropolis** (`u1_proposals`, `u1_exact_metropolis`): the score is
$2\pi$-periodic, so each Heun step commutes with the shifts by $2\pi$ and the density of the
wrapped Heun samples on the torus is the wrapped-normal prior density of the starting point divided
by the Jacobian determinant of the map (`dd.sample_with_log_density` with
`dd.wrapped_normal_log_prob` as the prior). With it, `dd.metropolis_correct` makes the ensemble
exact for any target action, sectors included; its acceptance measures how well the conditioned
model matches the target.

**References** (`u1_hmc_ensemble`): HMC chains of the Wilson action by `dphys.mcmc.adapted_ensemble`
(adapt, freeze the median step, sample in chunks), the training data and the frozen-topology
baseline; `dphys.lattice.tau_q` measures their charge autocorrelation.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

import dphys.diffusion as dd
from dphys._checks import positive_int, positive_number
from dphys.lattice.u1 import (
    U1Action,
    check_links,
    gauge_augment,
    local_plaquette_field,
    plaquette_adjoint,
    plaquette_angles,
    topological_field,
    wrap,
)
from dphys.mcmc import HMC, adapted_ensemble, sample_chains
from dphys.nn.gauge import U1ScoreNet
from dphys.train import TrainResult, augmented_batches, fit, warmup_cosine_adam

__all__ = [
    "CONDITIONING_MODES",
    "ConditionedU1Score",
    "DiffusionEnsemble",
    "MetropolisResult",
    "U1Score",
    "annealed_langevin",
    "diffusion_ensemble",
    "hmc_refine",
    "sample_u1",
    "train_u1_score",
    "u1_dsm_loss",
    "u1_exact_metropolis",
    "u1_hmc_ensemble",
    "u1_proposals",
]


CONDITIONING_MODES = {
    "scale": "learned residual scaled by b_t/b at every noise level",
    "villain": "learned residual scaled by [b_t/(1 + 4 b_t s^2)]/[b/(1 + 4 b s^2)]: b_t/b at zero noise, 1 at large",
    "keep": "learned residual as trained at b",
    "drop": "no learned residual: the analytic physics field at b_t alone (a control)",
    "dm4u1": "DM4U1: the whole learned score at b (physics field at b + residual) times b_t/b",
}


def _check_beta(name: str, beta, what: str = "beta") -> float:
    return positive_number(name, f"{what} (inverse coupling)", beta)


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
        self.beta = _check_beta("U1Score", beta)
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

    Mode `"dm4u1"` (DM4U1's conditioning) replaces the bracket by the whole learned score scaled,
    $(\beta_{target}/\beta_{train})\,[h^{loc}_P(\beta_{train}) + h^{top}_P(\beta_{train}) + r_P]$: exact at
    zero noise, where the score of $e^{-\beta S}$ is linear in $\beta$, and not at finite noise
    (the noised density is not a power of the training one); the blend applies the same way.

    Called as `cond(links, t)` on one configuration `(2, L, L)` (radians) at time `t`; returns the
    score `(2, L, L)` (radians$^{-1}$).

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
        beta_target = _check_beta("ConditionedU1Score", beta_target, "beta_target")
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
                "drop": jnp.zeros_like(s),
                "dm4u1": b2 / b1 * jnp.ones_like(s)}[self.mode]

    def __call__(self, links: Float[Array, "2 L L"], t: Float[ArrayLike, ""]) -> Float[Array, "2 L L"]:
        check_links(links, self.score.L)
        _, s = self.process.mean_std(t)
        tp = plaquette_angles(links)
        if self.mode == "dm4u1":  # the whole score learned at beta_train, times beta_target / beta_train
            h = self.ratio(s) * (self.score.physics_field(tp, self.score.beta, s) + self.score.net(tp, jnp.log(s)))
        else:
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
    `dphys.fit` as `lambda m, b, k: u1_dsm_loss(m, b, k)`.

    **Arguments:** `score` (a `U1Score`), `x0` clean links `(batch, 2, L, L)` (radians), `key`,
    `n_images` of the wrapped-normal target.

    **Returns:** the scalar loss (dimensionless)."""
    check_links(x0, score.L, "x0")
    n = x0.shape[0]
    k_t, k_z = jax.random.split(key)
    t, w = dd.sample_training_times(score.process, k_t, n, "ncsn")
    _, s = jax.vmap(score.process.mean_std)(t)
    sb = s[:, None, None, None]
    xt = x0 + sb * jax.random.normal(k_z, x0.shape, x0.dtype)
    target = dd.wrapped_normal_score(xt, x0, jnp.broadcast_to(sb, x0.shape), n_images)
    pred = jax.vmap(score)(xt, t)
    per_sample = jnp.mean(((pred - target) * sb) ** 2, axis=(1, 2, 3))
    return jnp.mean(w * per_sample)


def sample_u1(score: U1Score | ConditionedU1Score, key: PRNGKeyArray, L: int, n_samples: int, *,
              steps: int = 200, sampler: str = "em", n_corrector: int = 1, snr: float = 0.16,
              batch: int = 256, n_langevin: int = 2, step_scale: float = 0.5,
              s_metropolis: float = 0.05) -> Float[Array, "n_samples 2 L L"]:
    r"""Independent configurations of a (conditioned) U(1) score, wrapped to $(-\pi, \pi]$, drawn in
    batches of at most `batch`.

    - `"em"`: the Euler-Maruyama reverse SDE of `dd.sample`, `steps` steps (one score evaluation each);
    - `"pc"`: the same plus `n_corrector` Langevin corrector steps per step at signal-to-noise
      ratio `snr`;
    - `"annealed"`: DM4U1's sampler, annealed Langevin dynamics (`annealed_langevin`): `steps`
      noise levels from the process's largest to its smallest, `n_langevin` Langevin steps of size
      `step_scale` $s_i^2$ at each, Metropolis-adjusted at the exact target action for
      $s_i \le$ `s_metropolis` (`steps * n_langevin` score evaluations).

    The score is $2\pi$-periodic, so the unwrapped dynamics is the wrapped one read mod $2\pi$.

    **Arguments:** `score`, `key`, `L` (the model's lattice size), `n_samples` >= 1, and the
    sampler settings above.

    **Returns:** links `(n_samples, 2, L, L)` (radians)."""
    base = score.score if isinstance(score, ConditionedU1Score) else score
    if L != base.L:
        check_links(np.zeros((2, L, L)), base.L)
    if sampler not in ("em", "pc", "annealed"):
        raise ValueError(f"sample_u1: sampler={sampler!r}, expected 'em', 'pc' or 'annealed'")
    n_samples = positive_int("sample_u1", "n_samples", n_samples)
    parts = []
    for i, start in enumerate(range(0, n_samples, batch)):
        m = min(batch, n_samples - start)
        if sampler == "annealed":
            x, _ = annealed_langevin(score, jax.random.fold_in(key, i), L, m, levels=steps, n_langevin=n_langevin,
                                     step_scale=step_scale, s_metropolis=s_metropolis)
        else:
            x, _ = dd.sample(score, jax.random.fold_in(key, i), (2, L, L), n_samples=m, sampler=sampler, steps=steps,
                             n_corrector=n_corrector, snr=snr)
        parts.append(wrap(x))
    return jnp.concatenate(parts)


@eqx.filter_jit
def _annealed(score, key, x, sigmas, n_langevin, step_scale, s_metropolis, beta):
    process = score.process
    action = U1Action(beta)
    batch_score = jax.vmap(score, in_axes=(0, None))

    def level(carry, inputs):
        x, n_acc, n_try = carry
        sigma, k_level = inputs
        t = process.t_of_std(sigma)
        alpha = step_scale * sigma**2
        metropolis = sigma <= s_metropolis

        def step(c, k):
            x, g, n_acc, n_try = c
            k_z, k_u = jax.random.split(k)
            y = x + 0.5 * alpha * g + jnp.sqrt(alpha) * jax.random.normal(k_z, x.shape, x.dtype)
            g_y = batch_score(y, t)

            def log_q(to, frm, g_frm):  # the Gaussian proposal density, up to a constant
                return -jnp.sum((to - frm - 0.5 * alpha * g_frm) ** 2, axis=(1, 2, 3)) / (2 * alpha)

            log_ratio = (jax.vmap(action)(x) - jax.vmap(action)(y)) + log_q(x, y, g_y) - log_q(y, x, g)
            accept = jnp.where(metropolis, jnp.log(jax.random.uniform(k_u, log_ratio.shape)) < log_ratio, True)
            a = accept[:, None, None, None]
            return (jnp.where(a, y, x), jnp.where(a, g_y, g), n_acc + jnp.where(metropolis, jnp.sum(accept), 0),
                    n_try + jnp.where(metropolis, accept.size, 0)), None

        g = batch_score(x, t)
        (x, _, n_acc, n_try), _ = jax.lax.scan(step, (x, g, n_acc, n_try), jax.random.split(k_level, n_langevin))
        return (x, n_acc, n_try), None

    keys = jax.random.split(key, sigmas.shape[0])
    (x, n_acc, n_try), _ = jax.lax.scan(level, (x, jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32)),
                                        (sigmas, keys))
    return x, n_acc / jnp.maximum(n_try, 1)


def annealed_langevin(score: U1Score | ConditionedU1Score, key: PRNGKeyArray, L: int, n_samples: int, *,
                      levels: int = 100, n_langevin: int = 2, step_scale: float = 0.5, s_metropolis: float = 0.05
                      ) -> tuple[Float[Array, "n_samples 2 L L"], Float[Array, ""]]:
    r"""Annealed Langevin dynamics (Song & Ermon 2019) with a Metropolis step at small noise, the
    sampler of DM4U1: from the prior $\mathcal N(0, s_{max}^2)$, for each of `levels` noise levels
    $s_i$ geometric from the process's $s_{max}$ to $s_{min}$, `n_langevin` steps

    $$x' = x + \tfrac{\epsilon_i}{2}\,S(x, s_i) + \sqrt{\epsilon_i}\,z,\qquad \epsilon_i = c\,s_i^2$$

    ($c$ = `step_scale`; $\epsilon_i$ times the largest curvature of the noised log-density, at most
    $1/s_i^2$, stays below $c$). At the levels with $s_i \le$ `s_metropolis` every step is a MALA step
    accepted with probability $\min(1, e^{-S(x') + S(x)}\,q(x|x')/q(x'|x))$ at the exact Wilson action
    at the target coupling (`beta_target` of a `ConditionedU1Score`, `beta` of a `U1Score`), so that
    the local fluctuations end up at the target (the topological sectors are those of the annealing,
    as for `hmc_refine`). `levels * n_langevin` score evaluations per sample; not wrapped.

    **Arguments:** `score`, `key`, `L`, `n_samples` >= 1; `levels`, `n_langevin` >= 1;
    `step_scale` > 0; `s_metropolis` >= 0 (radians; 0: no Metropolis step).

    **Returns:** `(links, acceptance)`: unwrapped links `(n_samples, 2, L, L)` and the mean
    acceptance probability of the Metropolis steps (1 when there were none)."""
    base = score.score if isinstance(score, ConditionedU1Score) else score
    if L != base.L:
        check_links(np.zeros((2, L, L)), base.L)
    n_samples = positive_int("annealed_langevin", "n_samples", n_samples)
    levels = positive_int("annealed_langevin", "levels", levels)
    n_langevin = positive_int("annealed_langevin", "n_langevin", n_langevin)
    step_scale = positive_number("annealed_langevin", "step_scale", step_scale)
    if not (math.isfinite(float(s_metropolis)) and float(s_metropolis) >= 0):
        raise ValueError(f"annealed_langevin: s_metropolis={s_metropolis!r}, expected a finite number >= 0 (radians)")
    process = base.process
    with jax.ensure_compile_time_eval():  # the noise range is static, also under jit
        s_max = float(process.mean_std(process.t_max)[1])
        s_min = float(process.mean_std(process.t_min)[1])
    sigmas = jnp.asarray(np.geomspace(s_max, s_min, levels), jnp.result_type(float))
    beta = score.beta_target if isinstance(score, ConditionedU1Score) else jnp.asarray(base.beta)
    k_prior, k_run = jax.random.split(key)
    x = s_max * jax.random.normal(k_prior, (n_samples, 2, L, L), jnp.result_type(float))
    x, acceptance = _annealed(score, k_run, x, sigmas, n_langevin, step_scale, jnp.asarray(float(s_metropolis)), beta)
    return x, jnp.where(sigmas[-1] <= s_metropolis, acceptance, 1.0)


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

    **Arguments:** `score`, `key`, `L` (the model's lattice size), `n_samples`, `steps` (Heun steps),
    `batch_size`, `progress`, `fold` (`dd.FOLD_MODES`).

    **Returns:** `(links, log_q)`: links `(n_samples, 2, L, L)` (radians) and their log-density on
    the torus (nats)."""
    base = score.score if isinstance(score, ConditionedU1Score) else score
    if L != base.L:
        check_links(np.zeros((2, L, L)), base.L)
    with jax.ensure_compile_time_eval():
        s_max = float(base.process.mean_std(base.process.t_max)[1])
    x, log_q, _ = dd.sample_with_log_density(score, key, (2, L, L), n_samples, steps=steps, batch_size=batch_size,
                                             prior_log_prob=jax.tree_util.Partial(dd.wrapped_normal_log_prob, s=s_max),
                                             progress=progress, fold=fold)
    return wrap(x), log_q


def hmc_refine(key: PRNGKeyArray, links: Float[Array, "n 2 L L"], beta: float, *, n_trajectories: int = 10,
               n_leapfrog: int = 10, step_size: float | None = None, n_adapt: int = 10
               ) -> tuple[Float[Array, "n 2 L L"], Float[Array, ""]]:
    r"""A short HMC run at the exact target action $S = -\beta\sum_P\cos\theta_P$ from each
    configuration (one chain per configuration, `n_adapt` step-size-adapting trajectories then
    `n_trajectories` at the frozen step): equilibrates the local fluctuations; the topological
    sector of each configuration stays what it was at large $\beta$.

    **Arguments:** `key`, `links` `(n, 2, L, L)` (radians), `beta` > 0 (concrete), `n_trajectories`,
    `n_leapfrog`, `step_size` (None: $1.5/(\sqrt\beta\,n_{leapfrog})$, adapted over `n_adapt`).

    **Returns:** `(links, acceptance)`: the last configuration of every chain and the mean
    acceptance probability of the fixed-step trajectories (a scalar array; works under jit)."""
    beta = _check_beta("hmc_refine", beta)
    check_links(links)
    eps = 0.5 / math.sqrt(beta) / n_leapfrog * 3 if step_size is None else step_size
    kernel = HMC(U1Action(jnp.asarray(beta)), eps, n_leapfrog, wrap=wrap)
    xs, info, _ = sample_chains(kernel, key, links, 1, n_therm=max(n_adapt, 1), thin=n_trajectories,
                                adapt_step_size=n_adapt > 0)
    return xs[:, -1], jnp.mean(info.acceptance_probability)


# --------------------------------------------------------------------------------------------
# Recipes: training, conditioned ensembles, references, exact Metropolis
# --------------------------------------------------------------------------------------------


def u1_hmc_ensemble(beta: float, L: int, *, chains: int, samples: int, therm: int, n_leapfrog: int,
                    key: PRNGKeyArray, start: str = "hot") -> tuple[np.ndarray, float, float, float]:
    r"""HMC chains of the Wilson action $S = -\beta\sum_P\cos\theta_P$ on an L x L lattice, by
    `dphys.mcmc.adapted_ensemble` (`therm` step-size-adapting trajectories from the initial step
    $0.3/\sqrt\beta$, the median step frozen, then `samples` trajectories per chain in two equal
    chunks, one compilation; the second chunk is timed).

    **Arguments:** `beta` > 0; `L` >= 2; `chains`, `samples`, `therm`, `n_leapfrog` >= 1; `key`;
    `start`: `"hot"` (uniform links) or `"ordered"` (all links zero, $Q = 0$).

    **Returns:** `(samples, acceptance, step_size, seconds)`: the links `(samples, chains, 2, L, L)`
    (NumPy, time-major), the mean acceptance probability, the frozen step size and the wall-clock
    seconds per trajectory and chain (of the second chunk)."""
    name = "u1_hmc_ensemble"
    beta = _check_beta(name, beta)
    L = positive_int(name, "L", L)
    if L < 2:
        raise ValueError(f"{name}: L={L}, expected >= 2")
    chains, samples = positive_int(name, "chains", chains), positive_int(name, "samples", samples)
    therm, n_leapfrog = positive_int(name, "therm", therm), positive_int(name, "n_leapfrog", n_leapfrog)
    if start not in ("hot", "ordered"):
        raise ValueError(f"{name}: start={start!r}, expected 'hot' or 'ordered'")
    k_init, k_run = jax.random.split(key)
    kernel = HMC(U1Action(jnp.asarray(beta)), 0.3 / math.sqrt(beta), n_leapfrog, wrap=wrap)  # traced beta
    if start == "hot":
        x0 = jax.random.uniform(k_init, (chains, 2, L, L), minval=-np.pi, maxval=np.pi)
    else:
        x0 = jnp.zeros((chains, 2, L, L))
    out, acceptance = adapted_ensemble(kernel, k_run, x0, samples, n_adapt=therm, chunks=2)
    half = out.samples.shape[0] // 2
    return np.asarray(out.samples)[:samples], acceptance, float(out.step_size), out.seconds[1] / (half * chains)


def train_u1_score(data: Float[ArrayLike, "n 2 L L"], beta: float, *, width: int, depth: int, s_min: float,
                   s_max: float, steps: int, batch_size: int, lr: float, key: PRNGKeyArray,
                   checkpoint_dir=None, progress: bool = True, topological: bool = True
                   ) -> tuple[U1Score, TrainResult]:
    r"""Train a `U1Score` (a `U1ScoreNet` of `width` channels and `depth` blocks on the VE process
    `dd.VEGeometric(s_min, s_max)`, link noise in radians) on link configurations `data` at
    coupling `beta` by wrapped denoising score matching (`u1_dsm_loss`) on batches of `batch_size`
    augmented by random gauge transformations (`gauge_augment`), with `dphys.fit` and
    `dphys.train.warmup_cosine_adam(lr, steps)`; checkpoints in `checkpoint_dir` (None: none).

    **Returns:** `(score, result)`: the trained score and the `TrainResult` (losses)."""
    name = "train_u1_score"
    data = np.asarray(data)
    L = check_links(data, name="data")
    if data.ndim != 4:
        raise ValueError(f"{name}: data of shape {data.shape}, expected (n, 2, L, L)")
    beta = _check_beta(name, beta)
    if not (0 < float(s_min) < float(s_max)):
        raise ValueError(f"{name}: s_min={s_min}, s_max={s_max}: expected 0 < s_min < s_max (radians)")
    steps, batch_size = positive_int(name, "steps", steps), positive_int(name, "batch_size", batch_size)
    k_net, k_fit = jax.random.split(key)
    score = U1Score(U1ScoreNet(width, depth, key=k_net), dd.VEGeometric(s_min, s_max), beta, L, topological)
    batch_fn = augmented_batches(data, batch_size, gauge_augment)
    optimizer = warmup_cosine_adam(lr, steps)
    log_every = max(1, min(100, steps // 10))
    result = fit(lambda m, b, k: u1_dsm_loss(m, b, k), score, optimizer, batch_fn, steps=steps, key=k_fit,
                 log_every=log_every, checkpoint_dir=checkpoint_dir,
                 checkpoint_every=None if checkpoint_dir is None else log_every * max(1, 500 // log_every),
                 progress=progress, desc="u1-diffusion training")
    return result.model, result


class DiffusionEnsemble(NamedTuple):
    """What `diffusion_ensemble` returns: the `raw` samples of the conditioned score, the `refined`
    ones after `hmc_refine` (NumPy, `(n, 2, L, L)`), the refinement's `acceptance` (NaN without
    one) and the wall-clock `seconds` per configuration (generation + refinement, second half)."""

    raw: np.ndarray
    refined: np.ndarray
    acceptance: float
    seconds: float


def diffusion_ensemble(score: U1Score, beta: float, key: PRNGKeyArray, *, n: int, sampler: str = "em",
                       steps: int = 200, n_corrector: int = 1, s_exact: float = 0.05, mode: str = "keep",
                       n_refine: int = 10, n_langevin: int = 2, s_metropolis: float = 0.05) -> DiffusionEnsemble:
    r"""`n` configurations at coupling `beta` from a `U1Score`: `ConditionedU1Score(score, beta,
    s_exact, mode)` sampled by `sample_u1` (`sampler`, `steps`, `n_corrector`; for `"annealed"`,
    `n_langevin` and `s_metropolis`), then `n_refine` HMC trajectories at the exact target action
    from each (`hmc_refine`; 0: none). Two equal halves (one compilation each for sampling and
    refinement); the second half is timed.

    **Returns:** a `DiffusionEnsemble`."""
    name = "diffusion_ensemble"
    n = positive_int(name, "n", n)
    if isinstance(n_refine, bool) or not isinstance(n_refine, int) or n_refine < 0:
        raise ValueError(f"{name}: n_refine={n_refine!r}, expected an int >= 0")
    cond = ConditionedU1Score(score, beta, s_exact=s_exact, mode=mode)
    L = score.L
    half = -(-n // 2)
    raws, refs, accs = [], [], []
    t_gen = t_ref = 0.0
    for i in range(2):
        k_gen, k_ref = jax.random.split(jax.random.fold_in(key, i))
        t0 = time.perf_counter()
        raw = jax.block_until_ready(sample_u1(cond, k_gen, L, half, steps=steps, sampler=sampler,
                                              n_corrector=n_corrector, batch=half, n_langevin=n_langevin,
                                              s_metropolis=s_metropolis))
        t_gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        if n_refine > 0:
            refined, acc = hmc_refine(k_ref, raw, beta, n_trajectories=n_refine)
            refined = jax.block_until_ready(refined)
        else:
            refined, acc = raw, float("nan")
        t_ref = time.perf_counter() - t0
        raws.append(np.asarray(raw))
        refs.append(np.asarray(refined))
        accs.append(acc)
    return DiffusionEnsemble(np.concatenate(raws)[:n], np.concatenate(refs)[:n], float(np.mean(accs)),
                             (t_gen + t_ref) / half)


class MetropolisResult(NamedTuple):
    """What `u1_exact_metropolis` returns: the Markov `chain` `(n, 2, L, L)` (NumPy), its
    `acceptance`, the `folded_fraction` of proposals through a folding Heun step (rejected), the
    `ess_fraction` of the importance weights p/q per proposal and the number of `distinct_states`."""

    chain: np.ndarray
    acceptance: float
    folded_fraction: float
    ess_fraction: float
    distinct_states: int


def u1_exact_metropolis(score: U1Score, beta: float, key: PRNGKeyArray, *, n: int, steps: int = 10,
                        s_exact: float = 0.05, mode: str = "keep", progress: bool | str = False) -> MetropolisResult:
    r"""An exact independence Metropolis chain at the Wilson action at `beta`: `n` Heun proposals
    (`steps` steps) of `ConditionedU1Score(score, beta, s_exact, mode)` with their exact density on
    the torus (`u1_proposals`), accepted by `dd.metropolis_correct` with $\log p = \beta\sum_P\cos\theta_P$.
    Also the effective sample size of the weights $w = p/q$, $(\sum w)^2/(n\sum w^2)$.

    **Returns:** a `MetropolisResult`."""
    name = "u1_exact_metropolis"
    beta = _check_beta(name, beta)
    n = positive_int(name, "n", n)
    if n < 2:
        raise ValueError(f"{name}: n={n}, expected >= 2 proposals")
    k_prop, k_acc = jax.random.split(key)
    cond = ConditionedU1Score(score, beta, s_exact=s_exact, mode=mode)
    x, log_q = u1_proposals(cond, k_prop, score.L, n, steps=steps, progress=progress)
    log_p = jax.vmap(lambda u: -U1Action(jnp.asarray(beta))(u))(x)
    chain, acceptance = dd.metropolis_correct(k_acc, x, log_q, log_p)
    log_w = np.array(log_p - log_q, dtype=np.float64)
    w = np.exp(log_w - np.max(log_w[np.isfinite(log_w)], initial=0.0))
    w = np.where(np.isfinite(log_w), w, 0.0)
    chain = np.asarray(chain)
    return MetropolisResult(chain, float(acceptance), float(np.mean(np.isinf(np.asarray(log_q)))),
                            float(w.sum() ** 2 / (w**2).sum() / len(w)),
                            len(np.unique(chain.reshape(len(chain), -1), axis=0)))
