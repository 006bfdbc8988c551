r"""The Koonin-Pratt correlation function of a pair with a short-range potential and Coulomb,

$$ C(k) = \int d^3r\, S(r)\, \overline{|\psi_k(\mathbf r)|^2}
        = \int_0^\infty 4\pi r^2 S(r)\, K(k, r)\, dr, $$

with $k$ [fm^-1] half the momentum difference in the pair rest frame, $S$ a normalised radial source
(`dphys.femto.sources`) and $K(k, r)$ the *kernel*: the angle-averaged, spin-weighted and, for
identical particles, (anti)symmetrised $|\psi_k|^2$. In partial waves, with $\rho = kr$,

$$ K(k, r) = \sum_c w_c\, N_c \sum_{l \in \Lambda_c} (2l+1)\, \frac{u_{l,c}(r)^2}{\rho^2}, $$

summed over spin channels $c$ with weights $w_c$ ($\sum_c w_c = 1$). Distinguishable pairs: all $l$,
$N_c = 1$. Identical pairs: $|\psi(\mathbf r) \pm \psi(-\mathbf r)|^2/2$ keeps only even $l$
(spatially symmetric channels, `parity=+1`) or only odd $l$ (`parity=-1`) with $N_c = 2$; for
spin-1/2 fermions (pp) the singlet is symmetric (weight 1/4) and the triplet antisymmetric (3/4).
$u_{l,c}$ is normalised as $F_l(\eta,\rho)\cos\delta_l + G_l(\eta,\rho)\sin\delta_l$ beyond the
potential (`dphys.scattering.wavefunction`); in the waves without a potential it is the regular
Coulomb function $F_l(\eta, \rho)$ (Riccati-Bessel $\rho j_l(\rho)$ without Coulomb, for which
$\sum_l (2l+1) F_l^2 = \rho^2$, so $K = 1$ for free distinguishable pairs and
$K = 1 \pm \sin(2\rho)/2\rho$ for free identical ones). So

$$ K = \sum_c w_c N_c \Big[ \Sigma_{\Lambda_c}(\eta, \rho)
      + (2l_c+1)\,\big(u_{l_c,c}^2 - F_{l_c}^2\big) \Big] / \rho^2,
   \qquad \Sigma_\Lambda = \sum_{l \in \Lambda} (2l+1) F_l^2, $$

with the strong interaction in one partial wave $l_c$ per channel (the s wave by default, the p wave
for antisymmetric channels), or in several (`PartialWave`s: $(2l+1)(u_l^2 - F_l^2)$ becomes
$\sum_J f_J (2l+1)(u_{lJ}^2 - F_l^2)$ with the fractions $f_J = (2J+1)/(3(2l+1))$ of the triplet's
$^3l_J$ waves, e.g. `pp_kernel_waves` with $^1S_0$, $^3P_{0,1,2}$, $^1D_2$ as in CATS).

**Coulomb partial-wave sums.** $\Sigma_\text{even}$ and $\Sigma_\text{odd}$ come from Miller's
algorithm: the Coulomb recurrence (Abramowitz-Stegun 14.2.3)

$$ l\sqrt{(l+1)^2+\eta^2}\, u_{l+1} - (2l+1)\Big[\eta + \frac{l(l+1)}{\rho}\Big] u_l
   + (l+1)\sqrt{l^2+\eta^2}\, u_{l-1} = 0 $$

run *downwards* (stable: $F_l$ is its minimal solution) from $u_{L+1} = 0$, $u_L = 1$ at
$L = \lceil \rho_e + 8\rho_e^{1/3} + 16 \rceil$, $\rho_e = \max_{k,r}\sqrt{\rho^2 + 2\max(-\eta,0)\rho}$
(beyond the turning point of every grid point by $8\rho^{1/3}$: there $F_L/G_L < 10^{-16}$, so the
start error and the truncated terms, which fall faster still, are below double precision),
accumulating $\sum (2l+1) u_l^2$ over even and odd $l$ and rescaling against overflow. The common
scale $c$ ($F_l = c\,u_l$) follows from $u_0$ and $u_0' = (1/\rho + \eta)u_0 - \sqrt{1+\eta^2}\,u_1$
(A-S 14.2.1): beyond $\rho_c = \max(2\eta, 6)$ from Steed's CF2, $p + iq = (G' + iF')/(G + iF)$,
and the Wronskian, $c^2[(u_0' - p u_0)^2/q + q u_0^2] = 1$ (CF1 is not needed: the recurrence
gives $F_0'/F_0$); below, from the power series of $F_0$, $F_0'$ by least squares (accurate near a
zero of either); for $\eta = 0$, $c^2 (u_0^2 + u_0'^2) = 1$. Accuracy against mpmath: relative
1e-12 or better (tests/femto). The criterion is tested: raising $L$ changes the sums only by
rounding, halving it changes them visibly. Cost: about 0.1 s for 100 momenta x 312 nodes (L = 242)
on one CPU core.

**Quadrature.** $C(k) = 1 + \sum_j W_j S(r_j) [K(k, r_j) - 1]$ with $W_j = 4\pi r_j^2 w_j$ on a
composite Gauss-Legendre grid (`radial_quadrature`, default to 120 fm). Writing the integral as
$1 + \int 4\pi r^2 S (K - 1)$ uses the source's analytic normalisation: the part of a long tail
beyond the grid counts with $K = 1$, its limit as $r \to \infty$ (to $O(1/kr)$).

The kernel for a fixed potential is a `Kernel` (momenta, nodes, weights, values): folding a source
is then a matrix-vector product (`fold`), cheap enough for fits and vmaps over sources; computing
the kernel inside a jitted function keeps the gradient with respect to the potential (reverse mode
through diffrax). Float64 throughout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jaxtyping import Array, ArrayLike, Float

from dphys.constants import ALPHA, HBARC, M_PROTON
from dphys.scattering.coulomb import coulomb_cf2, coulomb_series_f, require_x64
from dphys.scattering.potentials import ReidSoftCore1S0
from dphys.scattering.radial import coulomb_momentum, wavefunction

__all__ = [
    "Kernel",
    "PP_WAVES",
    "PartialWave",
    "SpinChannel",
    "correlation_function",
    "coulomb_partial_wave_sums",
    "fold",
    "n_partial_waves",
    "pair_kernel",
    "pp_correlation",
    "pp_kernel",
    "pp_kernel_waves",
    "radial_quadrature",
]

_RESCALE = 1e100
_RHO_SERIES = 6.0  # the power series of F_0 below max(2 eta, 6), Steed's CF2 (fast there) beyond
_ETA_MAX = 10.0  # the power series of F_0 below the turning point is accurate up to |eta| ~ 10
_L_INTERACTING_MAX = 4  # interacting waves: F_l from the upward recurrence (accurate for these few l)


# --- quadrature --------------------------------------------------------------------------------------


def radial_quadrature(r_max: float = 120.0, *, nodes: int = 12, width0: float = 0.75, growth: float = 0.25,
                      max_width: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    r"""A composite Gauss-Legendre rule on $[0, r_\text{max}]$: panels of width
    $\min(w_0 + g\,r, w_\text{max})$ starting at radius $r$ (fine where sources and potentials
    live, at most `max_width` where the kernel oscillates with period $\pi/k$), `nodes` points each.
    The default (120 fm, 12 nodes, widths 0.75 ... 6 fm) has about 300 nodes and integrates the
    kernel's oscillations to about 1e-8 up to $k \approx 1.5$ fm^-1.

    **Arguments:** `r_max` [fm]; `nodes` per panel; `width0` [fm], `growth`, `max_width` [fm] of
    the panels.

    **Returns:** `(r, w)`: nodes [fm] and weights [fm] (for $\int dr$), float64 NumPy arrays.
    """
    if not (np.isfinite(r_max) and r_max > 0):
        raise ValueError(f"radial_quadrature: r_max must be a finite length > 0 [fm], got {r_max}")
    if not (nodes >= 2 and width0 > 0 and growth >= 0 and max_width >= width0):
        raise ValueError(f"radial_quadrature: need nodes >= 2, width0 > 0, growth >= 0, max_width >= width0, "
                         f"got nodes={nodes}, width0={width0}, growth={growth}, max_width={max_width}")
    edges = [0.0]
    while edges[-1] < r_max:
        edges.append(edges[-1] + min(width0 + growth * edges[-1], max_width))
    edges = np.asarray(edges) * (r_max / edges[-1])  # stretch the last panel's end onto r_max
    x, w = np.polynomial.legendre.leggauss(nodes)
    a, b = edges[:-1, None], edges[1:, None]
    r = (a + (b - a) * (x + 1) / 2).ravel()
    weights = ((b - a) / 2 * w).ravel()
    return r, weights


# --- Coulomb partial-wave sums ---------------------------------------------------------------------


def _miller(eta: Array, rho: Array, n_l: int) -> tuple[Array, Array, Array, Array]:
    """Downward Coulomb recurrence from u_{L+1} = 0, u_L = 1 (L = n_l) to l = 0, elementwise over
    the broadcast of eta and rho (eta may have fewer elements, e.g. one per momentum: its
    coefficients are computed once per l). Returns (u_0, u_1, sum_even (2l+1) u_l^2,
    sum_odd (2l+1) u_l^2), all in one common (arbitrary) scale."""
    shape = jnp.broadcast_shapes(eta.shape, rho.shape)
    inv_rho = jnp.broadcast_to(1 / rho, shape)

    def step(carry, l):  # from (u_{l+1}, u_l) to (u_l, u_{l-1})
        up, u, even, odd = carry
        norm = 1 / ((l + 1) * jnp.sqrt(l**2 + eta**2))
        a = (2 * l + 1) * norm * (eta + l * (l + 1) * inv_rho)
        b = l * jnp.sqrt((l + 1) ** 2 + eta**2) * norm
        down = a * u - b * up
        term = (2 * l - 1) * down**2
        is_even = (l.astype(int) - 1) % 2 == 0
        even = even + jnp.where(is_even, term, 0.0)
        odd = odd + jnp.where(is_even, 0.0, term)
        s = jnp.where(jnp.abs(down) > _RESCALE, 1 / _RESCALE, 1.0)
        return (u * s, down * s, even * s**2, odd * s**2), None

    zero, one = jnp.zeros(shape), jnp.ones(shape)
    term_top = (2 * n_l + 1) * one
    even0 = term_top if n_l % 2 == 0 else zero
    odd0 = zero if n_l % 2 == 0 else term_top
    ls = jnp.arange(n_l, 0, -1, dtype=float)
    (u1, u0, even, odd), _ = lax.scan(step, (zero, one, even0, odd0), ls)
    return u0, u1, even, odd


def _kc(mass: float, coulomb: float) -> float:
    """k_C = alpha Z1 Z2 mu / hbar c [fm^-1] as a Python float (usable at trace time)."""
    return ALPHA * float(coulomb) * float(mass) / HBARC


def n_partial_waves(k: Float[ArrayLike, " nk"], r_max: float, *, mass: float = 0.0, coulomb: float = 0.0) -> int:
    r"""The starting index $L$ of the downward recurrence (the number of partial waves summed):
    $L = \lceil \rho_e + 8\rho_e^{1/3} + 16 \rceil$ with $\rho_e = \sqrt{\rho^2 + 2\max(-\eta, 0)\rho}$
    at $\rho = k_\text{max} r_\text{max}$ (module docstring).

    **Arguments:** `k` momenta [fm^-1] (concrete); `r_max` [fm]; `mass` reduced mass [MeV];
    `coulomb` $Z_1 Z_2$.

    **Returns:** $L$, a Python int.
    """
    k_max = float(np.max(np.asarray(k)))
    rho = k_max * float(r_max)
    kc = _kc(mass, coulomb)
    rho_e = np.sqrt(rho**2 + 2 * max(-kc, 0.0) * float(r_max))
    return int(np.ceil(rho_e + 8 * rho_e ** (1 / 3) + 16))


def coulomb_partial_wave_sums(eta: Float[ArrayLike, "..."], rho: Float[ArrayLike, "..."], n_l: int, *,
                              charged: bool = True) -> tuple[Float[Array, "..."], ...]:
    r"""$F_0(\eta, \rho)$, $F_1(\eta, \rho)$ and the partial-wave sums
    $\Sigma_\text{even} = \sum_{l\,\text{even}} (2l+1) F_l^2$,
    $\Sigma_\text{odd} = \sum_{l\,\text{odd}} (2l+1) F_l^2$ over $l \le$ `n_l`, elementwise
    (Miller's downward recurrence, normalised through the Wronskian with Steed's CF2 or by the
    power series of $F_0$; module docstring). For $\eta = 0$,
    $\Sigma_\text{even} + \Sigma_\text{odd} = \rho^2$ and
    $\Sigma_\text{even} - \Sigma_\text{odd} = \rho \sin 2\rho / 2$.

    **Arguments:** `eta` Sommerfeld parameter ($|\eta| \le 10$); `rho` $= kr > 0$; `n_l` the
    starting index $L$ (`n_partial_waves`); `charged` False when $\eta = 0$ everywhere (skips CF2).

    **Returns:** `(F0, F1, sigma_even, sigma_odd)`, shaped like the broadcast of `eta` and `rho`.
    """
    eta, rho = jnp.asarray(eta, dtype=float), jnp.asarray(rho, dtype=float)
    u0, u1, even, odd = _miller(eta, rho, int(n_l))
    du0 = (1 / rho + eta) * u0 - jnp.sqrt(1 + eta**2) * u1  # A-S 14.2.1 at l = 0
    if charged:
        shape = u0.shape
        args = (jnp.broadcast_to(x, shape).ravel() for x in (eta, rho, u0, du0))
        c2 = jax.vmap(_normalisation)(*args).reshape(shape)
    else:  # F_0 = sin, F_0' = cos: the Wronskian gives c^2 (u0^2 + u0'^2) = 1
        c2 = 1 / (u0**2 + du0**2)
    c = jnp.sqrt(c2)
    return c * u0, c * u1, c2 * even, c2 * odd


def _normalisation(eta: Array, rho: Array, u0: Array, du0: Array) -> Array:
    """c^2 with F_0 = c u_0, F_0' = c u_0' at one point. Beyond rho_c = max(2 eta, 6): Steed's CF2,
    (G' + iF')/(G + iF) = p + iq, and the Wronskian F'G - FG' = 1 give
    c^2 [(u_0' - p u_0)^2/q + q u_0^2] = 1 (CF1 is not needed: u_0'/u_0 comes from the recurrence).
    Below: F_0, F_0' from the power series and c by least squares."""
    rho_c = jnp.maximum(2 * eta, _RHO_SERIES)
    p, q, ok = coulomb_cf2(jnp.asarray(0.0), eta, jnp.maximum(rho, rho_c))
    q = eqx.error_if(q, ~ok, "coulomb_partial_wave_sums: Steed's CF2 did not converge")
    outer = 1 / ((du0 - p * u0) ** 2 / q + q * u0**2)
    f, df = coulomb_series_f(jnp.asarray(0.0), eta, jnp.minimum(rho, rho_c))
    inner = ((f * u0 + df * du0) / (u0**2 + du0**2)) ** 2
    return jnp.where(rho < rho_c, inner, outer)


# --- kernels -------------------------------------------------------------------------------------


class PartialWave(eqx.Module):
    r"""A potential acting in one partial wave $l$ of a spin channel, for a fraction `weight` of
    that wave's $2l+1$ states: for the spin triplet the waves $^3l_J$ of one $l$ have
    $(2J+1)/(3(2l+1))$ of the $3(2l+1)$ states each (e.g. $^3P_{0,1,2}$: 1/9, 3/9, 5/9), so that a
    channel's waves of one $l$ with weights summing to 1 replace its free (Coulomb) wave entirely;
    fractions summing to less leave the rest a Coulomb wave. Couplings between waves (the tensor
    force's $^3P_2$-$^3F_2$) are neglected, as in CATS.

    **Fields:** `l` (static int >= 0), `potential` a callable V(r) [MeV], `weight` (static, in (0, 1]).
    """

    l: int = eqx.field(static=True)
    potential: Callable
    weight: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        if isinstance(self.l, bool) or not isinstance(self.l, (int, np.integer)) or self.l < 0:
            raise ValueError(f"PartialWave: l must be an int >= 0, got {self.l!r}")
        if not callable(self.potential):
            raise ValueError(f"PartialWave: potential must be a callable V(r) -> MeV, got {self.potential!r}")
        if not (np.isfinite(self.weight) and 0 < self.weight <= 1):
            raise ValueError(f"PartialWave: weight (fraction of the 2l+1 states) must be in (0, 1], got {self.weight}")


class SpinChannel(eqx.Module):
    r"""One spin channel of a pair: its weight $w$ (e.g. $(2S+1)/((2s_1+1)(2s_2+1))$), the
    potential acting in it (or None: Coulomb only) and, for identical particles, the spatial
    exchange symmetry `parity` (+1: symmetric, even $l$; -1: antisymmetric, odd $l$; 0:
    distinguishable particles). The potential acts in the partial wave `l` (default: the lowest
    allowed, 0 or 1 for parity -1); all other waves are Coulomb (or free) waves. Several
    interacting waves (e.g. $^3P_0$, $^3P_1$, $^3P_2$ in the pp triplet) are given instead as
    `waves`, a tuple of `PartialWave`s (then `potential` and `l` stay None).

    **Fields:** `weight` (dimensionless), `potential` a callable V(r) [MeV] or None, `parity`
    (static int), `l` (static int or None), `waves` (tuple of `PartialWave`).
    """

    weight: float = eqx.field(static=True)
    potential: Callable | None = None
    parity: int = eqx.field(static=True, default=0)
    l: int | None = eqx.field(static=True, default=None)
    waves: tuple = ()

    def __check_init__(self):
        if not (np.isfinite(self.weight) and 0 <= self.weight <= 1):
            raise ValueError(f"SpinChannel: weight must be in [0, 1], got {self.weight}")
        if self.parity not in (-1, 0, 1):
            raise ValueError(f"SpinChannel: parity must be +1 (even l), -1 (odd l) or 0 (distinguishable), "
                             f"got {self.parity!r}")
        if self.potential is not None and not callable(self.potential):
            raise ValueError(f"SpinChannel: potential must be a callable V(r) -> MeV or None, got {self.potential!r}")
        if self.l is not None:
            if isinstance(self.l, bool) or not isinstance(self.l, (int, np.integer)) or self.l < 0:
                raise ValueError(f"SpinChannel: l must be an int >= 0, got {self.l!r}")
            if self.parity != 0 and self.l % 2 != (0 if self.parity == 1 else 1):
                raise ValueError(f"SpinChannel: l = {self.l} is not allowed with parity {self.parity}")

        if self.waves:
            if self.potential is not None or self.l is not None:
                raise ValueError("SpinChannel: give either potential (and l) or waves, not both")
            if not all(isinstance(w, PartialWave) for w in self.waves):
                raise ValueError(f"SpinChannel: waves must be a tuple of PartialWave, got {self.waves!r}")
            for w in self.waves:
                if self.parity != 0 and w.l % 2 != (0 if self.parity == 1 else 1):
                    raise ValueError(f"SpinChannel: a wave with l = {w.l} is not allowed with parity {self.parity}")
            for l in {w.l for w in self.waves}:
                total = sum(w.weight for w in self.waves if w.l == l)
                if total > 1 + 1e-12:
                    raise ValueError(f"SpinChannel: the weights of the l = {l} waves sum to {total} > 1")

    def partial_waves(self) -> tuple[PartialWave, ...]:
        """The interacting waves of the channel (`waves`, or the one wave of `potential`)."""
        if self.waves:
            return tuple(self.waves)
        if self.potential is None:
            return ()
        return (PartialWave(self.wave, self.potential, 1.0),)

    @property
    def wave(self) -> int:
        """The partial wave the potential acts in."""
        if self.l is not None:
            return int(self.l)
        return 1 if self.parity == -1 else 0


class Kernel(eqx.Module):
    r"""The folding kernel on a radial quadrature: `values[i, j]` $= K(k_i, r_j)$ (dimensionless),
    `weights[j]` $= 4\pi r_j^2 w_j$ [fm^3], so that $C(k_i) = 1 + \sum_j$ `weights[j]`
    $S(r_j)$ (`values[i, j]` $- 1$) (`fold`).

    **Fields:** `k` [fm^-1] (nk), `r` [fm] (nr), `weights` [fm^3] (nr), `values` (nk, nr).
    """

    k: Float[Array, " nk"]
    r: Float[Array, " nr"]
    weights: Float[Array, " nr"]
    values: Float[Array, "nk nr"]


def _check_k(name: str, k) -> np.ndarray | Array:
    if isinstance(k, jax.core.Tracer):
        if k.ndim != 1:
            raise ValueError(f"{name}: k must be a 1D array of momenta [fm^-1], got shape {k.shape}")
        return k
    arr = np.asarray(k, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name}: k must be a non-empty 1D array of finite momenta > 0 [fm^-1], got {k}")
    return arr


def _normalise_identical(name: str, identical) -> bool:
    if identical is None or identical is False:
        return False
    if identical is True or identical in ("fermions", "bosons"):
        return True
    raise ValueError(f"{name}: identical must be None, True/False, 'fermions' or 'bosons', got {identical!r}")


def pair_kernel(
    k: Float[ArrayLike, " nk"],
    *,
    mass: float,
    channels: Sequence[SpinChannel],
    coulomb: float = 0.0,
    identical: bool | str | None = None,
    grid: tuple[ArrayLike, ArrayLike] | None = None,
    r_max: float = 120.0,
    n_l: int | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> Kernel:
    r"""The Koonin-Pratt kernel $K(k, r)$ of a pair (module docstring) on a radial quadrature grid.

    **Arguments:**

    - `k`: momenta [fm^-1] (> 0), half the momentum difference in the pair rest frame; concrete
      unless `n_l` is given.
    - `mass`: the *reduced* mass $\mu$ [MeV].
    - `channels`: `SpinChannel`s with weights summing to 1.
    - `coulomb`: $Z_1 Z_2$ (0: no Coulomb; 1: pp; -1: $p\Xi^-$); $|\eta| \le 10$ is required.
    - `identical`: None/False for distinguishable particles; True ('fermions' or 'bosons' are
      accepted as synonyms) for identical ones, with every channel's `parity` +1 or -1.
    - `grid`: `(r, w)` nodes [fm] and weights [fm] of the radial quadrature (default
      `radial_quadrature(r_max)`).
    - `r_max`: [fm] end of the default grid.
    - `n_l`: number of partial waves summed (default `n_partial_waves`, the convergence criterion).
    - `rtol`, `atol`: tolerances of the radial integration of the interacting waves.

    **Returns:** a `Kernel`.
    """
    name = "pair_kernel"
    require_x64(name)
    k = _check_k(name, k)
    if not (np.isfinite(mass) and mass > 0):
        raise ValueError(f"{name}: mass (the reduced mass) must be a finite number > 0 [MeV], got {mass}")
    if not np.isfinite(coulomb):
        raise ValueError(f"{name}: coulomb (Z1 Z2) must be finite, got {coulomb}")
    channels = tuple(channels)
    if not channels or not all(isinstance(c, SpinChannel) for c in channels):
        raise ValueError(f"{name}: channels must be a non-empty sequence of SpinChannel, got {channels!r}")
    total = sum(c.weight for c in channels)
    if abs(total - 1) > 1e-12:
        raise ValueError(f"{name}: the channel weights must sum to 1, got {total}")
    ident = _normalise_identical(name, identical)
    for c in channels:
        if ident and c.parity == 0:
            raise ValueError(f"{name}: identical particles need parity +1 or -1 in every channel, got {c}")
        if not ident and c.parity != 0:
            raise ValueError(f"{name}: parity {c.parity} given for distinguishable particles (identical=None)")
    if grid is None:
        grid = radial_quadrature(r_max)
    r, w = (np.asarray(g, dtype=np.float64) for g in grid)
    if r.ndim != 1 or r.shape != w.shape or not np.all(r > 0) or not np.all(np.isfinite(w)):
        raise ValueError(f"{name}: grid must be (r, w) 1D of equal length with r > 0 [fm], got shapes "
                         f"{r.shape}, {w.shape}")
    kc = _kc(mass, coulomb)
    if not isinstance(k, jax.core.Tracer) and kc != 0 and np.min(k) < abs(kc) / _ETA_MAX:
        raise ValueError(f"{name}: k must be >= {abs(kc) / _ETA_MAX:.4g} fm^-1 (|eta| <= {_ETA_MAX}), got "
                         f"min k = {np.min(k):.4g} fm^-1")
    if n_l is None:
        if isinstance(k, jax.core.Tracer):
            raise ValueError(f"{name}: traced momenta k need an explicit n_l (see n_partial_waves)")
        n_l = n_partial_waves(k, float(np.max(r)), mass=mass, coulomb=coulomb)
    if int(n_l) < 2:
        raise ValueError(f"{name}: n_l must be >= 2, got {n_l}")
    waves = tuple(c.partial_waves() for c in channels)
    for ws in waves:
        for pw in ws:
            if pw.l > _L_INTERACTING_MAX:
                raise ValueError(f"{name}: a potential in the partial wave l = {pw.l} is not supported "
                                 f"(l <= {_L_INTERACTING_MAX})")
    potentials = tuple(tuple(pw.potential for pw in ws) for ws in waves)
    spec = tuple((c.weight, c.parity, tuple((pw.l, pw.weight) for pw in ws)) for c, ws in zip(channels, waves))
    values = _kernel_values(jnp.asarray(k), r, potentials, spec, float(mass), float(coulomb), int(n_l),
                            float(rtol), float(atol))
    return Kernel(jnp.asarray(k), jnp.asarray(r), jnp.asarray(4 * np.pi * r**2 * w), values)


def _free_waves(eta: Array, rho: Array, f0: Array, f1: Array, l_max: int) -> list[Array]:
    """F_0 ... F_{l_max} by the upward Coulomb recurrence (A-S 14.2.3) from F_0, F_1: used only for
    the few low waves that carry a potential (l <= 4), where its growth of the relative rounding
    error, ~ (l!/rho^l)^2 eps near rho -> 0, only touches points where F_l^2 itself is negligible."""
    free = [f0, f1]
    for l in range(1, l_max):
        up = ((2 * l + 1) * (eta + l * (l + 1) / rho) * free[l] - (l + 1) * jnp.sqrt(l**2 + eta**2) * free[l - 1])
        free.append(up / (l * jnp.sqrt((l + 1) ** 2 + eta**2)))
    return free


@eqx.filter_jit
def _kernel_values(k, r, potentials, spec, mass, coulomb, n_l, rtol, atol):
    kc = coulomb_momentum(mass, coulomb)
    eta = (kc / k)[:, None]
    rho = k[:, None] * r[None, :]
    f0, f1, even, odd = lax.stop_gradient(coulomb_partial_wave_sums(eta, rho, n_l, charged=coulomb != 0))
    l_max = max([1] + [l for _, _, ws in spec for l, _ in ws])
    free = lax.stop_gradient(_free_waves(eta, rho, f0, f1, l_max))
    total = jnp.zeros_like(rho)
    for pots, (weight, parity, ws) in zip(potentials, spec):
        part = {1: even, -1: odd, 0: even + odd}[parity]
        for potential, (wave, fraction) in zip(pots, ws):
            u = jax.vmap(lambda kk, p=potential, l=wave: wavefunction(p, kk, r, mass=mass, l=l, coulomb=coulomb,
                                                                     rtol=rtol, atol=atol))(k)
            part = part + fraction * (2 * wave + 1) * (u**2 - free[wave] ** 2)
        total = total + weight * (1 if parity == 0 else 2) * part
    return total / rho**2


def pp_kernel(
    k: Float[ArrayLike, " nk"],
    potential: Callable | None = None,
    *,
    mass: float = M_PROTON / 2,
    coulomb: float = 1.0,
    triplet_potential: Callable | None = None,
    grid: tuple[ArrayLike, ArrayLike] | None = None,
    r_max: float = 120.0,
    n_l: int | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> Kernel:
    r"""The proton-proton kernel: spin singlet (weight 1/4, even $l$) with `potential` in the
    $^1S_0$ wave plus Coulomb, spin triplet (3/4, odd $l$) with Coulomb only (or
    `triplet_potential` in the p wave, one common potential for $^3P_{0,1,2}$), every other
    partial wave a Coulomb wave summed to convergence; identical-fermion (anti)symmetrisation.
    Without interaction (`coulomb=0` and a vanishing potential) a Gaussian source gives
    $1 - \tfrac12 e^{-4k^2R^2}$.

    **Arguments:** `k` [fm^-1]; `potential` V(r) [MeV] of the $^1S_0$ wave (default
    `ReidSoftCore1S0()`); `mass` reduced mass [MeV] (default $m_p/2$); `coulomb` $Z_1Z_2$ (1);
    `triplet_potential` optional p-wave potential; `grid`, `r_max`, `n_l`, `rtol`, `atol` as in
    `pair_kernel`.

    **Returns:** a `Kernel`.
    """
    if potential is None:
        potential = ReidSoftCore1S0()
    channels = (SpinChannel(0.25, potential, parity=1), SpinChannel(0.75, triplet_potential, parity=-1))
    return pair_kernel(k, mass=mass, channels=channels, coulomb=coulomb, identical=True, grid=grid,
                       r_max=r_max, n_l=n_l, rtol=rtol, atol=atol)


PP_WAVES = ("1S0", "3P0", "3P1", "3P2", "1D2")


def _parse_wave(name: str, wave: str) -> tuple[int, int, int]:
    """'3P1' -> (S, l, J) = (1, 1, 1), checked for a pp (identical fermions) state."""
    letters = "SPDFGH"
    if not (isinstance(wave, str) and len(wave) == 3 and wave[0] in "13" and wave[1] in letters and wave[2].isdigit()):
        raise ValueError(
            f"{name}: a partial wave is named like '1S0' or '3P2' (2S+1, l as S/P/D/F/G/H, J), got {wave!r}")
    s, l, j = (int(wave[0]) - 1) // 2, letters.index(wave[1]), int(wave[2])
    if not abs(l - s) <= j <= l + s:
        raise ValueError(f"{name}: J = {j} is not allowed for l = {l}, S = {s} ({wave!r})")
    if (l + s) % 2 != 0:
        raise ValueError(f"{name}: {wave!r} is forbidden for two identical fermions (needs l + S even)")
    return s, l, j


def pp_kernel_waves(
    k: Float[ArrayLike, " nk"],
    potentials: dict[str, Callable],
    *,
    mass: float = M_PROTON / 2,
    coulomb: float = 1.0,
    grid: tuple[ArrayLike, ArrayLike] | None = None,
    r_max: float = 120.0,
    n_l: int | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> Kernel:
    r"""The proton-proton kernel with a potential in each of several partial waves, named
    $^{2S+1}l_J$ (e.g. `{"1S0": v, "3P0": v0, "3P1": v1, "3P2": v2, "1D2": vd}`, the waves CATS
    uses with Argonne v18): the singlet (weight 1/4, even $l$) takes the $^1l_l$ waves whole, the
    triplet (3/4, odd $l$) the $^3l_J$ waves with fractions $(2J+1)/(3(2l+1))$ of its wave $l$
    (`PartialWave`); every other wave is a Coulomb wave. Couplings ($^3P_2$-$^3F_2$) are neglected.
    The potentials are given *without* the point Coulomb term, which `coulomb` adds.

    **Arguments:** `k` [fm^-1]; `potentials` a dict wave name -> V(r) [MeV]; `mass` reduced mass
    [MeV]; `coulomb` $Z_1Z_2$ (1); `grid`, `r_max`, `n_l`, `rtol`, `atol` as in `pair_kernel`.

    **Returns:** a `Kernel`.
    """
    name = "pp_kernel_waves"
    if not isinstance(potentials, dict) or not potentials:
        raise ValueError(f"{name}: potentials must be a non-empty dict wave name -> V(r), got {potentials!r}")
    singlet, triplet = [], []
    for wave, pot in potentials.items():
        s, l, j = _parse_wave(name, wave)
        fraction = 1.0 if s == 0 else (2 * j + 1) / (3 * (2 * l + 1))
        (triplet if s == 1 else singlet).append(PartialWave(l, pot, fraction))
    channels = (SpinChannel(0.25, parity=1, waves=tuple(singlet)),
                SpinChannel(0.75, parity=-1, waves=tuple(triplet)))
    return pair_kernel(k, mass=mass, channels=channels, coulomb=coulomb, identical=True, grid=grid,
                       r_max=r_max, n_l=n_l, rtol=rtol, atol=atol)


def fold(source: Callable, kernel: Kernel) -> Float[Array, " nk"]:
    r"""$C(k_i) = 1 + \sum_j W_j S(r_j) [K(k_i, r_j) - 1]$: the Koonin-Pratt integral of a normalised
    source against a kernel (the source's weight beyond the grid counts with $K = 1$). Jits, vmaps
    over sources and differentiates w.r.t. source and kernel.

    **Arguments:** `source` a callable S(r) [fm^-3] normalised to 1; `kernel` a `Kernel`.

    **Returns:** $C(k)$ (dimensionless), one value per momentum of the kernel.
    """
    if not callable(source):
        raise ValueError(f"fold: source must be a callable S(r) -> fm^-3, got {source!r}")
    s = kernel.weights * source(kernel.r)
    return 1 + (kernel.values - 1) @ s


def correlation_function(
    source: Callable,
    k: Float[ArrayLike, " nk"],
    *,
    mass: float,
    channels: Sequence[SpinChannel],
    coulomb: float = 0.0,
    identical: bool | str | None = None,
    **kwargs,
) -> Float[Array, " nk"]:
    r"""$C(k) = \int d^3r\, S(r)\, |\psi_k(\mathbf r)|^2$ (Koonin-Pratt): `fold(source,
    pair_kernel(k, ...))`. Arguments as `pair_kernel` (`k` [fm^-1], `mass` the reduced mass [MeV],
    `channels`, `coulomb` $Z_1Z_2$, `identical`; `grid`, `r_max`, `n_l`, `rtol`, `atol` by keyword).

    **Returns:** $C(k)$, one value per momentum.
    """
    kernel = pair_kernel(k, mass=mass, channels=channels, coulomb=coulomb, identical=identical, **kwargs)
    return fold(source, kernel)


def pp_correlation(source: Callable, k: Float[ArrayLike, " nk"], potential: Callable | None = None,
                   **kwargs) -> Float[Array, " nk"]:
    r"""The pp correlation function `fold(source, pp_kernel(k, potential, ...))` (Reid soft-core
    $^1S_0$ + Coulomb by default).

    **Arguments:** `source` S(r) [fm^-3]; `k` [fm^-1]; `potential` $^1S_0$ V(r) [MeV]; keywords of
    `pp_kernel`.

    **Returns:** $C(k)$, one value per momentum.
    """
    return fold(source, pp_kernel(k, potential, **kwargs))
