r"""Real HAL QCD lattice data: the compressed NBS wave-function format, correlator text files, the
spin-singlet projection, decompression onto the periodic box, R-correlators with jackknife bins and
the time-dependent leading-order potential term by term.

**Compressed NBS files** (the HAL QCD `compress48` format; byte layout in
`../shared/data/halqcd_xixi_L48_sample/PROVENANCE.txt`): four little-endian Fortran sequential records,
each `int32 n | n bytes | int32 n`:

1. `int32[4]` = $(L_x, L_y, L_z, n)$, the box and the number of representative sites;
2. `int32[n]`, the representative sites $i_x + L i_y + L^2 i_z$ with $0 \le i_y \le i_x \le i_z \le L/2$;
3. `int32[5]` = (three boundary conditions, 0 = periodic; $n$; 256 bytes per site);
4. `complex128[n][2][2][2][2]`, per site $\psi[\beta'][\alpha'][\beta][\alpha]$: $(\alpha, \beta)$ the Pauli
   spins of baryons 1, 2 at the sink, $(\alpha', \beta')$ at the source, 0 = up, 1 = down.

`read_records` checks every length marker against the file size *before* reading the payload, so
nothing is read past a bad marker; every error names the file and the record.

**What is supported.** The spin singlet at sink and source, $\psi_{^1S_0} = \sum \chi_{\alpha\beta}
\psi_{\alpha\beta;\alpha'\beta'}\chi_{\alpha'\beta'}$ with $\chi = (|\!\uparrow\downarrow\rangle -
|\!\downarrow\uparrow\rangle)/\sqrt2$ (`spin_singlet`), on a cubic box with periodic boundary conditions.
The singlet is invariant under the spinor rotations of the cubic group, so its value at any site is
that of the representative of $\mathrm{sorted}(|x|, |y|, |z|)$, $|c| = \min(c, L - c)$
(`decompress_singlet`; the parity images need no sign for the S-wave). **Not supported:** spin-triplet
or tensor channels (their decompression needs the 24 SU(2) rotation matrices applied on sink and
source spins), non-periodic (twisted) boundary conditions, non-cubic boxes: these raise ValueError.

**R-correlator and potential** (lattice units: $r$ in $a$, energies in $a^{-1}$). The baryon
correlator combines the forward and backward (anti-baryon) propagation, $C(t) = C_\text{fw}(t) +
C_\text{bw}((T - t) \bmod T)$ (real part of the first column, the published convention), and
$R(\mathbf r, t) = \mathrm{Re}\,\psi_{^1S_0}(\mathbf r, t)/C(t)^2$, computed per jackknife sample from
the bin averages of $\psi$ and $C$ (`r_correlator`). The leading-order potential of the
time-dependent HAL QCD equation (equal masses) is the sum of three terms (`lo_terms`),

$$ V = \underbrace{\frac{\nabla^2 R}{2\mu R}}_{\text{laplacian}}
  \underbrace{- \frac{R_{t+1} - R_{t-1}}{2R_t}}_{\text{first}}
  + \underbrace{\frac{R_{t+1} - 2R_t + R_{t-1}}{8\mu R_t}}_{\text{second}}, $$

with the 7-point periodic Laplacian. `a1_project` averages a field over the orbits of the cubic group
(the A1 projection) and returns it on the representative sites; `bin_in_r` bins it in $r$.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from dphys.constants import HBARC

__all__ = [
    "CompressedNBS",
    "LOTerms",
    "LatticeSample",
    "Record",
    "XIXI_AINV",
    "XIXI_MASS",
    "a1_project",
    "baryon_correlator",
    "bin_in_r",
    "data_root",
    "decompress_singlet",
    "jackknife_bins",
    "lattice_spacing",
    "lo_terms",
    "load_xixi_sample",
    "orbit_index",
    "read_compressed_nbs",
    "read_correlator_file",
    "read_records",
    "representative_sites",
    "r_correlator",
    "spin_singlet",
]

XIXI_AINV = 2194.0  # [MeV] lattice cutoff a^-1 of the 48^4 (and L = 40, 64) HAL QCD ensembles
XIXI_MASS = 0.665  # [a^-1] the Xi mass used by the published analysis (reduced mass 0.3325)

_SINGLET = np.array([0.0, 1.0, -1.0, 0.0]) / np.sqrt(2)  # chi[alpha + 2 beta]: (|ud> - |du>)/sqrt2


class Record(NamedTuple):
    """One Fortran sequential record: `offset` [bytes] of its payload in the file, `length` [bytes]."""

    offset: int
    length: int


def read_records(path: str | os.PathLike) -> tuple[list[Record], bytes]:
    """The Fortran sequential records of a little-endian file (`int32 n`, `n` bytes, `int32 n`).

    Each leading marker is checked against the bytes left in the file before the payload is
    touched, and the trailing marker against the leading one.

    **Arguments:** `path` of the file.

    **Returns:** `(records, content)`: the list of `Record(offset, length)` and the file's bytes.
    Raises ValueError naming the file, the record (1-based) and the byte offset on a truncated
    marker, a negative length, a length past the end of the file or mismatched markers.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        content = f.read()
    size, pos, records = len(content), 0, []
    while pos < size:
        number = len(records) + 1
        if size - pos < 4:
            raise ValueError(f"{path}: record {number}: truncated length marker at byte {pos} "
                             f"({size - pos} bytes left, the file has {size})")
        n = int(np.frombuffer(content, "<i4", 1, pos)[0])
        if n < 0 or n > size - pos - 8:
            raise ValueError(f"{path}: record {number}: length marker {n} at byte {pos} runs past the end of the "
                             f"file ({size} bytes; at most {size - pos - 8} payload bytes are left): not read")
        tail = int(np.frombuffer(content, "<i4", 1, pos + 4 + n)[0])
        if tail != n:
            raise ValueError(f"{path}: record {number}: trailing length marker {tail} at byte {pos + 4 + n} "
                             f"differs from the leading one {n}")
        records.append(Record(pos + 4, n))
        pos += n + 8
    return records, content


class CompressedNBS(NamedTuple):
    """A compressed NBS wave function (module docstring).

    **Fields:** `path`; `sites` $(L_x, L_y, L_z)$; `boundary` (0 = periodic per axis);
    `representatives` (n,) site indices $i_x + L i_y + L^2 i_z$; `coords` (n, 3) their
    $(i_x, i_y, i_z)$; `data` complex (n, 2, 2, 2, 2), axes (site, $\\beta'$, $\\alpha'$, $\\beta$,
    $\\alpha$); `records` the file's `Record`s (their payloads plus 8 marker bytes each sum to
    the file size).
    """

    path: str
    sites: tuple[int, int, int]
    boundary: tuple[int, int, int]
    representatives: np.ndarray
    coords: np.ndarray
    data: np.ndarray
    records: tuple[Record, ...]


def representative_sites(L: int) -> np.ndarray:
    """The representative sites of the compressed format on an $L^3$ box, $(i_x, i_y, i_z)$ with
    $0 \\le i_y \\le i_x \\le i_z \\le L/2$, in the file's order (loops $i_z$ outer, $i_x$, $i_y$
    inner), shape (n, 3). For $L = 48$, n = 2925."""
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 2:
        raise ValueError(f"representative_sites: L must be an int >= 2, got {L!r}")
    out = [(ix, iy, iz) for iz in range(L // 2 + 1) for ix in range(iz + 1) for iy in range(ix + 1)]
    return np.asarray(out, dtype=np.int64)


def read_compressed_nbs(path: str | os.PathLike) -> CompressedNBS:
    """Read a compressed NBS wave-function file (module docstring): four records, checked for
    their sizes, a cubic box, the representative sites (equal to `representative_sites(L)`) and
    256 bytes per site.

    **Arguments:** `path` of the file.

    **Returns:** a `CompressedNBS`. Raises ValueError naming the file and the record on any
    inconsistency (`read_records` for the markers).
    """
    records, content = read_records(path)
    path = os.fspath(path)
    if len(records) != 4:
        raise ValueError(f"{path}: a compressed NBS file has 4 records, found {len(records)}")

    def ints(i: int, expected: int) -> np.ndarray:
        rec = records[i]
        if rec.length != 4 * expected:
            raise ValueError(f"{path}: record {i + 1}: expected {4 * expected} bytes (int32[{expected}]), "
                             f"got {rec.length}")
        return np.frombuffer(content, "<i4", expected, rec.offset).astype(np.int64)

    lx, ly, lz, n = (int(x) for x in ints(0, 4))
    if not (lx == ly == lz) or lx < 2:
        raise ValueError(f"{path}: record 1: only cubic boxes are supported, got sites {(lx, ly, lz)}")
    reps = ints(1, n)
    header = ints(2, 5)
    if int(header[3]) != n or int(header[4]) != 256:
        raise ValueError(f"{path}: record 3: expected (bc, bc, bc, {n}, 256), got {tuple(int(h) for h in header)}")
    coords = np.stack([reps % lx, (reps // lx) % ly, reps // (lx * ly)], axis=1)
    expected = representative_sites(lx)
    if coords.shape != expected.shape or np.any(coords != expected):
        raise ValueError(f"{path}: record 2: the {n} representative sites are not those of the compressed format "
                         f"(0 <= iy <= ix <= iz <= {lx // 2}, {expected.shape[0]} sites, loops iz, ix, iy)")
    rec = records[3]
    if rec.length != 256 * n:
        raise ValueError(f"{path}: record 4: expected {256 * n} bytes (complex128[{n}][16]), got {rec.length}")
    data = np.frombuffer(content, "<c16", 16 * n, rec.offset).reshape(n, 2, 2, 2, 2)
    return CompressedNBS(path, (lx, ly, lz), tuple(int(b) for b in header[:3]), reps, coords, data.copy(),
                         tuple(records))


def spin_singlet(data: ArrayLike) -> np.ndarray:
    r"""The spin-singlet (sink) x singlet (source) component $\sum \chi_{\alpha\beta}\,
    \psi[\beta'][\alpha'][\beta][\alpha]\,\chi_{\alpha'\beta'}$, $\chi = (|\!\uparrow\downarrow\rangle -
    |\!\downarrow\uparrow\rangle)/\sqrt2$ (index $\alpha + 2\beta$).

    **Arguments:** `data` complex, shape (..., 2, 2, 2, 2) (axes $\beta', \alpha', \beta, \alpha$).

    **Returns:** complex, shape (...).
    """
    x = np.asarray(data)
    if x.shape[-4:] != (2, 2, 2, 2):
        raise ValueError(f"spin_singlet: data must end in the spin axes (2, 2, 2, 2), got shape {x.shape}")
    w = x.reshape(x.shape[:-4] + (4, 4))  # (source b = alpha' + 2 beta', sink a = alpha + 2 beta)
    return np.einsum("...ba,a,b->...", w, _SINGLET, _SINGLET)


@functools.lru_cache(maxsize=8)
def _orbit_tables(L: int):
    idx = _orbit_index(L)
    n = representative_sites(L).shape[0]
    counts = np.bincount(idx.ravel(), minlength=n)
    idx.flags.writeable = False
    return idx, counts, jnp.asarray(idx.ravel()), jnp.asarray(counts)


def orbit_index(L: int) -> np.ndarray:
    """For every site $(x, y, z)$ of the $L^3$ box (array axes x, y, z), the index of its cubic-group
    orbit's representative in `representative_sites(L)`: the site sorted$(|x|, |y|, |z|)$ with
    $|c| = \\min(c, L - c)$. Shape (L, L, L), integers in [0, n) (cached, read-only)."""
    return _orbit_tables(int(L))[0]


def _orbit_index(L: int) -> np.ndarray:
    reps = representative_sites(L)
    h = L // 2 + 1
    lookup = np.full((h, h, h), -1, dtype=np.int64)
    lookup[reps[:, 1], reps[:, 0], reps[:, 2]] = np.arange(reps.shape[0])  # (smallest, middle, largest)
    c = np.arange(L)
    c = np.minimum(c, L - c)
    folded = np.stack(np.meshgrid(c, c, c, indexing="ij"), axis=-1)
    s = np.sort(folded, axis=-1)
    return lookup[s[..., 0], s[..., 1], s[..., 2]]


def decompress_singlet(values: ArrayLike, L: int, boundary: Sequence[int] = (0, 0, 0)) -> np.ndarray:
    """The spin-singlet wave function on the whole periodic $L^3$ box from its values on the
    representative sites (module docstring: invariant under the cubic group).

    **Arguments:** `values` (..., n) on `representative_sites(L)`; `L`; `boundary` of the file
    (only periodic, all 0, is supported).

    **Returns:** shape (..., L, L, L), array axes (x, y, z).
    """
    if tuple(int(b) for b in boundary) != (0, 0, 0):
        raise ValueError(f"decompress_singlet: only periodic boundary conditions (0, 0, 0) are supported, "
                         f"got {tuple(boundary)}")
    v = np.asarray(values)
    n = representative_sites(L).shape[0]
    if v.shape[-1] != n:
        raise ValueError(f"decompress_singlet: values must have {n} representative sites for L = {L} on the last "
                         f"axis, got shape {v.shape}")
    return v[..., orbit_index(L)]


def a1_project(field: Float[ArrayLike, "... L L L"]) -> Float[Array, "... n"]:
    """The A1 projection of a field on the periodic $L^3$ box: its average over each orbit of the
    cubic group (48 elements with parity), returned on `representative_sites(L)`.

    **Arguments:** `field` (..., L, L, L), any unit.

    **Returns:** shape (..., n), same unit.
    """
    f = jnp.asarray(field)
    L = f.shape[-1]
    if f.ndim < 3 or f.shape[-3:] != (L, L, L):
        raise ValueError(f"a1_project: field must end in a cubic box (L, L, L), got shape {f.shape}")
    _, _, idx, counts = _orbit_tables(int(L))
    return _orbit_mean(f, idx, counts)


@jax.jit
def _orbit_mean(f: Array, idx: Array, counts: Array) -> Array:
    n = counts.size
    flat = f.reshape((-1, idx.size))
    sums = jax.vmap(lambda x: jax.ops.segment_sum(x, idx, num_segments=n))(flat)
    return (sums / counts).reshape(f.shape[:-3] + (n,))


_LINE = re.compile(r"\s+")


def read_correlator_file(path: str | os.PathLike, columns: int = 11) -> np.ndarray:
    """A hadron (or two-baryon) correlator text file: one row per time slice $t = 0, 1, \\ldots$,
    `columns` numbers per row (column 0 = $t$, then (Re, Im) pairs).

    **Arguments:** `path`; `columns` per row.

    **Returns:** float64 array (T, columns). Raises ValueError naming the file and line for a row
    with the wrong number of columns, a non-number, or $t$ out of sequence.
    """
    path = os.fspath(path)
    rows = []
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            fields = _LINE.split(text)
            if len(fields) != columns:
                raise ValueError(f"{path}: line {line_no}: expected {columns} columns, got {len(fields)}")
            try:
                row = [float(x) for x in fields]
            except ValueError as e:
                raise ValueError(f"{path}: line {line_no}: not a number ({e})") from None
            if row[0] != len(rows):
                raise ValueError(f"{path}: line {line_no}: time slice {row[0]:g}, expected {len(rows)}")
            rows.append(row)
    if not rows:
        raise ValueError(f"{path}: no data rows")
    return np.asarray(rows, dtype=np.float64)


def baryon_correlator(forward: ArrayLike, backward: ArrayLike) -> np.ndarray:
    r"""$C(t) = C_\text{fw}(t) + C_\text{bw}((T - t) \bmod T)$: the baryon and anti-baryon correlators
    (real parts, the published column-1 convention) combined, shape (..., T).

    **Arguments:** `forward`, `backward` (..., T), same shape.
    """
    fw, bw = np.asarray(forward, dtype=np.float64), np.asarray(backward, dtype=np.float64)
    if fw.shape != bw.shape or fw.ndim < 1:
        raise ValueError(f"baryon_correlator: forward and backward must have the same shape (..., T), got "
                         f"{fw.shape} and {bw.shape}")
    T = fw.shape[-1]
    return fw + bw[..., (T - np.arange(T)) % T]


def jackknife_bins(x: ArrayLike, bin_size: int) -> np.ndarray:
    """Leave-one-bin-out means of measurements (axis 0) grouped in consecutive bins of `bin_size`:
    shape (J, ...) with J = M / bin_size. ValueError unless `bin_size` divides M and J >= 2."""
    a = np.asarray(x)
    M = a.shape[0]
    if isinstance(bin_size, bool) or not isinstance(bin_size, (int, np.integer)) or bin_size < 1 or M % bin_size:
        raise ValueError(f"jackknife_bins: bin_size must be an int dividing the {M} measurements, got {bin_size!r}")
    J = M // bin_size
    if J < 2:
        raise ValueError(f"jackknife_bins: need >= 2 bins, got {J} ({M} measurements, bin_size {bin_size})")
    bins = a.reshape((J, bin_size) + a.shape[1:]).mean(axis=1)
    return (bins.sum(axis=0) - bins) / (J - 1)


def r_correlator(psi: ArrayLike, corr: ArrayLike, times: Sequence[int], bin_size: int = 1) -> np.ndarray:
    r"""Jackknife samples of $R(\mathbf r, t) = \mathrm{Re}\,\psi(\mathbf r, t)/C(t)^2$ (module docstring):
    $\psi$ and $C$ are averaged over the measurements outside each bin, then divided.

    **Arguments:** `psi` (M, T', ...) complex or real, the wave function of M measurements on the
    time slices `times`; `corr` (M, T) the combined baryon correlator (`baryon_correlator`);
    `times` the T' time slices (lattice units, indices into the correlator); `bin_size`.

    **Returns:** (J, T', ...) float64, J = M / bin_size.
    """
    p, c = np.asarray(psi), np.asarray(corr, dtype=np.float64)
    t = np.asarray(times, dtype=np.int64)
    if p.ndim < 2 or c.ndim != 2 or p.shape[0] != c.shape[0] or p.shape[1] != t.size:
        raise ValueError(f"r_correlator: psi (M, T', ...) and corr (M, T) must share M, and psi's second axis the "
                         f"{t.size} times; got shapes {p.shape}, {c.shape}")
    if np.any(t < 0) or np.any(t >= c.shape[1]):
        raise ValueError(f"r_correlator: times {t.tolist()} must index the correlator's {c.shape[1]} slices")
    pj = jackknife_bins(np.real(p), bin_size)
    cj = jackknife_bins(c[:, t], bin_size)
    return pj / (cj**2).reshape(cj.shape + (1,) * (p.ndim - 2))


class LOTerms(NamedTuple):
    """The leading-order potential term by term (`lo_terms`), each of shape (..., T - 2, L, L, L):
    `laplacian` $\\nabla^2R/(2\\mu R)$, `first` $-\\partial_t R/R$, `second` $\\partial_t^2 R/(8\\mu R)$, `total`."""

    laplacian: Array
    first: Array
    second: Array
    total: Array


def _lap7(R: Array) -> Array:
    lap = -6 * R
    for axis in (-1, -2, -3):
        lap = lap + jnp.roll(R, 1, axis) + jnp.roll(R, -1, axis)
    return lap


@jax.jit
def _lo_terms(R: Array, mass: Array) -> LOTerms:
    prev, mid, nxt = R[..., :-2, :, :, :], R[..., 1:-1, :, :, :], R[..., 2:, :, :, :]
    lap = _lap7(mid) / (2 * mass * mid)
    first = -(nxt - prev) / (2 * mid)
    second = (nxt - 2 * mid + prev) / (8 * mass * mid)
    return LOTerms(lap, first, second, lap + first + second)


def lo_terms(R: Float[ArrayLike, "... T L L L"], mass: float) -> LOTerms:
    r"""The leading-order HAL QCD potential and its three terms in **lattice units** (module
    docstring; equal masses, relativistic $\partial_t^2/(8\mu)$ term) on the interior time slices,
    with the 7-point periodic Laplacian and symmetric time differences, unit time step.
    Multiply by $a^{-1}$ [MeV] for MeV. Jitted; vmaps over leading axes.

    **Arguments:** `R` (..., T >= 3, L, L, L) on consecutive time slices; `mass` the reduced mass
    $\mu$ [$a^{-1}$] (> 0).

    **Returns:** `LOTerms` [$a^{-1}$], each (..., T - 2, L, L, L) (slice $i$ is time $t_{i+1}$).
    """
    if not (np.isfinite(mass) and mass > 0):
        raise ValueError(f"lo_terms: mass (the reduced mass, lattice units) must be > 0, got {mass}")
    shape = np.shape(R)
    if len(shape) < 4 or shape[-4] < 3 or not shape[-1] == shape[-2] == shape[-3]:
        raise ValueError(f"lo_terms: R must have shape (..., T >= 3, L, L, L), got {shape}")
    return _lo_terms(jnp.asarray(R), jnp.asarray(mass, dtype=jnp.result_type(float)))


def bin_in_r(r: ArrayLike, values: ArrayLike, edges: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin a scatter of values over r: the mean of the values of the points in each bin.

    **Arguments:** `r` (n,) [any length unit]; `values` (..., n) (e.g. jackknife samples first);
    `edges` (B + 1,) ascending bin edges (same unit as `r`).

    **Returns:** `(centres, means, counts)`: the mean r of each bin (B,), the means (..., B) and the
    number of points per bin (B,); NaN in empty bins.
    """
    r, v, e = np.asarray(r, dtype=np.float64), np.asarray(values, dtype=np.float64), np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
        raise ValueError(f"bin_in_r: edges must be ascending with >= 2 entries, got {e}")
    if v.shape[-1] != r.size:
        raise ValueError(f"bin_in_r: values must end in the {r.size} points of r, got shape {v.shape}")
    which = np.digitize(r, e) - 1
    B = e.size - 1
    ok = (which >= 0) & (which < B)
    counts = np.bincount(which[ok], minlength=B)
    flat = v.reshape(-1, r.size)[:, ok]
    sums = np.stack([np.bincount(which[ok], weights=row, minlength=B) for row in flat])
    rs = np.bincount(which[ok], weights=r[ok], minlength=B)
    with np.errstate(invalid="ignore", divide="ignore"):
        return rs / counts, (sums / counts).reshape(v.shape[:-1] + (B,)), counts


def data_root(path: str | os.PathLike | None = None) -> Path:
    """The shared data folder: `path` if given, else `../shared/data` relative to the repository
    root holding this package. Raises ValueError (naming the path) if it does not exist."""
    root = Path(path) if path is not None else Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    if not root.is_dir():
        raise ValueError(f"the HAL QCD data folder {os.fspath(root)!r} does not exist: pass the folder holding "
                         f"halqcd_xixi_L48_sample/ and halqcd_xixi_L40_PRD99/ (the shared ../shared/data)")
    return root.resolve()


class LatticeSample(NamedTuple):
    """The Xi-Xi sample of `load_xixi_sample`.

    **Fields:** `rotations` the M measurement labels (sorted); `times` the NBS sink times (lattice
    units); `psi` complex (M, T', n) the singlet wave function on the representative sites;
    `corr` (M, T) the combined Xi correlator; `L`; `boundary`; `files` the NBS files read.
    """

    rotations: tuple[str, ...]
    times: tuple[int, ...]
    psi: np.ndarray
    corr: np.ndarray
    L: int
    boundary: tuple[int, int, int]
    files: tuple[str, ...]


_NBS_NAME = re.compile(r"^NBSwave\.\+(\d{3})\+")


def load_xixi_sample(folder: str | os.PathLike, times: Sequence[int] | None = None,
                     channel: str = "BBwave.dir.S4.00", baryon: str = "Xi_CG05_CG05") -> LatticeSample:
    """Read the HAL QCD Xi-Xi sample (`halqcd_xixi_L48_sample/`): every measurement (one directory
    per orientation `...rot_<r>`, sorted by name) of the compressed NBS wave functions at the sink
    times `times` (default all found), projected on the spin singlet, and the combined
    Xi correlators (`baryon_correlator` of `<baryon>` and `anti<baryon>`, column 1).

    **Arguments:** `folder` holding `sample_data/`; `times` (lattice units); `channel` the NBS
    directory; `baryon` the correlator file stem.

    **Returns:** a `LatticeSample`. Raises ValueError naming the missing folder or file.
    """
    root = Path(folder) / "sample_data"
    nbs_dir = root / channel
    if not nbs_dir.is_dir():
        raise ValueError(f"load_xixi_sample: no NBS directory {os.fspath(nbs_dir)!r}")
    confs = sorted(p for p in nbs_dir.iterdir() if p.is_dir())
    if not confs:
        raise ValueError(f"load_xixi_sample: no measurement directories in {os.fspath(nbs_dir)!r}")
    psi, corrs, rots, files, found_times, L, bc = [], [], [], [], None, None, None
    for conf in confs:
        rot = conf.name.rsplit(".", 1)[-1]
        by_t = {}
        for f in conf.iterdir():
            m = _NBS_NAME.match(f.name)
            if m:
                by_t[int(m.group(1))] = f
        ts = sorted(by_t) if times is None else [int(t) for t in times]
        missing = [t for t in ts if t not in by_t]
        if missing or not ts:
            raise ValueError(f"load_xixi_sample: {os.fspath(conf)!r} has no NBS file for t = {missing or ts} "
                             f"(found {sorted(by_t)})")
        if found_times is None:
            found_times = ts
        elif ts != found_times:
            raise ValueError(f"load_xixi_sample: {os.fspath(conf)!r} has times {ts}, others {found_times}")
        row = []
        for t in ts:
            nbs = read_compressed_nbs(by_t[t])
            if L is None:
                L, bc = nbs.sites[0], nbs.boundary
            elif nbs.sites[0] != L:
                raise ValueError(f"{nbs.path}: box {nbs.sites}, the other files have L = {L}")
            row.append(spin_singlet(nbs.data))
            files.append(nbs.path)
        psi.append(np.stack(row))
        cdir = root / "correlator.PS.dir" / conf.name
        fw = read_correlator_file(cdir / f"{baryon}_correlator.ama.{rot}")
        bw = read_correlator_file(cdir / f"anti{baryon}_correlator.ama.{rot}")
        corrs.append(baryon_correlator(fw[:, 1], bw[:, 1]))
        rots.append(rot)
    return LatticeSample(tuple(rots), tuple(found_times), np.stack(psi), np.stack(corrs), int(L), tuple(bc),
                         tuple(files))


def lattice_spacing(ainv: float = XIXI_AINV) -> float:
    """$a = \\hbar c / a^{-1}$ [fm] for the cutoff `ainv` [MeV]."""
    return HBARC / ainv
