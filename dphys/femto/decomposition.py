r"""The correlation decomposition of a measured p-p correlation function (as in CATS/DLM's
`DLM_CkDecomposition`), every piece a pure differentiable JAX function:

$$ C_\text{model}(k) = N(k)\, \sum_{k'} R(k, k')\,\Big[\lambda_\text{gen}\, C_{pp}(k')
   + \lambda_{p\Lambda}\, T_{p\Lambda\to pp}[C_{p\Lambda}](k') + \lambda_\text{flat}\Big], $$

with $k$ the reconstructed and $k'$ the true $k^*$ (4 MeV/c bins), and

- $C_{pp}$ the Koonin-Pratt correlation of the fitted source (`dphys.femto.correlation.fold` with a
  fixed kernel, e.g. `pp_kernel_waves` with Argonne v18 in $^1S_0$, $^3P_{0,1,2}$, $^1D_2$ plus
  Coulomb), optionally averaged over each true bin with the phase-space weight $k'^2$
  (`bin_points`, `bin_average`) instead of taken at the bin centre;
- $C_{p\Lambda}$ the Lednicky-Lyuboshitz correlation (`pl_correlation`) with the chiral EFT NLO
  scattering parameters of Haidenbauer et al., Nucl. Phys. A 915 (2013) 24 (cutoff 600 MeV):
  $a(^1S_0) = -2.91$ fm, $r = 2.78$ fm; $a(^3S_1) = -1.54$ fm, $r = 2.72$ fm; here in the
  femtoscopy convention $f_0 = -a$: $f_0 = 2.91, 1.54$ fm (positive: attractive), $d_0 = 2.78,
  2.72$ fm, spin weights 1/4, 3/4 (`CHIRAL_NLO_PL`). As in the CATS tutorial the p-Lambda
  correlation is itself diluted: $C_{p\Lambda}^\text{eff} = \lambda^{p\Lambda}_\text{gen}
  C_{p\Lambda} + (1 - \lambda^{p\Lambda}_\text{gen})$ with $\lambda^{p\Lambda}_\text{gen} = 1 - 0.083
  - 0.372 - 0.042 = 0.503$ (its $p\Xi^-$ feed-down taken flat here);
- $T$ the feed-down transform from the decay matrix `hRes_pp_pL` (`conditional_matrix`):
  the correlation of the daughter pairs at $k$ is the pair-weighted mean of the parents'
  correlation, $T[C](k) = \sum_{q} M(q, k)\, C(q) / \sum_q M(q, k)$ with $M(q, k)$ the number of
  (mixed-event-like) pairs with parent momentum $q$ and daughter momentum $k$ (so $T[1] = 1$, and
  the pair numbers themselves are conserved by $P(k|q) = M(q,k)/\sum_k M(q,k)$);
- $R$ the momentum-resolution matrix `hSigmaMeV_Proton_Proton` made the same way from the pair
  counts $M(k', k)$ (x true, y reconstructed, `dphys.femto.alice`): $R(k, k') = M(k', k) /
  \sum_{k''} M(k'', k)$, so $R\,1 = 1$ and the identity matrix leaves $C$ unchanged;
- $\lambda$ from the CATS tutorial (ALICE, PLB 797 (2019) 134822): $\lambda_{p\Lambda} = 0.151$,
  flat feed-down 0.081 and misidentified pairs 0.02 (both taken flat), $\lambda_\text{gen} = 1 -
  0.151 - 0.081 - 0.02 = 0.748$ (`LAMBDA_PP13`);
- $N(k) = N(1 + a k)$ the baseline, constant ($a = 0$) or linear ($k$ in MeV/c).

`Decomposition` holds the fixed inputs (kernel, matrices, lambdas) as arrays; `predict` evaluates
the model for a source and baseline, differentiable in all of them (and in the kernel, so in a
potential when the kernel is computed inside the differentiated function); `build_pp13` makes it
for the ALICE data set (`dphys.femto.alice.load_pp13`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from dphys.constants import HBARC, M_PROTON
from dphys.femto.correlation import Kernel, SpinChannel, fold, pair_kernel, pp_kernel_waves
from dphys.femto.lednicky import lednicky_lyuboshitz

__all__ = [
    "CHIRAL_NLO_PL",
    "Decomposition",
    "LAMBDA_PP13",
    "M_LAMBDA",
    "baseline",
    "bin_average",
    "bin_points",
    "build_pp13",
    "conditional_matrix",
    "feed_down",
    "pl_correlation",
    "predict",
    "s_wave_kernel_change",
    "smear",
    "with_kernel",
]

M_LAMBDA = 1115.683  # MeV (PDG)
#: chiral EFT NLO (600 MeV) p-Lambda scattering parameters, femtoscopy sign convention f0 = -a [fm]
CHIRAL_NLO_PL = {"f0": (2.91, 1.54), "d0": (2.78, 2.72), "weight": (0.25, 0.75)}
#: lambda parameters of the CATS tutorial for pp 13 TeV MB (PLB 797 (2019) 134822)
LAMBDA_PP13 = {"pL": 0.151, "flat": 0.081, "misid": 0.02, "pL_genuine": 1 - 0.083 - 0.372 - 0.042}


def conditional_matrix(counts: Float[ArrayLike, "nx ny"], given: str) -> Float[np.ndarray, "ny nx"]:
    r"""A transfer matrix from a 2D histogram of pair counts `counts[i, j]` (x bin i, y bin j):
    with `given='y'`, $A[j, i] = M_{ij} / \sum_i M_{ij}$ (each row the distribution of x for the
    pairs in y bin j: the pair-weighted mean over x of a function of x, e.g. $C$ at the true momentum
    averaged for a reconstructed momentum y, or a parent's $C$ for a daughter's momentum y); with
    `given='x'`, $A[j, i] = M_{ij} / \sum_j M_{ij}$ (column i the distribution of y for pairs in x
    bin i: moves pair *numbers* from x to y, conserving them). Rows (`given='y'`) or columns
    (`given='x'`) that hold no pairs are zero.

    **Arguments:** `counts` (nx, ny) >= 0; `given` 'y' or 'x'.

    **Returns:** the (ny, nx) matrix, NumPy float64.
    """
    m = np.asarray(counts, dtype=np.float64)
    if m.ndim != 2 or np.any(m < 0) or not np.all(np.isfinite(m)):
        raise ValueError(f"conditional_matrix: counts must be a finite 2D array >= 0, got shape {m.shape}")
    if given == "y":
        norm = m.sum(axis=0)
        return np.divide(m.T, norm[:, None], out=np.zeros_like(m.T), where=norm[:, None] > 0)
    if given == "x":
        norm = m.sum(axis=1)
        return np.divide(m.T, norm[None, :], out=np.zeros_like(m.T), where=norm[None, :] > 0)
    raise ValueError(f"conditional_matrix: given must be 'x' or 'y', got {given!r}")


def smear(C_true: Float[ArrayLike, " nt"], resolution: Float[ArrayLike, "nr nt"]) -> Float[Array, " nr"]:
    r"""$C_\text{reco}(k) = \sum_{k'} R(k, k')\,C(k')$: the momentum-resolution folding (rows of $R$
    sum to 1, `conditional_matrix(counts, 'y')` of the true x reco pair counts).

    **Arguments:** `C_true` at the true bins; `resolution` $R$ (n_reco, n_true).

    **Returns:** $C$ at the reconstructed bins."""
    return jnp.asarray(resolution) @ jnp.asarray(C_true)


def feed_down(C_parent: Float[ArrayLike, " nq"], matrix: Float[ArrayLike, "nk nq"]) -> Float[Array, " nk"]:
    r"""$T[C](k) = \sum_q T(k, q)\,C(q)$: a parent pair's correlation seen at the daughter pair's
    momentum $k$ (rows of $T$ sum to 1, `conditional_matrix(decay_counts, 'y')`).

    **Arguments:** `C_parent` at the parent momenta; `matrix` $T$ (n_daughter, n_parent).

    **Returns:** the transformed correlation at the daughter momenta."""
    return jnp.asarray(matrix) @ jnp.asarray(C_parent)


def baseline(k_mev: Float[ArrayLike, " n"], norm: Float[ArrayLike, ""], slope: Float[ArrayLike, ""] = 0.0
             ) -> Float[Array, " n"]:
    r"""$N(k) = N\,(1 + a\,k)$, $k$ in MeV/c, `slope` $a$ in (MeV/c)^-1."""
    return norm * (1 + slope * jnp.asarray(k_mev))


def pl_correlation(k: Float[ArrayLike, " n"], radius: Float[ArrayLike, ""],
                   params: Mapping[str, tuple] = CHIRAL_NLO_PL) -> Float[Array, " n"]:
    r"""The p-Lambda correlation of a Gaussian source of width `radius` [fm]: Lednicky-Lyuboshitz
    (`dphys.femto.lednicky.lednicky_lyuboshitz`, no Coulomb) with `params` (`f0`, `d0` [fm] per spin
    channel, femtoscopy convention $f_0 = -a$, and `weight`), by default `CHIRAL_NLO_PL`.

    **Arguments:** `k` [fm^-1]; `radius` [fm]; `params`.

    **Returns:** $C_{p\Lambda}(k)$."""
    return lednicky_lyuboshitz(k, radius, jnp.asarray(params["f0"]), jnp.asarray(params["d0"]),
                               jnp.asarray(params["weight"]))


def bin_points(edges_mev: Float[ArrayLike, " n1"], n_sub: int = 1) -> tuple[np.ndarray, np.ndarray]:
    r"""Momenta at which to evaluate $C$ for bin averages: `n_sub` Gauss-Legendre nodes per bin (1:
    the bin centre), and the averaging matrix $A$ (n_bins, n_bins n_sub) with
    $A_{b,s} \propto w_s k_s^2$ (the pairs' phase space), rows summing to 1.

    **Arguments:** `edges_mev` bin edges [MeV/c]; `n_sub` >= 1.

    **Returns:** `(k [fm^-1], A)` NumPy arrays."""
    e = np.asarray(edges_mev, dtype=np.float64)
    if not (isinstance(n_sub, int) and n_sub >= 1):
        raise ValueError(f"bin_points: n_sub must be an int >= 1, got {n_sub!r}")
    if e.ndim != 1 or e.size < 2 or not np.all(np.diff(e) > 0) or e[0] < 0:
        raise ValueError("bin_points: edges must be ascending and >= 0 [MeV/c]")
    if n_sub == 1:
        return 0.5 * (e[1:] + e[:-1]) / HBARC, np.eye(e.size - 1)
    x, w = np.polynomial.legendre.leggauss(n_sub)
    lo, hi = e[:-1, None], e[1:, None]
    k = lo + (hi - lo) * (x + 1) / 2
    wk = w * k**2
    n = e.size - 1
    A = np.zeros((n, n * n_sub))
    for b in range(n):
        A[b, b * n_sub:(b + 1) * n_sub] = wk[b] / wk[b].sum()
    return k.ravel() / HBARC, A


def bin_average(values: Float[ArrayLike, "... m"], average: Float[ArrayLike, "n m"]) -> Float[Array, "... n"]:
    r"""$\bar C_b = \sum_s A_{b,s} C(k_s)$ with $A$ from `bin_points`."""
    return jnp.asarray(values) @ jnp.asarray(average).T


class Decomposition(eqx.Module):
    r"""The fixed inputs of the p-p model (module docstring).

    **Fields:** `kernel` the pp `Kernel` at the true-bin points; `average` (n_true, n_points) bin
    averaging; `resolution` $R$ (n_data, n_true); `feed` $T$ (n_true, n_parent); `k_parent` [fm^-1];
    `k_data_mev` [MeV/c] the reconstructed bin centres; `lam` = (gen, pL, flat) static; `pl_genuine`
    static; `pl_params` the p-Lambda scattering parameters (static).
    """

    kernel: Kernel
    average: Float[Array, "nt np"]
    resolution: Float[Array, "nd nt"]
    feed: Float[Array, "nt nq"]
    k_parent: Float[Array, " nq"]
    k_data_mev: Float[Array, " nd"]
    lam: tuple = eqx.field(static=True)
    pl_genuine: float = eqx.field(static=True)
    pl_params: tuple = eqx.field(static=True)

    def components(self, source: Callable, pl_radius: Float[ArrayLike, ""]) -> dict[str, Array]:
        """The pieces on the *true* bins (before resolution and baseline): `pp` $C_{pp}$,
        `pL` $T[C^\\text{eff}_{p\\Lambda}]$, and `sum` the lambda-weighted total."""
        c_pp = bin_average(fold(source, self.kernel), self.average)
        f0, d0, w = self.pl_params
        c_pl = lednicky_lyuboshitz(self.k_parent, pl_radius, jnp.asarray(f0), jnp.asarray(d0), jnp.asarray(w))
        c_pl = self.pl_genuine * c_pl + (1 - self.pl_genuine)
        c_fd = feed_down(c_pl, self.feed)
        gen, pl, flat = self.lam
        return {"pp": c_pp, "pL": c_fd, "sum": gen * c_pp + pl * c_fd + flat}


def predict(decomp: Decomposition, source: Callable, norm: Float[ArrayLike, ""] = 1.0,
            slope: Float[ArrayLike, ""] = 0.0, pl_radius: Float[ArrayLike, ""] | None = None) -> Float[Array, " nd"]:
    r"""$C_\text{model}$ at the data's reconstructed momenta (module docstring): resolution-smeared
    lambda-weighted sum times the baseline $N(1 + a k)$.

    **Arguments:** `decomp` a `Decomposition`; `source` S(r) [fm^-3]; `norm` $N$; `slope` $a$
    [(MeV/c)^-1]; `pl_radius` [fm] the Gaussian width of the p-Lambda source (default: the
    source's `radius` if it has one, else 1.2 fm).

    **Returns:** $C_\text{model}$, one value per data bin."""
    if pl_radius is None:
        pl_radius = getattr(source, "radius", 1.2)
    total = decomp.components(source, pl_radius)["sum"]
    return baseline(decomp.k_data_mev, norm, slope) * smear(total, decomp.resolution)


def build_pp13(pp13, potentials: Mapping[str, Callable], *, kmax: float = 350.0, true_max: float = 400.0,
               n_sub: int = 1, lambdas: Mapping[str, float] = LAMBDA_PP13,
               pl_params: Mapping[str, tuple] = CHIRAL_NLO_PL, resolution_true_axis: str = "x",
               identity_resolution: bool = False, **kernel_kwargs) -> Decomposition:
    r"""The `Decomposition` for the ALICE pp 13 TeV data (`dphys.femto.alice.PP13`): true bins of
    the data's width (4 MeV/c) up to `true_max`, the resolution matrix rebinned to them (x true, y
    reconstructed unless `resolution_true_axis='y'`, for the comparison), the decay matrix's daughter
    axis rebinned to them and its parent axis (1 MeV/c bins to 1 GeV/c) kept, and the pp kernel
    (`pp_kernel_waves` with `potentials`) at `n_sub` points per true bin.

    **Arguments:** `pp13` a `PP13`; `potentials` wave name -> V(r) [MeV] (no point Coulomb);
    `kmax` [MeV/c] the last data bin centre used; `true_max` [MeV/c]; `n_sub` points per bin;
    `lambdas` with keys pL, flat, misid, pL_genuine; `pl_params`; `resolution_true_axis`;
    `identity_resolution` (no smearing); `kernel_kwargs` passed to `pp_kernel_waves`.

    **Returns:** a `Decomposition` (its data points: `pp13.data(kmax)`).
    """
    edges = pp13.ck.edges
    width = float(edges[1] - edges[0])
    if not np.allclose(np.diff(edges), width):
        raise ValueError("build_pp13: the data bins must be uniform")
    n_true = int(round(true_max / width))
    true_edges = edges[0] + width * np.arange(n_true + 1)
    res = pp13.resolution
    f = int(round(width / (res.xedges[1] - res.xedges[0])))
    res = res.rebin(f)
    if not np.allclose(res.xedges[: n_true + 1], true_edges):
        raise ValueError(f"build_pp13: the resolution matrix's bins ({res.xedges[:3]}...) do not align with the "
                         f"data's ({true_edges[:3]}...)")
    centres = pp13.ck.centres
    keep = np.flatnonzero((centres <= kmax) & (pp13.ck.errors > 0))
    if keep.max() >= n_true:
        raise ValueError(f"build_pp13: true_max = {true_max} must exceed kmax = {kmax} [MeV/c]")
    counts = res.counts[:n_true, :n_true]
    if resolution_true_axis == "y":
        counts = counts.T
    elif resolution_true_axis != "x":
        raise ValueError(f"build_pp13: resolution_true_axis must be 'x' or 'y', got {resolution_true_axis!r}")
    R = conditional_matrix(counts, "y")[keep]
    if identity_resolution:
        R = np.eye(n_true)[keep]
    dec = pp13.decay_pL
    fd = int(round(width / (dec.yedges[1] - dec.yedges[0])))
    dec = dec.rebin(1, fd)
    if not np.allclose(dec.yedges[: n_true + 1], true_edges):
        raise ValueError("build_pp13: the decay matrix's daughter bins do not align with the data's")
    T = conditional_matrix(dec.counts[:, :n_true], "y")
    k_parent = 0.5 * (dec.xedges[1:] + dec.xedges[:-1]) / HBARC
    k_pts, A = bin_points(true_edges, n_sub)
    kernel = pp_kernel_waves(k_pts, dict(potentials), **kernel_kwargs)
    lam_pl, lam_flat = float(lambdas["pL"]), float(lambdas["flat"]) + float(lambdas["misid"])
    lam = (1 - lam_pl - lam_flat, lam_pl, lam_flat)
    pl = tuple(tuple(float(x) for x in pl_params[key]) for key in ("f0", "d0", "weight"))
    return Decomposition(kernel, jnp.asarray(A), jnp.asarray(R), jnp.asarray(T), jnp.asarray(k_parent),
                         jnp.asarray(centres[keep]), lam, float(lambdas["pL_genuine"]), pl)


def with_kernel(decomp: Decomposition, values: Float[ArrayLike, "np nr"]) -> Decomposition:
    r"""The decomposition with the pp kernel's values replaced (same momenta and radial grid), e.g. to
    evaluate a batch of potentials under `jax.vmap` (`s_wave_kernel_change`).

    **Arguments:** `decomp`; `values` (n_points, n_r) dimensionless.

    **Returns:** a `Decomposition`."""
    return eqx.tree_at(lambda d: d.kernel.values, decomp, jnp.asarray(values))


def s_wave_kernel_change(k: Float[ArrayLike, " nk"], potential: Callable, *, grid: tuple, n_l: int,
                         mass: float = M_PROTON / 2, coulomb: float = 1.0) -> Float[Array, "nk nr"]:
    r"""The change of the pp kernel by a $^1S_0$ potential, $\Delta K = \tfrac14 \cdot 2\,(u_0^2 - F_0^2)/\rho^2$
    (singlet weight 1/4, symmetrisation factor 2): $K$ with `potential` in $^1S_0$ minus $K$ with
    Coulomb only. Adding it to a kernel without a $^1S_0$ potential (e.g. `pp_kernel_waves` with
    the p and d waves only) gives the full kernel (the partial waves add). Jits and vmaps over the
    potential's parameters (`k` concrete, `n_l` given).

    **Arguments:** `k` [fm^-1]; `potential` V(r) [MeV]; `grid` `(r, w)`; `n_l`; `mass` [MeV];
    `coulomb` $Z_1Z_2$.

    **Returns:** $\Delta K$ (n_k, n_r)."""
    full = pp_kernel_waves(k, {"1S0": potential}, mass=mass, coulomb=coulomb, grid=grid, n_l=n_l)
    free = pair_kernel(k, mass=mass, channels=(SpinChannel(0.25, parity=1), SpinChannel(0.75, parity=-1)),
                       coulomb=coulomb, identical=True, grid=grid, n_l=n_l)
    return full.values - free.values
