"""The ALICE pp 13 TeV readers (dphys.femto.alice) on the shared data folder: CSV/NPZ exports and
the ROOT originals (uproot) give the same numbers, units are checked, and the axes of the matrices
are what the module docstring states. Skipped where ../shared/data is absent."""

from pathlib import Path

import numpy as np
import pytest

from dphys.constants import HBARC
from dphys.femto import alice

ROOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
FOLDER = alice.shared_data_dir(ROOT)
pytestmark = pytest.mark.skipif(FOLDER is None, reason=f"the ALICE data folder {ROOT}/{alice.DATASET} is absent")


@pytest.fixture(scope="module")
def converted():
    return alice.load_pp13(FOLDER)


def test_converted_and_root_files_agree(converted):
    pytest.importorskip("uproot", reason="reading ROOT files needs the optional extra dphys[root] (uproot)")
    root = alice.load_pp13(FOLDER, form="root")
    for a, b in ((converted.ck, root.ck), (converted.resolution, root.resolution), (converted.decay_pL, root.decay_pL)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-6, atol=0)  # float32 in ROOT, printed to 8 digits in the CSV
    assert root.resolution.counts.shape == (500, 500) and root.decay_pL.counts.shape == (1000, 1000)


def test_units_checked_and_converted(converted):
    pytest.importorskip("uproot", reason="needs uproot")
    gev = alice.read_root_th1(FOLDER / "CFOutput_pp.root", "hCkTotNormWeight", unit="GeV")
    mev = alice.read_root_th1(FOLDER / "CFOutput_pp.root", "hCkTotNormWeightMeV", unit="MeV")
    np.testing.assert_allclose(gev.edges, mev.edges, rtol=1e-6)
    np.testing.assert_allclose(gev.values, mev.values, rtol=1e-6)
    with pytest.raises(ValueError, match="implausible"):
        alice.read_root_th1(FOLDER / "CFOutput_pp.root", "hCkTotNormWeight", unit="MeV")
    with pytest.raises(ValueError, match="implausible"):
        alice.read_th1_csv(FOLDER / "converted" / "hCk_ReweightedMeV_0.csv", unit="GeV")
    with pytest.raises(ValueError, match="unit"):
        alice.read_th1_csv(FOLDER / "converted" / "hCk_ReweightedMeV_0.csv", unit="fm")
    with pytest.raises(ValueError, match="TH2"):
        alice.read_root_th2(FOLDER / "CFOutput_pp.root", "hCkTotNormWeightMeV", unit="MeV")


def test_correlation_data(converted):
    d = converted.data(350.0)
    assert len(d) == 88  # bin centres 2, 6, ..., 350 MeV/c
    np.testing.assert_allclose(d.k * HBARC, 2 + 4 * np.arange(88))
    np.testing.assert_allclose(converted.ck.edges[:3], [0, 4, 8])
    assert np.all(d.syst == 0) and np.all(d.stat > 0)
    # values stated in PROVENANCE.txt: C ~ 3.41 at 22 MeV/c, <C> = 1.000 on 250-400 MeV/c
    assert abs(d.C[5] - 3.41) < 0.01
    c = converted.ck
    sel = (c.centres > 250) & (c.centres < 400)
    assert abs(c.values[sel].mean() - 1.0) < 1e-3


def test_resolution_axis_x_is_true(converted):
    # mean of the other axis at fixed x (rows) and at fixed y (columns), 4 MeV/c bins, 50-400 MeV/c:
    # an unbiased measurement has E[reco | true] = true, while E[true | reco] > reco for a rising
    # true-pair distribution: the columns (fixed y) are the posterior -> x is true
    r = converted.resolution.rebin(2)
    x = 0.5 * (r.xedges[1:] + r.xedges[:-1])
    bins = range(12, 100)
    off_y = np.array([(r.counts[b] * x).sum() / r.counts[b].sum() - x[b] for b in bins])
    off_x = np.array([(r.counts[:, b] * x).sum() / r.counts[:, b].sum() - x[b] for b in bins])
    assert np.all(off_x > off_y)
    assert np.all((off_x > 0.5) & (off_x < 0.9)) and np.all(np.abs(off_y) < 0.55)


def test_decay_matrix_axes(converted):
    pytest.importorskip("uproot", reason="needs uproot")
    import uproot

    with uproot.open(FOLDER / "DecayMatrices_Oli.root") as f:
        assert f["hRes_pp_pL"].member("fTitle") == "x: relk pV0, y: relk pp"
    # kinematics: the daughter p-p pair keeps only part of the parent p-Lambda relative momentum
    m = converted.decay_pL.counts
    x = 0.5 * (converted.decay_pL.xedges[1:] + converted.decay_pL.xedges[:-1])
    mean_y_at_x300 = (m[300] * x).sum() / m[300].sum()
    assert mean_y_at_x300 < 300.5


def test_absent_folder_and_bad_form(tmp_path):
    assert alice.shared_data_dir(tmp_path) is None
    with pytest.raises(FileNotFoundError, match="absent"):
        alice.load_pp13(tmp_path / "nothing")
    with pytest.raises(ValueError, match="form"):
        alice.load_pp13(FOLDER, form="hdf5")


def test_rebin_sums(converted):
    r = converted.resolution
    rb = r.rebin(2)
    assert rb.counts.shape == (250, 250)
    np.testing.assert_allclose(rb.counts.sum(), r.counts.sum(), rtol=1e-12)
    np.testing.assert_allclose(rb.counts[3, 7], r.counts[6:8, 14:16].sum(), rtol=1e-12)
    np.testing.assert_allclose(rb.xedges[:3], [0, 4, 8])
