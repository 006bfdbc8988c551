r"""Synthetic cloud scenes, their thermal-infrared forward operator, resampling, and a loader for
user (condition, target) pairs.

Real satellite files (e.g. Himawari-8 AHI 2 km radiances with MODIS 1 km cloud products, the
CloudDiff setting) cannot be downloaded here, so `generate_scenes` draws statistically plausible
scenes on a **periodic** fine grid (pixel = 1 km), which matches the circular convolutions of
`dphys.nn.LatticeUNet`. Everything is a pure, jittable function of a PRNG key.

**Random fields.** Each ingredient is a Gaussian random field on the $n\times n$ torus with power
spectrum $P(k) \propto k^{-\beta}$ ($k = |\mathbf k|$ in units of $2\pi/n$, $k = 0$ removed),
$\beta = 8/3$ by default: the isotropic 2D form of the $k^{-5/3}$ (1D) spectrum of observed cloud
and radiance fields. It is made by multiplying the FFT of white noise by $k^{-\beta/2}$, then
standardised to zero mean and unit variance over the scene (`gaussian_random_field`).

**Cloud properties** (`cloud_fields`; fields $g_m, g_h, g_\tau, g_r, g_p$ independent GRFs; per
scene: cloud fraction $f \sim U(f_{min}, f_{max})$, surface temperature $T_s \sim U(285, 300)$ K,
mean top height $\bar h \sim U(2, 9)$ km):

- cloud mask: cloudy where $g_m > \Phi^{-1}(1 - f)$;
- top height $h = \mathrm{clip}(\bar h + 2.5\,g_h, 0.3, 14)$ km; top temperature
  $T_{top} = T_s - \Gamma h$ with $\Gamma = 6.5$ K/km;
- phase: ice where $T_{top} < T_f$, $T_f = \mathrm{clip}(253 + 8 g_p, 235, 273)$ K (never ice
  above 0 C, always below the homogeneous freezing point), liquid otherwise; clear outside the mask;
- optical thickness, log-normal: $\ln\tau = \ln 4 + 0.6\,g_m + 0.8\,g_\tau$ (thicker in cores);
- effective radius (um): liquid $\mathrm{clip}(12 + 3 g_r, 4, 30)$, ice $\mathrm{clip}(30 + 10 g_r, 10, 80)$.

**Viewing geometry.** The viewing zenith angle varies smoothly (and periodically) across the scan
direction (the last axis), $\theta(x) = \theta_0 + \theta_1\sin(2\pi x/n + \varphi)$ with
$\theta_0 \sim U(5, 55)$ deg, $\theta_1 \sim U(0, 10)$ deg; $\mu = \cos\theta$.

**Forward operator** (`forward_operator`, a parametrised toy, not radiative transfer): per
channel $c$ (8.6, 11.2, 12.3 um), the emissivity of the cloud along the slant path and the
brightness temperature

$$ \epsilon_c = 1 - \exp\!\big(-k_c\,\tau/\mu\big),\qquad
   k_c = a_{c,\text{phase}}\,(r_0/r_e)^{p_{c,\text{phase}}},\qquad
   BT_c = \epsilon_c T_{top} + (1 - \epsilon_c)\,T^{clr}_c(\mu),
   \qquad T^{clr}_c(\mu) = T_s - \delta_c(1/\mu - 1), $$

with $r_0 = 10$ um, phase- and channel-dependent $a$, $p$ (`ABSORPTION`, `ABSORPTION_EXPONENT`:
ice absorbs relatively more at 12.3 than at 11.2 um and less at 8.6 um than liquid, the split-window
and 8.6-11 um differences that make phase and size retrievable) and limb darkening $\delta_c$ (K) of
the clear atmosphere. Limits: $\tau \to 0$ gives the clear-sky (surface) temperature, $\tau \to
\infty$ the cloud-top temperature. The fine brightness temperatures are block-averaged to the
coarse grid (factor 2: 1 km -> 2 km) and Gaussian noise of `noise_k` (0.2 K, an NEdT) is added.

**Encodings** (`encode_target`, `decode_target`, `encode_condition`). Target channels
`TARGET_CHANNELS` = (cth [km], log_cot [ln tau], cer [um], clear, liquid, ice): continuous
variables standardised by fixed constants (`TARGET_MEAN`, `TARGET_SCALE`), clear pixels set to
the fixed physical values `CLEAR_VALUE` (0 km, ln 0.5, 0 um) first; phase as a one-hot scaled to
$\pm 1$. Condition channels (coarse): the three brightness temperatures $(BT - 260\,K)/20\,K$ and
$(\mu - 0.8)/0.15$.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

__all__ = [
    "SceneConfig", "SceneBatch", "gaussian_random_field", "cloud_fields", "forward_operator",
    "clear_sky_bt", "generate_scenes", "encode_target", "decode_target", "encode_condition",
    "block_average", "bicubic_upsample", "load_pairs", "lattice_pairs", "check_pair_shapes", "cloud_bt",
    "scene_fields", "TARGET_CHANNELS", "CONTINUOUS", "PHASES", "UNITS",
]

CONTINUOUS = ("cth", "log_cot", "cer")
PHASES = ("clear", "liquid", "ice")
TARGET_CHANNELS = CONTINUOUS + PHASES
UNITS = {"cth": "km", "log_cot": "1 (ln tau)", "cer": "um"}
TARGET_MEAN = np.array([5.0, 1.5, 20.0])
TARGET_SCALE = np.array([4.0, 1.2, 12.0])
CLEAR_VALUE = np.array([0.0, math.log(0.5), 0.0])
CHANNELS_UM = (8.6, 11.2, 12.3)
# k_c = a (r0/r_e)^p per (phase, channel); phase rows: liquid, ice
ABSORPTION = np.array([[0.45, 0.80, 0.95], [0.60, 0.70, 0.95]])
ABSORPTION_EXPONENT = np.array([[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]])
R0_UM = 10.0
LIMB_DARKENING_K = np.array([4.0, 2.0, 3.0])
LAPSE_RATE = 6.5  # K/km
BT_MEAN, BT_SCALE = 260.0, 20.0
MU_MEAN, MU_SCALE = 0.8, 0.15


def normal(key: PRNGKeyArray, shape: tuple[int, ...], dtype=None) -> Array:
    """`jax.random.normal` drawn flat and reshaped: the same distribution, but XLA compiles a
    multi-dimensional draw far more slowly here (measured: 5 s against 0.8 s for 30720 numbers)."""
    dtype = jnp.result_type(float) if dtype is None else dtype
    return jax.random.normal(key, (math.prod(shape),), dtype).reshape(shape)


class SceneConfig(eqx.Module):
    """Parameters of the synthetic cloud scenes (module docstring for the formulas).

    **Arguments:** `size` fine grid points per side (1 km pixels; divisible by `factor`); `factor`
    coarse-graining factor (2: 2 km condition); `beta` spectral exponent $P(k) \\propto k^{-\\beta}$;
    `cloud_fraction` (min, max) of the per-scene cloud fraction; `noise_k` radiometric noise (K).
    """

    size: int = eqx.field(static=True, default=32)
    factor: int = eqx.field(static=True, default=2)
    beta: float = eqx.field(static=True, default=8.0 / 3.0)
    cloud_fraction: tuple[float, float] = eqx.field(static=True, default=(0.3, 0.8))
    noise_k: float = eqx.field(static=True, default=0.2)

    def __init__(self, size: int = 32, factor: int = 2, beta: float = 8.0 / 3.0,
                 cloud_fraction: tuple[float, float] = (0.3, 0.8), noise_k: float = 0.2):
        for what, v in (("size", size), ("factor", factor)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"SceneConfig: {what} must be a positive int, got {v!r}")
        if size % factor:
            raise ValueError(f"SceneConfig: size={size} must be divisible by factor={factor}")
        if not (math.isfinite(beta) and beta >= 0):
            raise ValueError(f"SceneConfig: beta={beta} must be a finite number >= 0")
        lo, hi = (float(c) for c in cloud_fraction)
        if not 0 < lo <= hi < 1:
            raise ValueError(f"SceneConfig: cloud_fraction={cloud_fraction} must satisfy 0 < min <= max < 1")
        if not (math.isfinite(noise_k) and noise_k >= 0):
            raise ValueError(f"SceneConfig: noise_k={noise_k} must be a finite number >= 0 (K)")
        self.size, self.factor, self.beta = int(size), int(factor), float(beta)
        self.cloud_fraction, self.noise_k = (lo, hi), float(noise_k)

    @property
    def coarse_size(self) -> int:
        return self.size // self.factor


def gaussian_random_field(key: PRNGKeyArray, size: int, beta: float) -> Float[Array, "n n"]:
    r"""A periodic Gaussian random field with power spectrum $P(k) \propto k^{-\beta}$
    ($k$ in units of $2\pi/n$, the $k = 0$ mode removed), standardised to zero mean and unit
    variance over the field.

    **Arguments:** `key`; `size` n; `beta` spectral exponent (>= 0; 0 is white noise).

    **Returns:** array `(n, n)`.
    """
    return _shape_white_noise(normal(key, (size, size)), beta)


def _shape_white_noise(white, beta):
    """White noise (..., n, n) -> standardised fields with P(k) ~ k^-beta (no random draw inside:
    vmapping jax.random over keys compiles slowly, so all draws happen once per batch)."""
    size = white.shape[-1]
    kx = jnp.fft.fftfreq(size) * size
    k = jnp.sqrt(kx[:, None] ** 2 + kx[None, :] ** 2)
    amplitude = jnp.where(k > 0, jnp.maximum(k, 1.0) ** (-beta / 2), 0.0)
    field = jnp.fft.ifft2(jnp.fft.fft2(white) * amplitude).real
    field = field - jnp.mean(field, axis=(-2, -1), keepdims=True)
    return field / jnp.sqrt(jnp.mean(field**2, axis=(-2, -1), keepdims=True))


_N_UNIFORM, _N_FIELDS = 6, 5


def _scene_parameters(u, config):
    """Per-scene parameters from 6 uniforms in [0, 1)."""
    lo, hi = config.cloud_fraction
    return {
        "cloud_fraction": lo + (hi - lo) * u[0],
        "t_surface": 285.0 + 15.0 * u[1],
        "mean_height": 2.0 + 7.0 * u[2],
        "vza0": 5.0 + 50.0 * u[3],
        "vza1": 10.0 * u[4],
        "vza_phase": 2 * math.pi * u[5],
    }


def cloud_fields(key: PRNGKeyArray, config: SceneConfig) -> dict[str, Array]:
    r"""Physical cloud fields of one scene on the fine grid (module docstring for the formulas).

    **Returns:** dict of `(n, n)` arrays `cth` (km, 0 where clear), `cot` (1, 0 where clear),
    `cer` (um, 0 where clear), `phase` (int: 0 clear, 1 liquid, 2 ice), `t_top` (K), `mu`
    ($\cos$ viewing zenith angle), and scalars `t_surface` (K), `cloud_fraction`.
    """
    k_u, k_w = jax.random.split(key)
    return _fields(jax.random.uniform(k_u, (_N_UNIFORM,)),
                   normal(k_w, (_N_FIELDS, config.size, config.size)), config)


def _fields(u, white, config):
    par = _scene_parameters(u, config)
    n = config.size
    g_m, g_h, g_t, g_r, g_p = _shape_white_noise(white, config.beta)
    cloudy = g_m > jax.scipy.special.ndtri(1.0 - par["cloud_fraction"])
    height = jnp.clip(par["mean_height"] + 2.5 * g_h, 0.3, 14.0)
    t_top = par["t_surface"] - LAPSE_RATE * height
    t_freeze = jnp.clip(253.0 + 8.0 * g_p, 235.0, 273.0)
    ice = t_top < t_freeze
    phase = jnp.where(cloudy, jnp.where(ice, 2, 1), 0)
    cot = jnp.exp(math.log(4.0) + 0.6 * g_m + 0.8 * g_t)
    cer = jnp.where(ice, jnp.clip(30.0 + 10.0 * g_r, 10.0, 80.0), jnp.clip(12.0 + 3.0 * g_r, 4.0, 30.0))
    x = jnp.arange(n)
    vza = par["vza0"] + par["vza1"] * jnp.sin(2 * math.pi * x / n + par["vza_phase"])
    mu = jnp.broadcast_to(jnp.cos(jnp.deg2rad(vza))[None, :], (n, n))
    return {
        "cth": jnp.where(cloudy, height, 0.0), "cot": jnp.where(cloudy, cot, 0.0),
        "cer": jnp.where(cloudy, cer, 0.0), "phase": phase, "t_top": t_top, "mu": mu,
        "t_surface": par["t_surface"], "cloud_fraction": par["cloud_fraction"],
    }


def clear_sky_bt(t_surface: Float[ArrayLike, "..."], mu: Float[ArrayLike, "..."]) -> Float[Array, "3 ..."]:
    r"""Clear-sky brightness temperature (K) per channel, $T_s - \delta_c(1/\mu - 1)$ (limb darkening).

    **Arguments:** `t_surface` (K), `mu` = cos(viewing zenith angle), broadcastable.

    **Returns:** array with a leading channel axis of size 3.
    """
    t, mu = jnp.asarray(t_surface), jnp.asarray(mu)
    delta = jnp.asarray(LIMB_DARKENING_K).reshape((3,) + (1,) * jnp.ndim(t * mu))
    return t - delta * (1.0 / mu - 1.0)


def cloud_bt(cot: Float[ArrayLike, "..."], cer: Float[ArrayLike, "..."], phase: Int[ArrayLike, "..."],
             t_top: Float[ArrayLike, "..."], t_surface: Float[ArrayLike, "..."],
             mu: Float[ArrayLike, "..."]) -> Float[Array, "3 ..."]:
    r"""Brightness temperatures (K) of the 3 channels at the fine resolution,
    $BT_c = \epsilon_c T_{top} + (1 - \epsilon_c) T^{clr}_c(\mu)$, $\epsilon_c = 1 - e^{-k_c\tau/\mu}$
    (module docstring); clear pixels (`phase == 0`) have $\epsilon = 0$.

    **Arguments:** `cot` (1), `cer` (um, ignored where clear), `phase` (0/1/2), `t_top` (K),
    `t_surface` (K), `mu`; broadcastable to one shape.

    **Returns:** array `(3, ...)`.
    """
    phase = jnp.asarray(phase)
    row = jnp.clip(phase - 1, 0, 1)
    a = jnp.moveaxis(jnp.asarray(ABSORPTION)[row], -1, 0)
    p = jnp.moveaxis(jnp.asarray(ABSORPTION_EXPONENT)[row], -1, 0)
    r = jnp.maximum(jnp.asarray(cer), 1.0)
    k = a * (R0_UM / r) ** p
    eps = jnp.where(phase > 0, -jnp.expm1(-k * jnp.asarray(cot) / jnp.asarray(mu)), 0.0)
    return eps * jnp.asarray(t_top) + (1 - eps) * clear_sky_bt(t_surface, mu)


def block_average(x: Float[Array, "*c H W"], factor: int) -> Float[Array, "*c h w"]:
    """Average over non-overlapping `factor` x `factor` blocks of the last two axes (H, W divisible)."""
    *lead, h, w = x.shape
    if h % factor or w % factor:
        raise ValueError(f"block_average: grid {h}x{w} is not divisible by factor={factor}")
    return x.reshape(*lead, h // factor, factor, w // factor, factor).mean(axis=(-3, -1))


def forward_operator(fields: dict[str, Array], config: SceneConfig, key: PRNGKeyArray) -> Float[Array, "3 h w"]:
    """Coarse brightness temperatures (K) of one scene: `cloud_bt` on the fine grid, block-averaged
    by `config.factor`, plus Gaussian noise of standard deviation `config.noise_k`.

    **Arguments:** `fields` from `cloud_fields`; `config`; `key` for the noise.

    **Returns:** array `(3, n/factor, n/factor)`.
    """
    h = config.coarse_size
    return _forward(fields, config, normal(key, (3, h, h)))


def _forward(fields, config, noise):
    bt = cloud_bt(fields["cot"], fields["cer"], fields["phase"], fields["t_top"], fields["t_surface"],
                  fields["mu"])
    return block_average(bt, config.factor) + config.noise_k * noise


def encode_target(fields: dict[str, Array]) -> Float[Array, "6 n n"]:
    """Standardised target channels `TARGET_CHANNELS` of one scene (module docstring)."""
    cloudy = fields["phase"] > 0
    log_cot = jnp.log(jnp.maximum(fields["cot"], 1e-6))
    raw = jnp.stack([fields["cth"], log_cot, fields["cer"]])
    raw = jnp.where(cloudy[None], raw, jnp.asarray(CLEAR_VALUE)[:, None, None])
    cont = (raw - jnp.asarray(TARGET_MEAN)[:, None, None]) / jnp.asarray(TARGET_SCALE)[:, None, None]
    onehot = jax.nn.one_hot(fields["phase"], 3, axis=0)
    return jnp.concatenate([cont, 2 * onehot - 1]).astype(jnp.result_type(float))


def decode_target(target: Float[ArrayLike, "*b C H W"]) -> dict[str, Array]:
    """Physical variables from (predicted) target channels: `cth` (km), `log_cot`, `cer` (um) and
    `phase` (argmax of the three phase channels; 0 clear, 1 liquid, 2 ice)."""
    target = jnp.asarray(target)
    if target.ndim < 3 or target.shape[-3] != len(TARGET_CHANNELS):
        raise ValueError(f"decode_target: target of shape {target.shape}, expected (..., 6, H, W) "
                         f"with channels {TARGET_CHANNELS}")
    shape = (3, 1, 1)
    cont = target[..., :3, :, :] * jnp.asarray(TARGET_SCALE).reshape(shape) + jnp.asarray(TARGET_MEAN).reshape(shape)
    return {"cth": cont[..., 0, :, :], "log_cot": cont[..., 1, :, :], "cer": cont[..., 2, :, :],
            "phase": jnp.argmax(target[..., 3:, :, :], axis=-3)}


def encode_condition(bt: Float[Array, "3 h w"], mu_coarse: Float[Array, "h w"]) -> Float[Array, "4 h w"]:
    """Condition channels: standardised brightness temperatures and cos(viewing zenith angle)."""
    return jnp.concatenate([(bt - BT_MEAN) / BT_SCALE, ((mu_coarse - MU_MEAN) / MU_SCALE)[None]])


class SceneBatch(NamedTuple):
    """Synthetic scenes: `condition` (n, 4, h, w) coarse, `target` (n, 6, H, W) fine (standardised),
    `coarse_target` (n, 6, h, w) block-averaged target (the '2 km product'), `bt` (n, 3, h, w) in K."""

    condition: Array
    target: Array
    coarse_target: Array
    bt: Array


def _one_scene(u, white, noise, config):
    fields = _fields(u, white, config)
    bt = _forward(fields, config, noise)
    target = encode_target(fields)
    cond = encode_condition(bt, block_average(fields["mu"], config.factor))
    return cond, target, block_average(target, config.factor), bt


def generate_scenes(key: PRNGKeyArray, n_scenes: int, config: SceneConfig = SceneConfig()) -> SceneBatch:
    """Draw `n_scenes` independent synthetic cloud scenes (vmapped, jitted): coarse condition and
    fine target pairs (module docstring).

    **Arguments:** `key`; `n_scenes` (> 0); `config` a `SceneConfig`.

    **Returns:** a `SceneBatch`.
    """
    if isinstance(n_scenes, bool) or not isinstance(n_scenes, (int, np.integer)) or n_scenes < 1:
        raise ValueError(f"generate_scenes: n_scenes must be a positive int, got {n_scenes!r}")
    if not isinstance(config, SceneConfig):
        raise ValueError(f"generate_scenes: config must be a SceneConfig, got {config!r}")
    return SceneBatch(*_generate(key, int(n_scenes), config))


def scene_fields(key: PRNGKeyArray, n_scenes: int, config: SceneConfig = SceneConfig()) -> dict[str, Array]:
    """The physical fields (`cloud_fields`, with a leading scene axis) of the scenes that
    `generate_scenes` draws from the same `key`."""
    if isinstance(n_scenes, bool) or not isinstance(n_scenes, (int, np.integer)) or n_scenes < 1:
        raise ValueError(f"scene_fields: n_scenes must be a positive int, got {n_scenes!r}")
    return _batch_fields(key, int(n_scenes), config)


def _draws(key, n_scenes, config):
    k_u, k_w, k_n = jax.random.split(key, 3)
    n, h = config.size, config.coarse_size
    u = jax.random.uniform(k_u, (n_scenes, _N_UNIFORM))
    white = normal(k_w, (n_scenes, _N_FIELDS, n, n))
    noise = normal(k_n, (n_scenes, 3, h, h))
    return u, white, noise


@functools.partial(jax.jit, static_argnums=(1, 2))
def _batch_fields(key, n_scenes, config):
    u, white, _ = _draws(key, n_scenes, config)
    return jax.vmap(lambda a, b: _fields(a, b, config))(u, white)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _generate(key, n_scenes, config):
    return jax.vmap(lambda *a: _one_scene(*a, config))(*_draws(key, n_scenes, config))


# --------------------------------------------------------------------------------------------
# resampling
# --------------------------------------------------------------------------------------------


def _cubic_weights(frac: np.ndarray, a: float = -0.5) -> np.ndarray:
    """Keys' cubic convolution weights of the 4 neighbours at offsets -1, 0, 1, 2."""
    d = np.stack([1 + frac, frac, 1 - frac, 2 - frac], axis=-1)
    w = np.where(d <= 1, (a + 2) * d**3 - (a + 3) * d**2 + 1,
                 np.where(d < 2, a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a, 0.0))
    return w


def _upsample_matrix(n: int, factor: int) -> np.ndarray:
    """(n*factor, n) periodic bicubic interpolation matrix: fine pixel i has its centre at the
    coarse coordinate (i + 1/2)/factor - 1/2."""
    x = (np.arange(n * factor) + 0.5) / factor - 0.5
    i0 = np.floor(x).astype(int)
    w = _cubic_weights(x - i0)
    m = np.zeros((n * factor, n))
    for j, off in enumerate((-1, 0, 1, 2)):
        np.add.at(m, (np.arange(n * factor), (i0 + off) % n), w[:, j])
    return m


def bicubic_upsample(x: Float[ArrayLike, "*c h w"], factor: int) -> Float[Array, "*c H W"]:
    r"""Periodic bicubic upsampling (Keys' cubic convolution, $a = -1/2$) of the last two axes by an
    integer `factor`, pixel centres aligned as in block averaging (a fine pixel $i$ sits at coarse
    coordinate $(i + 1/2)/f - 1/2$). Exact for constants; third-order accurate for smooth fields.

    **Returns:** array with the last two axes multiplied by `factor`.
    """
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f"bicubic_upsample: factor must be a positive int, got {factor!r}")
    x = jnp.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"bicubic_upsample: x of shape {x.shape} needs two trailing grid axes")
    my = jnp.asarray(_upsample_matrix(x.shape[-2], factor), x.dtype)
    mx = jnp.asarray(_upsample_matrix(x.shape[-1], factor), x.dtype)
    return jnp.einsum("Yy,...yx,Xx->...YX", my, x, mx)


# --------------------------------------------------------------------------------------------
# user data
# --------------------------------------------------------------------------------------------


def _read(source, variables: Sequence[str] | None, what: str) -> np.ndarray:
    """An array from an array, a .npy, .npz or NetCDF file (stacking `variables` as channels)."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path.endswith(".npy"):
            if variables is not None:
                raise ValueError(f"load_pairs: {what} variables={list(variables)} given for a .npy file "
                                 "(a single array); use .npz or NetCDF for named variables")
            return np.load(path)
        if path.endswith(".npz"):
            with np.load(path) as f:
                return _stack(dict(f), variables, what, path)
        if path.endswith((".nc", ".nc4", ".cdf")):
            try:
                import xarray as xr

                with xr.open_dataset(path) as ds:
                    return _stack({k: ds[k].values for k in ds.data_vars}, variables, what, path)
            except ImportError:
                from scipy.io import netcdf_file

                with netcdf_file(path, "r", mmap=False) as f:
                    return _stack({k: np.array(v[:]) for k, v in f.variables.items()}, variables, what, path)
        raise ValueError(f"load_pairs: {what} file {path!r} has an unknown suffix; expected .npy, .npz or .nc")
    if hasattr(source, "data_vars"):  # an xarray Dataset
        return _stack({k: source[k].values for k in source.data_vars}, variables, what, "dataset")
    if isinstance(source, dict):
        return _stack(source, variables, what, "dict")
    if variables is not None:
        raise ValueError(f"load_pairs: {what} variables={list(variables)} given for a plain array")
    return np.asarray(source)


def _stack(data: dict, variables, what, where) -> np.ndarray:
    if variables is None:
        raise ValueError(f"load_pairs: {what} from {where} needs `variables` (names among {sorted(data)})")
    unknown = [v for v in variables if v not in data]
    if unknown:
        raise ValueError(f"load_pairs: unknown {what} variable(s) {unknown} in {where}; known: {sorted(data)}")
    arrays = [np.asarray(data[v], dtype=np.float64) for v in variables]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1 or len(arrays[0].shape) != 3:
        raise ValueError(f"load_pairs: {what} variables {list(variables)} must all have shape (n, H, W), got "
                         f"{[a.shape for a in arrays]}")
    return np.stack(arrays, axis=1)


def load_pairs(condition, target, factor: int = 2, *, condition_variables: Sequence[str] | None = None,
               target_variables: Sequence[str] | None = None, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Load and check user (condition, target) pairs for conditional super-resolution.

    Each of `condition` and `target` is an array `(n, C, H, W)`, a dict or xarray Dataset of
    `(n, H, W)` variables, or a path to a `.npy` (one array), `.npz` or NetCDF file (named
    variables; NetCDF through xarray when installed, else `scipy.io.netcdf_file`, NetCDF3 only).
    Named variables are stacked as channels in the given order.

    **Arguments:** `condition`, `target`; `factor` the resolution ratio (target H, W = factor x
    condition h, w); `condition_variables`, `target_variables` the variable names; `dtype`.

    **Returns:** `(condition, target)` NumPy arrays `(n, C_c, h, w)` and `(n, C_t, H, W)`.

    Raises `ValueError` on unknown variable names, wrong ranks, unequal numbers of samples, a grid
    ratio other than `factor`, or NaN/inf values (counted).
    """
    cond = _read(condition, condition_variables, "condition")
    targ = _read(target, target_variables, "target")
    check_pair_shapes(cond.shape, targ.shape, factor, "load_pairs")
    for name, a in (("condition", cond), ("target", targ)):
        bad = int(np.sum(~np.isfinite(a)))
        if bad:
            raise ValueError(f"load_pairs: the {name} contains {bad} NaN/inf value(s); fill or mask them first")
    return cond.astype(dtype), targ.astype(dtype)


def check_pair_shapes(cond_shape, target_shape, factor: int, name: str) -> None:
    """ValueError unless condition `(n, C_c, h, w)` and target `(n, C_t, H, W)` have H = factor h,
    W = factor w and the same n."""
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f"{name}: factor must be a positive int, got {factor!r}")
    if len(cond_shape) != 4 or len(target_shape) != 4:
        raise ValueError(f"{name}: condition {tuple(cond_shape)} and target {tuple(target_shape)} must both be "
                         "(n, channels, H, W)")
    if cond_shape[0] != target_shape[0]:
        raise ValueError(f"{name}: {cond_shape[0]} conditions but {target_shape[0]} targets")
    h, w = cond_shape[-2:]
    H, W = target_shape[-2:]
    if (H, W) != (factor * h, factor * w):
        raise ValueError(f"{name}: target grid {H}x{W} and condition grid {h}x{w} do not have the configured "
                         f"ratio factor={factor} (expected target {factor * h}x{factor * w})")


def lattice_pairs(phis: Float[ArrayLike, "n L L"], factor: int = 2) -> tuple[Array, Array]:
    r"""(condition, target) pairs for lattice super-resolution: the block average
    $\bar\phi_B = f^{-2}\sum_{x\in B}\phi_x$ over `factor` x `factor` blocks as the condition
    `(n, 1, L/f, L/f)`, the configuration itself as the target `(n, 1, L, L)`."""
    phis = jnp.asarray(phis)
    if phis.ndim != 3:
        raise ValueError(f"lattice_pairs: phis of shape {phis.shape}, expected (n, L, L)")
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f"lattice_pairs: factor must be a positive int, got {factor!r}")
    return block_average(phis, factor)[:, None], phis[:, None]
