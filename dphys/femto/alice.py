r"""The ALICE p-p correlation function in pp collisions at 13 TeV (minimum bias) and its analysis
matrices, as shipped in the shared data folder `../shared/data/alice_pp13TeV_MB_pp/` (see its
PROVENANCE.txt: the files of the CATS tutorial, github.com/dimihayl/DLM; only statistical errors).

Readers for both forms of the files:

- the CSV/NPZ exports in `converted/` (NumPy only): [`read_th1_csv`][dphys.femto.alice.read_th1_csv],
  [`read_th2_npz`][dphys.femto.alice.read_th2_npz];
- the ROOT originals with uproot (optional extra `dphys[root]`):
  [`read_root_th1`][dphys.femto.alice.read_root_th1], [`read_root_th2`][dphys.femto.alice.read_root_th2].

**Units.** Every momentum axis is returned in MeV/c and checked: the caller states the unit of the
file's axis (`"MeV"` or `"GeV"`; the ALICE histograms name it, e.g. `hCk_ReweightedMeV_0` and
`hCkTotNormWeight` in GeV/c), it is converted to MeV/c, and an axis whose upper edge is implausible
for the stated unit (a k* histogram in MeV/c ending below 10 MeV/c, or one in GeV/c ending beyond
10 GeV/c) raises ValueError, as does a non-ascending axis.

**Histograms** are `Histogram1D` (edges [MeV/c], values, errors) and `Histogram2D` (`counts[i, j]`
with $i$ the x bin, $j$ the y bin, edges [MeV/c]); `rebin` sums neighbouring bins.

**Axes of the matrices.**

- `hRes_pp_pL` (decay/feed-down matrix, TH2F 1000 x 1000, 0-1000 MeV/c): its title says
  "x: relk pV0, y: relk pp": x is the parent's $k^*$ (p-Lambda), y the daughter's (p-p).
- `hSigmaMeV_Proton_Proton` (momentum resolution, TH2F 500 x 500, 0-1000 MeV/c): the file does not
  say. From its structure, **x is the true and y the reconstructed $k^*$**: the mean of x at fixed
  y lies above y by +0.56 to +0.79 MeV/c in every 4 MeV/c bin from 50 to 400 MeV/c, while the mean
  of y at fixed x lies within -0.51 ... +0.32 MeV/c of x (tests/femto/test_alice.py). That is the
  signature of an unbiased measurement (mean reco given true = true) of pairs whose true
  distribution rises with $k^*$ (phase space): the mean of the *true* momentum given the
  reconstructed one is pulled up by the rising prior. It is also the convention of ALICE's
  AliFemtoDream momentum-resolution histograms (x: true, y: reconstructed). The two orientations
  change the fits little (the matrix is nearly symmetric): the Gaussian + AV18 fit of issue 20 gives
  chi^2 = 131.3 (x true) and 129.4 (y true) on 86 degrees of freedom, so the data cannot decide it.

`load_pp13` bundles the correlation function (`hCk_ReweightedMeV_0`, the one the CATS tutorial fits)
with both matrices; `shared_data_dir` locates the folder.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
from jaxtyping import Float

from dphys.constants import HBARC
from dphys.femto.data import CorrelationData

__all__ = [
    "DATASET",
    "Histogram1D",
    "Histogram2D",
    "PP13",
    "load_pp13",
    "read_root_th1",
    "read_root_th2",
    "read_th1_csv",
    "read_th2_npz",
    "shared_data_dir",
]

DATASET = "alice_pp13TeV_MB_pp"
_FACTOR = {"mev": 1.0, "mev/c": 1.0, "gev": 1000.0, "gev/c": 1000.0}


class Histogram1D(NamedTuple):
    """A 1D histogram: `edges` [MeV/c] (n + 1, ascending), `values` (n), `errors` (n, the stored bin
    errors)."""

    edges: Float[np.ndarray, " n1"]
    values: Float[np.ndarray, " n"]
    errors: Float[np.ndarray, " n"]

    @property
    def centres(self) -> Float[np.ndarray, " n"]:
        """Bin centres [MeV/c]."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])


class Histogram2D(NamedTuple):
    """A 2D histogram: `counts[i, j]` with `i` the x bin and `j` the y bin, `xedges`, `yedges` [MeV/c]."""

    counts: Float[np.ndarray, "nx ny"]
    xedges: Float[np.ndarray, " nx1"]
    yedges: Float[np.ndarray, " ny1"]

    def rebin(self, fx: int, fy: int | None = None) -> Histogram2D:
        """Sum groups of `fx` x bins and `fy` y bins (default `fx`); trailing bins that do not fill
        a group are dropped."""
        fy = fx if fy is None else fy
        if not (isinstance(fx, int) and isinstance(fy, int) and fx >= 1 and fy >= 1):
            raise ValueError(f"Histogram2D.rebin: factors must be ints >= 1, got {fx}, {fy}")
        nx, ny = self.counts.shape[0] // fx, self.counts.shape[1] // fy
        c = self.counts[: nx * fx, : ny * fy].reshape(nx, fx, ny, fy).sum(axis=(1, 3))
        return Histogram2D(c, self.xedges[: nx * fx + 1 : fx], self.yedges[: ny * fy + 1 : fy])


def _to_mev(name: str, edges, unit: str) -> np.ndarray:
    u = unit.strip().lower()
    if u not in _FACTOR:
        raise ValueError(f"{name}: unit must be 'MeV' or 'GeV' (of k*, /c implied), got {unit!r}")
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 2 or not np.all(np.diff(e) > 0) or e[0] < 0:
        raise ValueError(f"{name}: the axis edges must be ascending and >= 0, got {e[:4]}...")
    top = e[-1]
    if (u.startswith("mev") and top < 10.0) or (u.startswith("gev") and top > 10.0):
        raise ValueError(f"{name}: an axis ending at {top:g} {unit} is implausible for a k* histogram in {unit} "
                         "(check the unit)")
    return e * _FACTOR[u]


def shared_data_dir(root: str | os.PathLike | None = None) -> Path | None:
    """The folder of this data set: `root/alice_pp13TeV_MB_pp` with `root` (default: the environment
    variable `DPHYS_SHARED_DATA`, else `../shared/data` relative to the repository root), or None
    where it is absent."""
    if root is None:
        root = os.environ.get("DPHYS_SHARED_DATA") or Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    path = Path(root) / DATASET
    return path if (path / "PROVENANCE.txt").is_file() else None


def read_th1_csv(path: str | os.PathLike, unit: str = "MeV") -> Histogram1D:
    """A TH1 exported as CSV (`converted/*.csv`: columns kstar_center, kstar_low, kstar_high, C,
    stat_err; `#` comment lines); `unit` that of the k* columns.

    **Returns:** a `Histogram1D` with edges in MeV/c."""
    rows = []
    with open(path, newline="") as fh:
        for row in csv.reader(line for line in fh if not line.startswith("#")):
            if row:
                rows.append([float(x) for x in row])
    a = np.asarray(rows, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 5:
        raise ValueError(f"read_th1_csv: expected 5 columns (center, low, high, C, err) in {path}, got {a.shape}")
    if not np.allclose(a[1:, 1], a[:-1, 2]):
        raise ValueError(f"read_th1_csv: the bins in {path} are not contiguous")
    edges = _to_mev("read_th1_csv", np.append(a[:, 1], a[-1, 2]), unit)
    return Histogram1D(edges, a[:, 3], a[:, 4])


def read_th2_npz(path: str | os.PathLike, name: str | None = None, unit: str = "MeV") -> Histogram2D:
    """A TH2 exported as NPZ: keys `counts`, `xedges`, `yedges`, or `<name>_counts` ... when
    `name` is given (several matrices in one file); `counts[i, j]` with `i` the x bin.

    **Returns:** a `Histogram2D` with edges in MeV/c."""
    with np.load(path) as d:
        pre = "" if name is None else f"{name}_"
        keys = [pre + x for x in ("counts", "xedges", "yedges")]
        missing = [x for x in keys if x not in d]
        if missing:
            raise ValueError(f"read_th2_npz: {path} has no {missing} (keys: {sorted(d.keys())})")
        counts, xe, ye = (np.asarray(d[x], dtype=np.float64) for x in keys)
    return _th2("read_th2_npz", counts, xe, ye, unit)


def _th2(name, counts, xe, ye, unit) -> Histogram2D:
    xe, ye = _to_mev(name, xe, unit), _to_mev(name, ye, unit)
    if counts.shape != (xe.size - 1, ye.size - 1):
        raise ValueError(
            f"{name}: counts of shape {counts.shape} do not match the edges ({xe.size - 1}, {ye.size - 1})")
    if np.any(counts < 0) or not np.all(np.isfinite(counts)):
        raise ValueError(f"{name}: a matrix of pair counts must be finite and >= 0")
    return Histogram2D(counts, xe, ye)


def _uproot():
    try:
        import uproot
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("reading ROOT files needs uproot: pip install 'dphys[root]'") from err
    return uproot


def read_root_th1(path: str | os.PathLike, name: str, unit: str) -> Histogram1D:
    """The TH1 `name` of a ROOT file (uproot), its bin errors as stored (sumw2); `unit` that of its
    x axis ('MeV' or 'GeV').

    **Returns:** a `Histogram1D` with edges in MeV/c (under/overflow dropped)."""
    uproot = _uproot()
    with uproot.open(path) as f:
        if name not in f:
            raise ValueError(f"read_root_th1: {path} has no object {name!r}")
        h = f[name]
        if not h.classname.startswith("TH1"):
            raise ValueError(f"read_root_th1: {name!r} is a {h.classname}, expected a TH1")
        values, edges = h.to_numpy()
        errors = h.errors()
    return Histogram1D(_to_mev("read_root_th1", edges, unit), np.asarray(values, np.float64),
                       np.asarray(errors, np.float64))


def read_root_th2(path: str | os.PathLike, name: str, unit: str) -> Histogram2D:
    """The TH2 `name` of a ROOT file (uproot); `unit` that of both axes.

    **Returns:** a `Histogram2D` (`counts[i, j]`, i the x bin) with edges in MeV/c."""
    uproot = _uproot()
    with uproot.open(path) as f:
        if name not in f:
            raise ValueError(f"read_root_th2: {path} has no object {name!r}")
        h = f[name]
        if not h.classname.startswith("TH2"):
            raise ValueError(f"read_root_th2: {name!r} is a {h.classname}, expected a TH2")
        counts, xe, ye = h.to_numpy()
    return _th2("read_root_th2", np.asarray(counts, np.float64), xe, ye, unit)


class PP13(NamedTuple):
    """The ALICE pp 13 TeV minimum-bias p-p analysis inputs.

    **Fields:** `ck` the measured C(k*) (`Histogram1D`, 4 MeV/c bins, statistical errors);
    `resolution` the momentum-resolution matrix (`Histogram2D`, x true, y reconstructed k*);
    `decay_pL` the p-Lambda -> p-p feed-down matrix (`Histogram2D`, x parent p-Lambda k*, y daughter
    p-p k*); `path` the folder read; `form` 'converted' or 'root'.
    """

    ck: Histogram1D
    resolution: Histogram2D
    decay_pL: Histogram2D
    path: str
    form: str

    def data(self, kmax: float = 350.0) -> CorrelationData:
        """The measured C(k*) at the bin centres up to `kmax` [MeV/c] (inclusive) as
        `CorrelationData` (k in fm^-1, statistical errors, no systematic ones), without the bins
        whose error is zero."""
        centres = self.ck.centres
        keep = (centres <= kmax) & (self.ck.errors > 0)
        return CorrelationData(centres[keep] / HBARC, self.ck.values[keep], self.ck.errors[keep],
                               label="ALICE pp 13 TeV MB (hCk_ReweightedMeV_0, stat.)",
                               meta={"source": f"{self.path} ({self.form})", "kmax_MeV": str(kmax)})


def load_pp13(path: str | os.PathLike | None = None, *, form: str = "converted",
              histogram: str = "hCk_ReweightedMeV_0") -> PP13:
    """Read the ALICE pp 13 TeV MB p-p correlation function and its matrices.

    **Arguments:** `path` the data set's folder (default `shared_data_dir()`); `form` 'converted'
    (the CSV/NPZ exports, NumPy only) or 'root' (the ROOT originals through uproot); `histogram` the
    correlation function (a `...MeV...` TH1 of CFOutput_pp.root, in MeV/c).

    **Returns:** a `PP13`. Raises FileNotFoundError where the folder is absent.
    """
    if form not in ("converted", "root"):
        raise ValueError(f"load_pp13: form must be 'converted' or 'root', got {form!r}")
    folder = Path(path) if path is not None else shared_data_dir()
    if folder is None or not folder.is_dir():
        raise FileNotFoundError(
            f"load_pp13: the ALICE data folder ({DATASET}) is absent (looked in {path or '../shared/data'})")
    if form == "converted":
        ck = read_th1_csv(folder / "converted" / f"{histogram}.csv", unit="MeV")
        res = read_th2_npz(folder / "converted" / "hSigmaMeV_Proton_Proton.npz", unit="MeV")
        dec = read_th2_npz(folder / "converted" / "DecayMatrices_Oli.npz", "hRes_pp_pL", unit="MeV")
    else:
        ck = read_root_th1(folder / "CFOutput_pp.root", histogram, unit="MeV")
        res = read_root_th2(folder / "pp13TeV_MB.root", "hSigmaMeV_Proton_Proton", unit="MeV")
        dec = read_root_th2(folder / "DecayMatrices_Oli.root", "hRes_pp_pL", unit="MeV")
    return PP13(ck, res, dec, str(folder), form)
