"""Ensembles on disk: round trip of samples and metadata, and the errors that protect a study
from loading the wrong or a corrupted ensemble."""

import json
import os

import jax.numpy as jnp
import numpy as np
import pytest

from dphys.lattice.ensemble import Ensemble, load_ensemble, save_ensemble

PARAMS = {"kappa": 0.21, "lam": 0.022, "L": [8, 8]}
SAMPLER = {"name": "hmc", "step_size": 0.1, "n_leapfrog": 10, "n_therm": 100, "thin": 2}


def test_round_trip_of_an_array_ensemble(tmp_path):
    samples = np.random.default_rng(0).normal(size=(4, 10, 8, 8)).astype(np.float32)
    acceptance = np.array([0.81, 0.79, 0.84, 0.8])
    path = save_ensemble(tmp_path / "phi4.npz", jnp.asarray(samples), theory="phi4", params=PARAMS,
                         sampler=SAMPLER, seed=7, acceptance=acceptance, final_step_size=np.float32(0.12),
                         note="test run")
    ens = load_ensemble(path, theory="phi4")
    assert isinstance(ens, Ensemble)
    np.testing.assert_array_equal(ens.samples, samples)
    assert ens.samples.dtype == np.float32
    assert (ens.theory, ens.params, ens.sampler, ens.seed) == ("phi4", PARAMS, SAMPLER, 7)
    np.testing.assert_array_equal(ens.extra["acceptance"], acceptance)
    assert ens.extra["final_step_size"] == pytest.approx(0.12)
    assert ens.extra["note"] == "test run"
    assert ens.dphys_version


def test_round_trip_of_a_dict_ensemble(tmp_path):
    samples = {"phi": np.ones((3, 2)), "action": np.arange(3.0)}
    save_ensemble(tmp_path / "e.npz", samples, theory="u1", params={"beta": 2.0}, sampler={}, seed=np.int64(1))
    ens = load_ensemble(tmp_path / "e.npz")
    assert sorted(ens.samples) == ["action", "phi"]
    for name in samples:
        np.testing.assert_array_equal(ens.samples[name], samples[name])
    assert ens.seed == 1 and ens.extra == {}


def test_theory_mismatch_is_an_error(tmp_path):
    save_ensemble(tmp_path / "e.npz", np.zeros((2, 3)), theory="phi4", params=PARAMS, sampler=SAMPLER, seed=0)
    with pytest.raises(ValueError, match="holds a 'phi4' ensemble, expected 'u1'"):
        load_ensemble(tmp_path / "e.npz", theory="u1")


def write_raw(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def metadata(**overrides):
    meta = {"format": 1, "theory": "phi4", "params": {}, "sampler": {}, "seed": 0} | overrides
    return np.array(json.dumps(meta))


def test_non_finite_samples_are_an_error_on_load_and_on_save(tmp_path):
    bad = np.zeros((5, 4))
    bad[2, 1], bad[3, 0] = np.nan, np.inf
    write_raw(tmp_path / "bad.npz", samples=bad, metadata=metadata())
    with pytest.raises(ValueError, match=r"samples contains 2 non-finite value\(s\).*first at index \(2, 1\)"):
        load_ensemble(tmp_path / "bad.npz")
    write_raw(tmp_path / "bad_dict.npz", **{"samples/phi": bad}, metadata=metadata())
    with pytest.raises(ValueError, match=r"samples/phi contains 2 non-finite"):
        load_ensemble(tmp_path / "bad_dict.npz")
    with pytest.raises(ValueError, match=r"samples/phi contains 2 non-finite"):
        save_ensemble(tmp_path / "new.npz", {"phi": bad}, theory="phi4", params={}, sampler={}, seed=0)
    assert not (tmp_path / "new.npz").exists()


def test_missing_or_incomplete_metadata_is_an_error(tmp_path):
    write_raw(tmp_path / "none.npz", samples=np.zeros(3))
    with pytest.raises(ValueError, match="has no metadata"):
        load_ensemble(tmp_path / "none.npz")
    write_raw(tmp_path / "partial.npz", samples=np.zeros(3),
              metadata=np.array(json.dumps({"format": 1, "theory": "u1"})))
    with pytest.raises(ValueError, match=r"lacks \['params', 'sampler', 'seed'\]"):
        load_ensemble(tmp_path / "partial.npz")
    write_raw(tmp_path / "nosamples.npz", metadata=metadata())
    with pytest.raises(ValueError, match="holds no samples"):
        load_ensemble(tmp_path / "nosamples.npz")


def test_atomic_write_leaves_no_temporary_files(tmp_path, monkeypatch):
    path = tmp_path / "e.npz"
    save_ensemble(path, np.zeros((2, 2)), theory="phi4", params=PARAMS, sampler=SAMPLER, seed=0)
    save_ensemble(path, np.ones((2, 2)), theory="phi4", params=PARAMS, sampler=SAMPLER, seed=1)  # replace
    assert os.listdir(tmp_path) == ["e.npz"]
    assert load_ensemble(path).seed == 1

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save_ensemble(path, np.full((2, 2), 5.0), theory="phi4", params=PARAMS, sampler=SAMPLER, seed=2)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["e.npz"]  # no temporary file left, the old ensemble intact
    np.testing.assert_array_equal(load_ensemble(path).samples, np.ones((2, 2)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"theory": ""}, "theory must be a non-empty string"),
        ({"params": [1, 2]}, "params must be a dict, got list"),
        ({"seed": 1.5}, "seed must be an int, got 1.5"),
        ({"params": {"f": object()}}, "metadata is not JSON serialisable"),
    ],
)
def test_save_rejects_bad_metadata(tmp_path, kwargs, match):
    args = {"theory": "phi4", "params": PARAMS, "sampler": SAMPLER, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=match):
        save_ensemble(tmp_path / "e.npz", np.zeros(3), **args)
    assert os.listdir(tmp_path) == []
