"""The `scattering` workflow end to end through the CLI."""

import json

import pytest

from dphys.cli import main
from dphys.workflows import get_workflow


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("scattering")
    assert main(["run", "scattering", "--quick", "--out", str(out)]) == 0
    return out, json.loads((out / "report.json").read_text())


def test_omega_omega_report_has_published_references_and_units(quick_report):
    out, report = quick_report
    m = report["metrics"]
    assert m["a"]["unit"] == "fm" and m["a"]["reference"] == 4.6 and abs(m["a"]["value"] - 4.49) < 0.01
    assert m["r"]["reference"] == 1.27 and abs(m["r"]["value"] - 1.267) < 0.001
    assert m["n_bound"]["value"] == 1
    assert m["B0"]["unit"] == "MeV" and m["B0"]["reference"] == 1.6 and abs(m["B0"]["value"] - 1.6325) < 0.001
    assert abs(m["delta_kmin_over_pi"]["value"] - 1) < 0.1  # Levinson
    # against Gongyo et al., PRL 120 (2018) 212001 (arXiv:1709.00654): a = 4.6(6), r = 1.27(3) fm,
    # B = 1.6(6) MeV (statistical errors): the 3-digit published potential reproduces them within 1 error
    # (measured 0.18, 0.10, 0.05 of an error)
    for name, published_error in (("a", 0.6), ("r", 0.03), ("B0", 0.6)):
        assert abs(m[name]["value"] - m[name]["reference"]) < published_error, (name, m[name])
    params = {p.name for p in get_workflow("scattering").params}
    assert params | {"quick", "seed"} == set(report["config"])
    for name in ("phase_shift", "k_cot_delta", "wavefunction"):
        assert (out / f"{name}.png").stat().st_size > 10_000


def test_unknown_potential_is_a_usage_error(tmp_path, capsys):
    assert main(["run", "scattering", "--potential", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "omega-omega" in err
