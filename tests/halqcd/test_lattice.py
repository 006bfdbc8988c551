"""The HAL QCD lattice-data path on the real Xi-Xi files (../shared/data/halqcd_xixi_L48_sample, skipped
without them): record sizes against the file size, malformed files named by file and record, the
singlet wave function invariant under the cubic group (sites and spinor rotations), the LO terms
against an independent NumPy computation and against `lo_potential`, the A1 projection, jit/vmap."""

import itertools
import shutil
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dphys.halqcd import Correlator, lo_potential
from dphys.halqcd.lattice import (
    XIXI_AINV,
    XIXI_MASS,
    a1_project,
    baryon_correlator,
    bin_in_r,
    decompress_singlet,
    jackknife_bins,
    lattice_spacing,
    lo_terms,
    load_xixi_sample,
    orbit_index,
    r_correlator,
    read_compressed_nbs,
    read_correlator_file,
    read_records,
    representative_sites,
    spin_singlet,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SAMPLE = DATA / "halqcd_xixi_L48_sample"
pytestmark = pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"the HAL QCD lattice sample {SAMPLE} is absent "
                                "(../shared/data relative to the repository root)")
MU = XIXI_MASS / 2  # reduced mass [a^-1]


def _nbs_files():
    return sorted((SAMPLE / "sample_data" / "BBwave.dir.S4.00").glob("*/NBSwave.*"))


@pytest.fixture(scope="module")
def sample():
    return load_xixi_sample(SAMPLE)


@pytest.fixture(scope="module")
def box_r(sample):
    """Jackknife samples (2 bins of 2 orientations) of R on the 48^3 box at t = 9, 10, 11."""
    return decompress_singlet(r_correlator(sample.psi, sample.corr, sample.times, bin_size=2), sample.L)


def test_record_sizes_sum_to_the_file_size():
    files = _nbs_files()
    assert len(files) == 12
    for f in files:
        records, content = read_records(f)
        assert [r.length for r in records] == [16, 11700, 20, 748800]
        assert sum(r.length + 8 for r in records) == f.stat().st_size == len(content) == 760568
    nbs = read_compressed_nbs(files[0])
    assert nbs.sites == (48, 48, 48) and nbs.boundary == (0, 0, 0) and nbs.data.shape == (2925, 2, 2, 2, 2)
    np.testing.assert_array_equal(nbs.coords, representative_sites(48))
    # Sz-conserving spin components carry the signal (PROVENANCE.txt): at the origin ~1e-25, the rest ~1e-42
    flat = np.abs(nbs.data[0].reshape(16))
    big = [0, 5, 6, 9, 10, 15]
    assert flat[big].min() > 1e-27 and np.delete(flat, big).max() < 1e-35


def test_malformed_files_are_named_by_file_and_record(tmp_path):
    good = _nbs_files()[0].read_bytes()
    cases = {
        "truncated": good[:-100],  # record 4's payload cut short
        "short_marker": good[:24 + 8 + 11700 + 2],  # 2 bytes where record 3's marker should be
        "huge_marker": good[:24] + np.int32(2**30).tobytes() + good[28:],  # record 2 claims 1 GiB
        "tail_mismatch": good[:24 + 4 + 11700] + np.int32(11704).tobytes() + good[24 + 8 + 11700:],
    }
    expected = {
        "truncated": r"record 4: length marker 748800 at byte 11760 runs past the end of the file .*not read",
        "short_marker": r"record 3: truncated length marker at byte 11732",
        "huge_marker": r"record 2: length marker 1073741824 at byte 24 runs past the end",
        "tail_mismatch": r"record 2: trailing length marker 11704 at byte 11728 differs from the leading one 11700",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError, match=str(path) + ": " + expected[name]):
            read_compressed_nbs(path)
    wrong = tmp_path / "wrong_sites"
    wrong.write_bytes(good[:28] + np.int32(3).tobytes() + good[32:])  # first representative site 0 -> 3
    with pytest.raises(ValueError, match=f"{wrong}: record 2: the 2925 representative sites are not"):
        read_compressed_nbs(wrong)
    text = tmp_path / "corr.txt"
    text.write_text("0 1 2\n1 1 2\n3 1 2\n")
    with pytest.raises(ValueError, match=f"{text}: line 3: time slice 3, expected 2"):
        read_correlator_file(text, columns=3)
    text.write_text("0 1 2\n1 1\n")
    with pytest.raises(ValueError, match=f"{text}: line 2: expected 3 columns, got 2"):
        read_correlator_file(text, columns=3)
    with pytest.raises(ValueError, match="only periodic boundary conditions"):
        decompress_singlet(np.zeros(2925), 48, boundary=(1, 0, 0))
    missing = tmp_path / "nothing"
    shutil.os.mkdir(missing)
    with pytest.raises(ValueError, match="no NBS directory"):
        load_xixi_sample(missing)


def _cubic_group(L):
    """The 48 site maps of the cubic group with parity on the periodic box: x_i -> s_i x_p(i) mod L."""
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            yield perm, signs


def _apply(field, perm, signs):
    out = np.transpose(field, perm)
    for axis, s in enumerate(signs):
        if s < 0:
            out = np.roll(np.flip(out, axis), 1, axis)  # x -> -x mod L
    return out


def test_singlet_wave_function_is_invariant_under_the_cubic_group(sample):
    L = sample.L
    psi = decompress_singlet(sample.psi[0, 1], L)  # rot_tyzx, t = 10
    # an independent decompression: scatter each representative to its 48 images
    scattered = np.full((L, L, L), np.nan + 0j)
    reps = representative_sites(L)
    for perm, signs in _cubic_group(L):
        img = np.stack([signs[i] * reps[:, perm[i]] for i in range(3)], axis=1) % L
        scattered[img[:, 0], img[:, 1], img[:, 2]] = sample.psi[0, 1]
    assert not np.any(np.isnan(scattered))  # every site is an image of a representative
    np.testing.assert_array_equal(scattered, psi)
    for perm, signs in _cubic_group(L):
        np.testing.assert_array_equal(_apply(psi, perm, signs), psi)
    # the 2925 representatives are the orbits: the orbit sizes sum to L^3
    assert np.bincount(orbit_index(L).ravel()).sum() == L**3 and np.bincount(orbit_index(L).ravel()).min() >= 1


def _su2_cubic():
    """The 48 SU(2) matrices of the double cover of the rotation group of the cube (closure of the
    quarter turns (1 - i sigma_n)/sqrt2)."""
    sig = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
    gens = [(np.eye(2) - 1j * s) / np.sqrt(2) for s in sig]
    group = [np.eye(2, dtype=complex)]
    frontier = list(group)
    while frontier:
        new = []
        for g in frontier:
            for h in gens:
                m = h @ g
                if not any(np.allclose(m, x) for x in group):
                    group.append(m)
                    new.append(m)
        frontier = new
    return group


def test_singlet_projection_is_invariant_under_the_spinor_rotations(sample):
    """The decompression rule rotates spins as S(g) x S(g) on the sink and S*(g) x S*(g) on the source;
    the singlet projection must not see it (on data and on a random spin tensor, whose triplet m = 0
    component does change: the check is not vacuous), and at the origin, a fixed point of the whole
    group, the measured spin tensor itself is invariant (the file's spin-index order is consistent)."""
    nbs = read_compressed_nbs(_nbs_files()[1])
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(3, 2, 2, 2, 2)) + 1j * rng.normal(size=(3, 2, 2, 2, 2))
    data = np.concatenate([nbs.data[:200], noise])  # (site, beta', alpha', beta, alpha)
    group = _su2_cubic()
    assert len(group) == 48
    triplet0 = np.array([0.0, 1.0, 1.0, 0.0]) / np.sqrt(2)
    t0 = lambda d: np.einsum("...ba,a,b->...", d.reshape(d.shape[:-4] + (4, 4)), triplet0, triplet0)  # noqa: E731
    base = spin_singlet(data)
    changed = 0
    for S in group:
        rot = np.einsum("ia,jb,kc,ld,ndcba->nlkji", S, S, S.conj(), S.conj(), data)
        np.testing.assert_allclose(spin_singlet(rot), base, rtol=1e-12, atol=1e-12 * np.abs(base[:200]).max())
        np.testing.assert_allclose(rot[0], data[0], rtol=0, atol=1e-12 * np.abs(data[0]).max())
        changed += not np.allclose(t0(rot[-3:]), t0(data[-3:]), rtol=1e-6)
    assert changed >= 16
    # the singlet of the measured data: 7.09e-25 at the origin for rot_xyzt, t = 10 (PROVENANCE.txt)
    assert abs(sample.psi[3, 1, 0]) == pytest.approx(7.09e-25, rel=1e-3)


def _numpy_lo(R, mu):
    """An independent NumPy LO: the 7-point Laplacian by periodic padding (np.pad wrap), loops over axes."""
    prev, mid, nxt = R[:, 0], R[:, 1], R[:, 2]
    p = np.pad(mid, [(0, 0), (1, 1), (1, 1), (1, 1)], mode="wrap")
    lap = (p[:, 2:, 1:-1, 1:-1] + p[:, :-2, 1:-1, 1:-1] + p[:, 1:-1, 2:, 1:-1] + p[:, 1:-1, :-2, 1:-1]
           + p[:, 1:-1, 1:-1, 2:] + p[:, 1:-1, 1:-1, :-2] - 6 * mid)
    h0 = lap / mid / (2 * mu)
    dt = -(nxt - prev) / 2 / mid
    dt2 = (nxt - 2 * mid + prev) / mid / (8 * mu)
    return h0, dt, dt2, h0 + dt + dt2


def test_lo_terms_against_numpy_and_lo_potential(box_r):
    terms = lo_terms(box_r, MU)
    ref = _numpy_lo(box_r, MU)
    for got, want in zip(terms, ref):
        np.testing.assert_allclose(np.asarray(got)[:, 0], want, rtol=1e-11, atol=1e-13)
    # the same in MeV through the synthetic-data path (dphys.halqcd.lo_potential on a box Correlator)
    a = lattice_spacing()
    corr = Correlator(jnp.asarray(box_r), jnp.asarray(a * np.array([9.0, 10.0, 11.0])), a, "box", MU * XIXI_AINV,
                      0.0, True, True)
    np.testing.assert_allclose(np.asarray(lo_potential(corr)), np.asarray(terms.total) * XIXI_AINV, rtol=1e-9,
                               atol=1e-9)
    # the quoted A1 LO potential [MeV] in 0.05 fm windows at r = 0.1, 0.3, 0.5, 1.0 fm (jackknife, 2 bins)
    reps = representative_sites(48)
    r = a * np.sqrt((reps**2).sum(1))
    a1 = np.asarray(a1_project(terms.total[:, 0])) * XIXI_AINV
    quoted = [(1590.5, 11.9), (166.79, 2.69), (0.51, 4.38), (-19.32, 1.55)]
    for r0, (value, error) in zip((0.1, 0.3, 0.5, 1.0), quoted):
        w = a1[:, np.abs(r - r0) < 0.025].mean(axis=1)
        assert w.mean() == pytest.approx(value, abs=0.05)
        assert np.abs(w - w.mean()).mean() == pytest.approx(error, abs=0.05)
    # jit and vmap: over jackknife samples one at a time
    one = jax.jit(jax.vmap(lambda R: lo_terms(R, MU).total))(jnp.asarray(box_r))
    np.testing.assert_allclose(np.asarray(one), np.asarray(terms.total), rtol=1e-12)


def test_a1_projection_and_binning(box_r):
    rng = np.random.default_rng(0)
    field = rng.normal(size=(8, 8, 8))
    proj = np.asarray(a1_project(field))
    reps = representative_sites(8)
    for i in (0, 5, 17, len(reps) - 1):  # the mean over the 48 images, explicitly
        images = {tuple(np.array([s[j] * reps[i][p[j]] for j in range(3)]) % 8) for p, s in _cubic_group(8)}
        np.testing.assert_allclose(proj[i], np.mean([field[x] for x in images]), rtol=1e-12)
    # an invariant field (the decompressed R) projects onto its representative values
    v = np.asarray(a1_project(box_r[:, 1]))
    rep48 = representative_sites(48)
    idx = rep48[:, 0] * 48**2 + rep48[:, 1] * 48 + rep48[:, 2]
    np.testing.assert_allclose(v, box_r[:, 1].reshape(2, -1)[:, idx], rtol=1e-12)
    r = np.sqrt((rep48**2).sum(1)).astype(float)
    centres, means, counts = bin_in_r(r, v, np.arange(0, 25, 5.0))
    assert counts.sum() == np.sum(r < 20)
    np.testing.assert_allclose(means[:, 0], v[:, r < 5].mean(axis=1), rtol=1e-12)


def test_r_correlator_with_jackknife_bins(sample):
    assert sample.rotations == ("rot_tyzx", "rot_xtzy", "rot_xytz", "rot_xyzt")
    assert sample.times == (9, 10, 11) and sample.psi.shape == (4, 3, 2925) and sample.corr.shape == (4, 48)
    fw = read_correlator_file(SAMPLE / "sample_data" / "correlator.PS.dir" / Path(sample.files[0]).parent.name
                              / "Xi_CG05_CG05_correlator.ama.rot_tyzx")
    bw = read_correlator_file(SAMPLE / "sample_data" / "correlator.PS.dir" / Path(sample.files[0]).parent.name
                              / "antiXi_CG05_CG05_correlator.ama.rot_tyzx")
    assert fw.shape == (48, 11)
    np.testing.assert_allclose(sample.corr[0, 10], fw[10, 1] + bw[38, 1], rtol=1e-15)
    np.testing.assert_allclose(baryon_correlator(fw[:, 1], bw[:, 1])[0], fw[0, 1] + bw[0, 1], rtol=1e-15)
    R = r_correlator(sample.psi, sample.corr, sample.times, bin_size=2)
    # jackknife sample 0 leaves out bin 0 (rot_tyzx, rot_xtzy): the mean of the other two, divided
    psi = sample.psi[2:, 1, 0].real.mean()
    c = sample.corr[2:, 10].mean()
    np.testing.assert_allclose(R[0, 1, 0], psi / c**2, rtol=1e-13)
    np.testing.assert_allclose(jackknife_bins(np.arange(4.0), 1), [2.0, 5 / 3, 4 / 3, 1.0])
    with pytest.raises(ValueError, match="bin_size must be an int dividing the 4 measurements, got 3"):
        jackknife_bins(np.arange(4.0), 3)
