"""Synthetic cloud scenes, forward operator, resampling and the user-data loader."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dphys.superres as sr
from dphys.superres.data import ABSORPTION, TARGET_MEAN, TARGET_SCALE
from tests.helpers import assert_within_sigma

CONFIG = sr.SceneConfig(size=16, factor=2)


@pytest.fixture(scope="module")
def scenes():
    return sr.generate_scenes(jax.random.PRNGKey(0), 24, CONFIG)


def test_scene_shapes_encodings_and_ranges(scenes):
    assert scenes.condition.shape == (24, 4, 8, 8)
    assert scenes.target.shape == (24, 6, 16, 16)
    assert scenes.coarse_target.shape == (24, 6, 8, 8) and scenes.bt.shape == (24, 3, 8, 8)
    onehot = np.asarray(scenes.target[:, 3:])
    assert set(np.unique(onehot)) == {-1.0, 1.0}
    np.testing.assert_array_equal(np.sum(onehot > 0, axis=1), 1)  # exactly one phase per pixel
    d = sr.decode_target(scenes.target)
    phase, cloudy = np.asarray(d["phase"]), np.asarray(d["phase"]) > 0
    assert 0.1 < cloudy.mean() < 0.9 and (phase == 2).any() and (phase == 1).any()
    cth, cer = np.asarray(d["cth"]), np.asarray(d["cer"])
    assert cth[cloudy].min() >= 0.3 - 1e-4 and cth[cloudy].max() <= 14 + 1e-4
    np.testing.assert_allclose(cth[~cloudy], 0.0, atol=1e-5)
    assert cer[phase == 1].min() >= 4 - 1e-4 and cer[phase == 1].max() <= 30 + 1e-4
    assert cer[phase == 2].min() >= 10 - 1e-4 and cer[phase == 2].max() <= 80 + 1e-4
    bt = np.asarray(scenes.bt)
    assert 180 < bt.min() and bt.max() < 310


def test_phase_consistent_with_temperature():
    fields = sr.scene_fields(jax.random.PRNGKey(0), 24, CONFIG)
    scenes = sr.generate_scenes(jax.random.PRNGKey(0), 24, CONFIG)  # the same scenes
    np.testing.assert_array_equal(np.asarray(sr.decode_target(scenes.target)["phase"]), np.asarray(fields["phase"]))
    phase, t_top = np.asarray(fields["phase"]), np.asarray(fields["t_top"])
    assert np.all(t_top[phase == 2] < 273.0)  # never ice above 0 C
    assert np.all(t_top[phase == 1] >= 235.0)  # never liquid below homogeneous freezing
    mu = np.asarray(fields["mu"])
    assert np.all((mu > np.cos(np.deg2rad(66))) & (mu <= 1))


def test_random_field_spectrum_slope():
    """Slope of ln P(k) vs ln k over k = 2..8 of 64 fields (n = 32) against the slope of the exact
    binned expectation (mean of |k|^-beta over each radial bin), within 4 standard errors from 8
    groups of fields; and that expected slope against -beta (binning bias < 0.1)."""
    n, beta = 32, 8 / 3
    grf = jax.jit(sr.gaussian_random_field, static_argnums=(1, 2))
    f = np.stack([np.asarray(grf(k, n, beta)) for k in jax.random.split(jax.random.PRNGKey(2), 64)])
    np.testing.assert_allclose(f.mean(axis=(1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(f.std(axis=(1, 2)), 1, rtol=1e-4)
    sel = slice(1, 8)  # k = 2 .. 8

    def slope(k, p):
        return np.polyfit(np.log(k[sel]), np.log(p[sel]), 1)[0]

    slopes = [slope(*sr.power_spectrum(g)) for g in f.reshape(8, 8, n, n)]
    kx = np.fft.fftfreq(n) * n
    kk = np.sqrt(kx[:, None] ** 2 + kx[None, :] ** 2)
    expected = np.where(kk > 0, np.maximum(kk, 1) ** -beta, 0)
    k = np.arange(1, n // 2 + 1)
    kbin = np.rint(kk).astype(int)
    p_exp = np.array([expected[kbin == q].mean() for q in k])
    s_exp = slope(k, p_exp)
    assert abs(s_exp + beta) < 0.1
    assert_within_sigma(np.mean(slopes), s_exp, np.std(slopes, ddof=1) / np.sqrt(len(slopes)), 4, "spectral slope")


@pytest.mark.parametrize("phase", [1, 2])
def test_forward_operator_limits(phase):
    t_top, t_s, mu, cer = 230.0, 295.0, jnp.array([1.0, 0.7, 0.5]), 15.0
    thin = sr.cloud_bt(1e-9, cer, phase, t_top, t_s, mu)
    np.testing.assert_allclose(thin, sr.clear_sky_bt(t_s, mu), atol=1e-5)
    np.testing.assert_allclose(sr.clear_sky_bt(t_s, 1.0), t_s, atol=1e-6)  # nadir: the surface temperature
    thick = sr.cloud_bt(1e5, cer, phase, t_top, t_s, mu)
    np.testing.assert_allclose(thick, t_top, atol=1e-4)
    # an intermediate cloud lies in between, with eps = 1 - exp(-k tau/mu) at cer = r0
    mid = sr.cloud_bt(1.0, 10.0, phase, t_top, t_s, 1.0)
    eps = 1 - np.exp(-ABSORPTION[phase - 1])
    np.testing.assert_allclose(mid, eps * t_top + (1 - eps) * t_s, rtol=1e-6)
    clear = sr.cloud_bt(50.0, cer, 0, t_top, t_s, mu)  # phase 0: no cloud whatever tau
    np.testing.assert_allclose(clear, sr.clear_sky_bt(t_s, mu), atol=1e-5)


def test_encode_decode_roundtrip(scenes):
    d = sr.decode_target(scenes.target)
    cloudy = np.asarray(d["phase"]) > 0
    assert np.all(np.asarray(d["cth"])[cloudy] > 0)
    enc = (np.asarray(d["cth"]) - TARGET_MEAN[0]) / TARGET_SCALE[0]
    np.testing.assert_allclose(enc, np.asarray(scenes.target[:, 0]), atol=1e-5)


def test_bicubic_upsampling_is_exact_for_constants_and_third_order():
    np.testing.assert_allclose(sr.bicubic_upsample(jnp.full((2, 5, 7), 3.0), 2), 3.0, rtol=1e-6)
    errors = []
    for n in (16, 32):
        fine = 2 * n
        xf = (np.arange(fine) + 0.5) / fine
        xc = (np.arange(n) + 0.5) / n
        f = lambda x, y: np.cos(2 * np.pi * x[:, None]) * np.sin(4 * np.pi * y[None, :])  # noqa: E731
        up = np.asarray(sr.bicubic_upsample(jnp.asarray(f(xc, xc), jnp.float32), 2))
        errors.append(np.max(np.abs(up - f(xf, xf))))
    assert errors[1] < 0.02 and errors[0] / errors[1] > 6  # >= 2^2.6: third-order convergence


def test_load_pairs_arrays_files_and_bad_input(tmp_path):
    rng = np.random.default_rng(0)
    cond, target = rng.normal(size=(5, 2, 4, 4)), rng.normal(size=(5, 3, 8, 8))
    c, t = sr.load_pairs(cond, target, 2)
    assert c.shape == (5, 2, 4, 4) and t.dtype == np.float32
    np.savez(tmp_path / "c.npz", bt11=cond[:, 0], bt12=cond[:, 1])
    np.save(tmp_path / "t.npy", target)
    c, t = sr.load_pairs(tmp_path / "c.npz", tmp_path / "t.npy", 2, condition_variables=["bt12", "bt11"])
    np.testing.assert_allclose(c[:, 0], cond[:, 1], rtol=1e-6)
    from scipy.io import netcdf_file

    with netcdf_file(tmp_path / "t.nc", "w") as nc:
        for name, size in (("n", 5), ("y", 8), ("x", 8)):
            nc.createDimension(name, size)
        v = nc.createVariable("cth", "f8", ("n", "y", "x"))
        v[:] = target[:, 0]
    c, t = sr.load_pairs(cond, tmp_path / "t.nc", 2, target_variables=["cth"])
    np.testing.assert_allclose(t[:, 0], target[:, 0], rtol=1e-6)
    with pytest.raises(ValueError, match=r"unknown target variable\(s\) \['cot'\]"):
        sr.load_pairs(cond, tmp_path / "t.nc", 2, target_variables=["cth", "cot"])
    with pytest.raises(ValueError, match="ratio factor=4"):
        sr.load_pairs(cond, target, 4)
    bad = cond.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="1 NaN"):
        sr.load_pairs(bad, target, 2)
    with pytest.raises(ValueError, match="size=15 must be divisible by factor=2"):
        sr.SceneConfig(size=15)
