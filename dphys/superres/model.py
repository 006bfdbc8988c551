r"""Conditional score models for super-resolution, their denoising-score-matching loss, ensemble
sampling with optional classifier-free guidance, and the deterministic regression baseline.

**Conditional score.** For a fine target $x_0$ (channels $C_t$ on an $H\times W$ grid) and a
coarse condition $c$ ($C_c$ channels on $H/f\times W/f$), `ConditionalScore` approximates
$\nabla_x\log p_t(x\mid c)$ with one U-Net (`dphys.nn.LatticeUNet(C_t + C_c + 1 -> C_t)`) whose
input is the concatenation of the scaled noisy target, the condition upsampled to the fine grid
(`upsample="bicubic"` or `"nearest"`) and a flag channel (1: conditioned, 0: the null condition of
classifier-free guidance, with the condition channels zeroed). The noise parametrisation is the one
of `dphys.diffusion.ScoreModel`: with $x_t = \alpha_t x_0 + s_t z$, either the network predicts
$-z$ (score $= F/s_t$) or, with `edm_precondition=True` (default), the EDM denoiser
$D = c_{skip}\hat x + c_{out}F(c_{in}\hat x, c, c_{noise})$ and Tweedie's formula
$\nabla\log p_t = (D - \hat x)/(\alpha_t\sigma^2)$, $\hat x = x/\alpha_t$, $\sigma = s_t/\alpha_t$.

**Loss.** `conditional_dsm_loss`: for pairs $(c_i, x_{0,i})$,
$L = \mathbb E_t\,w(t)\,\frac1d\|s_t S(x_t, t\mid c) + z\|^2$, the same times and importance
weights as `dphys.diffusion.dsm_loss` (`dphys.diffusion.sample_training_times`), minimised by the
exact conditional score. With probability `p_uncond` a sample's condition is replaced by the null
condition (classifier-free guidance training).

**Sampling.** `sample_ensemble` binds the score to one scene's condition (`BoundScore`, a score
with a `process` attribute) and calls `dphys.diffusion.sample` for `n_members` members, vmapped
over scenes, so one compiled call draws all members of a chunk of scenes. With guidance weight
$w > 0$ the bound score is $(1 + w)S(x\mid c) - wS(x\mid\varnothing)$.

**Baseline.** `RegressionNet`: the same U-Net, input the upsampled condition only, trained by
mean squared error on the same target channels (`regression_loss`); its output is the
conditional mean the network could learn, the deterministic retrieval.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

import dphys.diffusion as dd
from dphys._checks import positive_int
from dphys.nn import LatticeUNet
from dphys.superres.data import bicubic_upsample, check_pair_shapes, normal

__all__ = ["ConditionalScore", "BoundScore", "RegressionNet", "conditional_dsm_loss", "regression_loss",
           "sample_ensemble", "upsample_condition", "predict", "UPSAMPLING"]

UPSAMPLING = ("bicubic", "nearest")


def upsample_condition(cond: Float[Array, "*b C h w"], factor: int,
                       method: str = "bicubic") -> Float[Array, "*b C H W"]:
    """Condition channels on the fine grid: periodic bicubic (`bicubic_upsample`) or nearest
    (pixel replication) upsampling by `factor`."""
    if method == "bicubic":
        return bicubic_upsample(cond, factor)
    if method == "nearest":
        return jnp.repeat(jnp.repeat(cond, factor, axis=-2), factor, axis=-1)
    raise ValueError(f"upsample_condition: unknown method {method!r}; expected one of {UPSAMPLING}")


class ConditionalScore(eqx.Module):
    r"""A learned conditional score $\nabla_x\log p_t(x\mid c)$ on one fine target (module docstring).

    **Arguments:**

    - `target_channels` $C_t$, `condition_channels` $C_c$, `factor` (fine grid = factor x coarse).
    - `process`: the forward process (default `dphys.diffusion.EDM(sigma_data=1)`).
    - `channels`: U-Net channels per level (e.g. `(32, 64)`); `embed_dim` of the noise embedding.
    - `edm_precondition` (default True), `sigma_data` (default: the EDM process's, else 1).
    - `upsample`: `"bicubic"` or `"nearest"` for the condition.
    - `key`: PRNG key of the initial weights.

    Called as `score(x, t, cond_fine, keep=True)`: `x` of shape `(C_t, H, W)`, `cond_fine` the
    upsampled condition `(C_c, H, W)` (`self.condition_input(cond)`), `keep` False for the null
    condition. Returns an array like `x`.
    """

    net: LatticeUNet
    process: dd.AbstractProcess
    target_channels: int = eqx.field(static=True)
    condition_channels: int = eqx.field(static=True)
    factor: int = eqx.field(static=True)
    edm_precondition: bool = eqx.field(static=True)
    sigma_data: float = eqx.field(static=True)
    upsample: str = eqx.field(static=True)

    def __init__(self, target_channels: int, condition_channels: int, factor: int = 2, *,
                 process: dd.AbstractProcess | None = None, channels: tuple[int, ...] = (32, 64),
                 embed_dim: int = 32, edm_precondition: bool = True, sigma_data: float | None = None,
                 upsample: str = "bicubic", key: PRNGKeyArray):
        name = "ConditionalScore"
        self.target_channels = positive_int(name, "target_channels", target_channels)
        self.condition_channels = positive_int(name, "condition_channels", condition_channels)
        self.factor = positive_int(name, "factor", factor)
        if upsample not in UPSAMPLING:
            raise ValueError(f"{name}: upsample={upsample!r}, expected one of {UPSAMPLING}")
        process = dd.EDM(sigma_min=0.002, sigma_max=80.0, sigma_data=1.0) if process is None else process
        if not isinstance(process, dd.AbstractProcess):
            raise ValueError(f"{name}: process must be a dphys.diffusion process, got {process!r}")
        if sigma_data is None:
            sigma_data = process.sigma_data if isinstance(process, dd.EDM) else 1.0
        if not (math.isfinite(sigma_data) and sigma_data > 0):
            raise ValueError(f"{name}: sigma_data must be a finite number > 0, got {sigma_data}")
        self.process, self.sigma_data = process, float(sigma_data)
        self.edm_precondition, self.upsample = bool(edm_precondition), upsample
        self.net = LatticeUNet(self.target_channels + self.condition_channels + 1, tuple(channels),
                               embed_dim=embed_dim, out_channels=self.target_channels, key=key)

    def condition_input(self, cond: Float[Array, "*b C_c h w"]) -> Float[Array, "*b C_c H W"]:
        """The coarse condition upsampled to the fine grid (what the network sees)."""
        if cond.shape[-3] != self.condition_channels:
            raise ValueError(f"ConditionalScore: condition of shape {cond.shape} has {cond.shape[-3]} channels, "
                             f"expected {self.condition_channels}")
        return upsample_condition(cond, self.factor, self.upsample)

    def _net(self, x_in, cond_fine, keep, level):
        keep = jnp.asarray(keep, x_in.dtype)
        flag = jnp.broadcast_to(keep, (1,) + x_in.shape[1:])
        inp = jnp.concatenate([x_in, keep * cond_fine.astype(x_in.dtype), flag])
        return self.net(inp, level)

    def __call__(self, x: Float[Array, "C_t H W"], t, cond_fine: Float[Array, "C_c H W"],
                 keep=True) -> Float[Array, "C_t H W"]:
        alpha, s = self.process.mean_std(t)
        sd2 = self.sigma_data**2
        if not self.edm_precondition:
            c_in = jax.lax.rsqrt(alpha**2 * sd2 + s**2)
            return self._net(c_in * x, cond_fine, keep, self.process.noise_level(t)) / s
        sigma = s / alpha
        c_in = jax.lax.rsqrt(sigma**2 + sd2)
        x_hat = x / alpha
        f = self._net(c_in * x_hat, cond_fine, keep, 0.25 * jnp.log(sigma))
        return (-x_hat * c_in**2 + self.sigma_data * c_in * f / sigma) / alpha

    def bind(self, cond: Float[Array, "C_c h w"], guidance: float = 0.0) -> BoundScore:
        """The score of one scene, `score(x, t)`, for `dphys.diffusion.sample` (module docstring)."""
        return BoundScore(self, self.condition_input(cond), guidance)


class BoundScore(eqx.Module):
    r"""A `ConditionalScore` bound to one scene's (upsampled) condition: `score(x, t)` with a
    `process` attribute. Guidance weight $w \ge 0$: $(1 + w)S(x\mid c) - wS(x\mid\varnothing)$."""

    score: eqx.Module  # a ConditionalScore, or any module with its interface
    cond_fine: Array
    guidance: float = eqx.field(static=True)

    def __init__(self, score: eqx.Module, cond_fine: Array, guidance: float = 0.0):
        guidance = float(guidance)
        if not (math.isfinite(guidance) and guidance >= 0):
            raise ValueError(f"BoundScore: guidance weight must be a finite number >= 0, got {guidance}")
        self.score, self.cond_fine, self.guidance = score, cond_fine, guidance

    @property
    def process(self) -> dd.AbstractProcess:
        return self.score.process

    def __call__(self, x, t):
        s_c = self.score(x, t, self.cond_fine, True)
        if self.guidance == 0.0:
            return s_c
        return (1 + self.guidance) * s_c - self.guidance * self.score(x, t, self.cond_fine, False)


def _check_batch(name, cond, target, factor):
    check_pair_shapes(cond.shape, target.shape, factor, name)
    for what, a in (("condition", cond), ("target", target)):
        if not isinstance(a, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(a))):
            raise ValueError(f"{name}: the {what} contains {int(np.sum(~np.isfinite(np.asarray(a))))} NaN/inf value(s)")


def conditional_dsm_loss(score: eqx.Module, cond: Float[Array, "batch C_c h w"],
                         target: Float[Array, "batch C_t H W"], key: PRNGKeyArray, weighting: str = "edm",
                         p_uncond: float = 0.0) -> Float[Array, ""]:
    r"""Conditional denoising score matching on a batch of pairs (module docstring):

    $$ L = \mathbb E\, w(t)\,\frac1d\big\|s_t\,S(\alpha_t x_0 + s_t z, t \mid c) + z\big\|^2, $$

    minimised by the exact conditional score $\nabla\log p_t(x\mid c)$.

    **Arguments:** `score` a `ConditionalScore`; `cond` coarse conditions; `target` fine targets
    (same batch size, grid ratio `score.factor`); `key`; `weighting` as in
    `dphys.diffusion.dsm_loss` (`"edm"`, `"ncsn"`, `"sigma2"`, `"likelihood"`); `p_uncond` in
    [0, 1): probability of the null condition per sample (classifier-free guidance training).

    **Returns:** the scalar loss.
    """
    _check_batch("conditional_dsm_loss", cond, target, score.factor)
    if not 0 <= p_uncond < 1:
        raise ValueError(f"conditional_dsm_loss: p_uncond={p_uncond} must be in [0, 1)")
    n = target.shape[0]
    t_key, z_key, d_key = jax.random.split(key, 3)
    t, w = dd.sample_training_times(score.process, t_key, n, weighting)
    z = normal(z_key, target.shape, target.dtype)
    alpha, s = jax.vmap(score.process.mean_std)(t)
    xt = alpha[:, None, None, None] * target + s[:, None, None, None] * z
    keep = jax.random.uniform(d_key, (n,)) >= p_uncond
    sc = jax.vmap(score)(xt, t, score.condition_input(cond), keep)
    per_sample = jnp.mean(((s[:, None, None, None] * sc + z) ** 2).reshape(n, -1), axis=1)
    return jnp.mean(w * per_sample)


def sample_ensemble(score: eqx.Module, key: PRNGKeyArray, cond: Float[ArrayLike, "*scenes C_c h w"],
                    n_members: int = 30, *, sampler: str = "heun", steps: int = 18, guidance: float = 0.0,
                    denoise: bool = True, chunk: int | None = None,
                    base: Float[ArrayLike, "*scenes C_t H W"] | None = None,
                    **sample_kw) -> Float[Array, "*scenes n C_t H W"]:
    r"""Ensembles of `n_members` fine targets for one condition `(C_c, h, w)` or a batch of them
    `(n_scenes, C_c, h, w)`: `dphys.diffusion.sample` on the score bound to each scene's
    condition, vmapped over scenes (`chunk` scenes per compiled call; default all).

    **Arguments:** `score`; `key`; `cond`; `n_members` (> 0, default 30 as in CloudDiff);
    `sampler`, `steps`, `denoise` and further keywords of `dphys.diffusion.sample` (default: EDM
    Heun, 18 steps, final Tweedie denoising: 37 score evaluations per member); `guidance` weight
    $w \ge 0$ of classifier-free guidance (needs a score trained with `p_uncond > 0`); `base`:
    residual mode (CorrDiff), for a `score` trained on target minus a deterministic prediction:
    that prediction, one per scene (shape of a target, with the scene axis if `cond` has one),
    added to every member, so the members are base + residual.

    **Returns:** members `(n_scenes, n_members, C_t, H, W)` (no scene axis for one condition).
    """
    n_members = positive_int("sample_ensemble", "n_members (ensemble size)", n_members)
    cond = jnp.asarray(cond)
    single = cond.ndim == 3
    if single:
        cond = cond[None]
    if cond.ndim != 4 or cond.shape[1] != score.condition_channels:
        raise ValueError(f"sample_ensemble: condition of shape {cond.shape}, expected (C_c={score.condition_channels}, "
                         "h, w) or (n_scenes, C_c, h, w)")
    if not isinstance(cond, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(cond))):
        raise ValueError(f"sample_ensemble: the condition contains {int(np.sum(~np.isfinite(np.asarray(cond))))} "
                         "NaN/inf value(s)")
    BoundScore(score, cond[0], guidance)  # validates the guidance weight before compiling
    h, w = cond.shape[-2:]
    shape = (score.target_channels, score.factor * h, score.factor * w)
    chunk = cond.shape[0] if chunk is None else positive_int("sample_ensemble", "chunk", chunk)
    if base is not None:
        base = jnp.asarray(base)
        expected = shape if single else (cond.shape[0], *shape)
        if base.shape != expected:
            raise ValueError(f"sample_ensemble: base of shape {base.shape}, expected {expected} (one target per scene)")
        base = base[None] if single else base

    # The prior draws of all members of all scenes are made here in one call (x_init): random draws
    # vmapped over keys compile slowly. Deterministic samplers ("heun", "ode") then share one key;
    # stochastic ones get one key per scene.
    k_prior, k_run = jax.random.split(key)
    n = cond.shape[0]
    x_init = score.process.prior_std * normal(k_prior, (n, n_members, *shape))
    stochastic = sampler in ("em", "pc")
    keys = jax.random.split(k_run, n) if stochastic else k_run

    def one(c, x0, k):
        x, _ = dd.sample(score.bind(c, guidance), k, shape, n_samples=n_members, sampler=sampler, steps=steps,
                         denoise=denoise, x_init=x0, **sample_kw)
        return x

    # dd.sample builds its time grid with NumPy, so it is vmapped, not jitted; its own jit compiles once
    draw = jax.vmap(one, in_axes=(0, 0, 0 if stochastic else None))
    parts = [draw(cond[i:i + chunk], x_init[i:i + chunk], keys[i:i + chunk] if stochastic else keys)
             for i in range(0, n, chunk)]
    out = jnp.concatenate(parts)
    if base is not None:
        out = out + base[:, None]
    return out[0] if single else out


class RegressionNet(eqx.Module):
    """The deterministic baseline: the same U-Net, fed the upsampled condition only (noise level 0),
    returning the target channels.

    **Arguments:** `target_channels`, `condition_channels`, `factor`, `channels`, `embed_dim`,
    `upsample`, `key` as for `ConditionalScore`.

    Called on one coarse condition `(C_c, h, w)`; returns `(C_t, H, W)`.
    """

    net: LatticeUNet
    factor: int = eqx.field(static=True)
    upsample: str = eqx.field(static=True)
    condition_channels: int = eqx.field(static=True)

    def __init__(self, target_channels: int, condition_channels: int, factor: int = 2, *,
                 channels: tuple[int, ...] = (32, 64), embed_dim: int = 32, upsample: str = "bicubic",
                 key: PRNGKeyArray):
        positive_int("RegressionNet", "target_channels", target_channels)
        self.condition_channels = positive_int("RegressionNet", "condition_channels", condition_channels)
        self.factor = positive_int("RegressionNet", "factor", factor)
        if upsample not in UPSAMPLING:
            raise ValueError(f"RegressionNet: upsample={upsample!r}, expected one of {UPSAMPLING}")
        self.upsample = upsample
        self.net = LatticeUNet(self.condition_channels, tuple(channels), embed_dim=embed_dim,
                               out_channels=target_channels, key=key)

    def __call__(self, cond: Float[Array, "C_c h w"]) -> Float[Array, "C_t H W"]:
        if cond.ndim != 3 or cond.shape[0] != self.condition_channels:
            raise ValueError(f"RegressionNet: condition of shape {cond.shape}, expected "
                             f"({self.condition_channels}, h, w) (vmap for batches)")
        out = self.net(upsample_condition(cond, self.factor, self.upsample), jnp.zeros(()))
        return out if out.ndim == 3 else out[None]


def regression_loss(model: RegressionNet, cond: Float[Array, "batch C_c h w"],
                    target: Float[Array, "batch C_t H W"]) -> Float[Array, ""]:
    """Mean squared error of the regression baseline over a batch (all target channels)."""
    _check_batch("regression_loss", cond, target, model.factor)
    return jnp.mean((jax.vmap(model)(cond) - target) ** 2)


def predict(model: RegressionNet, cond: Float[Array, "n C_c h w"], chunk: int = 256) -> Float[Array, "n C_t H W"]:
    """Regression predictions for a batch of conditions (jitted, in chunks)."""
    return jnp.concatenate([_predict(model, cond[i:i + chunk]) for i in range(0, cond.shape[0], chunk)])


@eqx.filter_jit
def _predict(model, cond):
    return jax.vmap(model)(cond)


