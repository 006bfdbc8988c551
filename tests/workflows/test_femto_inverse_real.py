"""femto-inverse on the ALICE pp 13 TeV data (--data alice-pp13): trained on simulations through the
same decomposition (resolution, feed-down, lambdas, baseline), an ensemble of networks infers the
1S0 Gaussian well, the source size and the baseline from the data. Slow (the fixed AV18 p and d
waves take ~70 s to compile); the usage checks are quick. Skipped where ../shared/data is absent."""

import json
from pathlib import Path

import pytest

from dphys.cli import main
from dphys.femto import alice

ROOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
FOLDER = alice.shared_data_dir(ROOT)
needs_data = pytest.mark.skipif(FOLDER is None, reason=f"the ALICE data folder {ROOT}/{alice.DATASET} is absent")


def test_bad_data_path_is_a_usage_error(tmp_path, capsys):
    assert main(["run", "femto-inverse", "--data", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2
    assert "--data=" in capsys.readouterr().err


@needs_data
@pytest.mark.slow
def test_inverse_map_on_alice_data(tmp_path):
    out = tmp_path / "inv"
    assert main(["run", "femto-inverse", "--quick", "--data", "alice-pp13", "--train-potentials", "192",
                 "--test-potentials", "64", "--steps", "1500", "--members", "3", "--out", str(out)]) == 0
    m = json.loads((out / "report.json").read_text())["metrics"]
    assert m["n_train"]["value"] == 192 * 8 and m["n_points"]["value"] == 88
    for name in ("s", "R", "N"):  # well determined by the simulated C(k) with the ALICE errors
        assert m[f"nrmse_{name}"]["value"] + 5 * m[f"nrmse_{name}"]["error"] < 1.0, name
    # the inferred potential: attractive, unbound, Coulomb-modified a of a few fm (experiment: -7.8 fm)
    assert -12.0 < m["alice_a"]["value"] < -3.0 and m["alice_a"]["error"] > 0
    assert 0.9 <= m["alice_R"]["value"] <= 1.5
    for name in ("predicted_vs_true", "alice_fit"):
        assert (out / f"{name}.png").stat().st_size > 10_000
