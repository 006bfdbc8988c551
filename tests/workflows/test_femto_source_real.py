"""femto-source on the shared ALICE pp 13 TeV data (--data alice-pp13): the full decomposition with
Argonne v18 (the kernel's compilation takes ~90 s: slow), the Gaussian radius near the published
~1.2 fm with chi^2/ndf <= 2, the neural source lower in chi^2, figures written; the data-path
checks are quick. Skipped where ../shared/data is absent."""

import json
from pathlib import Path

import pytest

from dphys.cli import main
from dphys.femto import alice

ROOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
FOLDER = alice.shared_data_dir(ROOT)
needs_data = pytest.mark.skipif(FOLDER is None, reason=f"the ALICE data folder {ROOT}/{alice.DATASET} is absent")


def test_bad_data_path_is_a_usage_error(tmp_path, capsys):
    assert main(["run", "femto-source", "--data", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2
    assert "--data=" in capsys.readouterr().err


@needs_data
@pytest.mark.slow
def test_alice_pp13_gaussian_av18_and_neural(tmp_path):
    out = tmp_path / "real"
    assert main(["run", "femto-source", "--quick", "--data", "alice-pp13", "--members", "6", "--steps", "1500",
                 "--out", str(out)]) == 0
    m = json.loads((out / "report.json").read_text())["metrics"]
    assert m["n_points"]["value"] == 88
    # Gaussian + AV18 (constant baseline): R = 1.1656(78) fm, chi2 = 131.3 / 86 (deterministic fit)
    assert abs(m["gauss_radius"]["value"] - 1.1656) < 2e-3 and 0.005 < m["gauss_radius"]["error"] < 0.011
    assert m["gauss_ndf"]["value"] == 86 and abs(m["gauss_chi2"]["value"] - 131.3) < 0.5
    assert m["gauss_chi2_ndf"]["value"] <= 2.0
    assert m["neural_chi2"]["value"] < m["gauss_chi2"]["value"] - 10
    assert m["neural_chi2_ndf"]["value"] < m["gauss_chi2_ndf"]["value"]
    assert m["coretail_ndf"]["value"] == 84 and abs(m["coretail_chi2"]["value"] - 84.6) < 0.5
    for name in ("correlation", "source", "source_log"):
        assert (out / f"{name}.png").stat().st_size > 10_000
