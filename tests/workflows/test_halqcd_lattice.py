"""The `halqcd-lattice` workflow on the real data (../shared/data, skipped without it): a missing data
folder is a usage error naming it; end to end with tiny settings (slow): every metric, the checks
of the reader, and the figures."""

import json
from pathlib import Path

import pytest

from dphys.cli import main
from dphys.workflows import get_workflow

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def test_missing_data_folder_is_a_usage_error(tmp_path, capsys):
    assert main(["run", "halqcd-lattice", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--data=" in err and "nowhere" in err and "does not exist" in err


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "halqcd_xixi_L48_sample").is_dir(), reason=f"the HAL QCD data in {DATA} are absent")
def test_end_to_end_tiny(tmp_path):
    args = ["run", "halqcd-lattice", "--quick", "--steps", "200", "--replicas", "3", "--nn-replicas", "2",
            "--fit-steps", "100", "--out", str(tmp_path)]
    assert main(args) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    m = report["metrics"]
    assert m["nbs_files"]["value"] == 12 and m["nbs_bytes_unaccounted"]["value"] == 0
    # LO on 48^3 (jackknife over 2 bins of 2 orientations of one configuration), quoted in the README
    assert m["V48_lo_0.1"]["value"] == pytest.approx(1590.5, abs=0.5) and m["V48_lo_0.1"]["unit"] == "MeV"
    assert m["V48_lo_1"]["value"] == pytest.approx(-19.32, abs=0.05)
    assert m["V48_lo_0.3_lat"]["unit"] == "a^-1"
    for r in ("0.1", "0.3", "0.5", "1"):  # the terms add up to the total
        total = sum(m[f"V48_{name}_{r}"]["value"] for name in ("laplacian", "first", "second"))
        assert total == pytest.approx(m[f"V48_lo_{r}"]["value"], rel=1e-9, abs=1e-9)
    assert m["V40_wall_0.5"]["unit"] == "MeV" and m["delta_wall_0.2"]["unit"] == "deg"
    # the README's 48^3 LO figures with their jackknife errors: 1590(12) / 166.8(2.7) / 0.5(4.4) / -19.3(1.5) MeV
    lo48 = (("0.1", 1590.5, 11.91), ("0.3", 166.79, 2.692), ("0.5", 0.505, 4.378), ("1", -19.32, 1.546))
    for r, value, error in lo48:
        assert m[f"V48_lo_{r}"]["value"] == pytest.approx(value, abs=0.05), r
        assert m[f"V48_lo_{r}"]["error"] == pytest.approx(error, rel=0.01), r
    # L = 40 wall t = 13 (the data's fit, deterministic): V(r), delta(k) and the spread over t = 12 ... 16
    # and both sources (README: +-10 / 11 / 4.5 deg, a0 +-1.2 fm)
    for r, value in (("0.1", 1413.6), ("0.3", 161.6), ("0.5", -4.84), ("1", -21.60)):
        assert m[f"V40_wall_{r}"]["value"] == pytest.approx(value, abs=0.1), r
    for k, value, spread in (("0.2", 16.32, 10.15), ("0.5", 26.72, 10.87), ("1", 22.31, 4.46)):
        assert m[f"delta_wall_{k}"]["value"] == pytest.approx(value, abs=0.02), k
        assert m[f"delta_{k}_syst"]["value"] == pytest.approx(spread, abs=0.05), k
        assert 0.05 < m[f"delta_wall_{k}"]["error"] < 1.0, k  # replica errors (README from more replicas)
    assert m["a0_syst"]["value"] == pytest.approx(1.17, abs=0.02)
    assert m["a0_wall_t13"]["value"] == pytest.approx(-1.594, abs=0.01)
    assert m["chi2dof_wall_t13"]["value"] == pytest.approx(0.955, abs=0.01)
    params = {p.name for p in get_workflow("halqcd-lattice").params}
    assert params | {"quick", "seed"} == set(report["config"])
    for name in ("lo_terms_48", "published_fits", "phase_shift_t_dependence"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
