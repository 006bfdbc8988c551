"""The three algorithms on 8 simulated CPU devices (jax.shard_map + pmean) against the vmapped
run on one device: the same iterates up to floating-point order. JAX in this pytest process is
already initialised with one device, so the 8-device run is a fresh subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_worker(part: str) -> dict:
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "tests.distributed._sharded_worker", part], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


@pytest.fixture(scope="module")
def sharded():
    return _run_worker("algorithms")


@pytest.fixture(scope="module")
def sharded_model():
    return _run_worker("model")


def test_eight_simulated_devices(sharded):
    assert sharded["devices"] == 8


@pytest.mark.parametrize("algorithm", ["minibatch", "local", "accelerated"])
def test_sharded_iterates_equal_vmapped_iterates(sharded, algorithm):
    r = sharded[algorithm]
    assert r["devices"] == 8
    assert r["moved"] > 0.05  # the runs did something
    assert r["max_diff"] <= 1e-6 * max(1.0, r["scale"]), r


def test_smaller_mesh_gives_the_same_iterates(sharded):
    assert sharded["mesh4_max_diff"] <= 1e-6


def test_bad_layouts_raise_clear_errors(sharded):
    err = sharded["errors"]
    assert err["machines_not_divisible"] is not None and "M=12" in err["machines_not_divisible"] \
        and "8 devices" in err["machines_not_divisible"]
    assert err["mesh_too_large"] is not None and "16 devices is larger than the 8" in err["mesh_too_large"]


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["local"])
def test_data_parallel_score_model(sharded_model, algorithm):
    """Local SGD training of a dphys score model (ScoreMLP, DSM loss) over 8 devices."""
    r = sharded_model[f"model_{algorithm}"]
    assert r["max_param_diff"] <= 1e-5, r  # sharded training = vmapped training
    floor = sharded_model["loss_floor"]  # DSM loss of the exact score of the N(0, 1) data (same batch and key)
    assert r["loss_first"] - floor > 0.3, r
    assert r["loss_last"] - floor < 0.4 * (r["loss_first"] - floor), r  # it learned
    assert abs(r["loss_last_sharded"] - r["loss_last"]) <= 1e-5 * abs(r["loss_last"])
    assert r["bytes_per_round"] == 8 * r["param_bytes"]
