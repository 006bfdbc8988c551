r"""The Argonne $v_{18}$ nucleon-nucleon potential (Wiringa, Stoks, Schiavilla, PRC 51 (1995) 38,
"WSS95"), projected on a partial wave, in JAX and differentiable in all its parameters.

**Strong part.** In WSS95 the short-range phenomenology is written per spin-isospin channel
$(S, T)$ (and for $T = 1$ per pair pp, np, nn) as

$$ v^{x}_{ST}(r) = I^{x}_{ST}\, T_\pi^2(r) + \left[P^{x}_{ST} + Q^{x}_{ST}\,\mu r + R^{x}_{ST}\,(\mu r)^2\right] W(r)
   \qquad x \in \{c, t, ls, l2, ls2\}, $$

with $T_\pi(r) = (1 + 3/x + 3/x^2)\,e^{-x}/x\,(1 - e^{-cr^2})^2$, $x = \mu r$,
$\mu = (m_{\pi^0} + 2m_{\pi^\pm})/3\hbar c$,
the cutoff $c = 2.1$ fm$^{-2}$, and the Woods-Saxon $W(r) = 1/(1 + e^{(r - r_0)/a})$, $r_0 = 0.5$ fm,
$a = 0.2$ fm. The central $P$ terms multiply $W_p(r) = W(r)[1 + (r/a)\,e^{-r_0/a} W(0)]$ (zero slope at the
origin), the tensor terms have $P = 0$ and a $Q$ term. One-pion exchange adds, per pion mass $m$ and with
$f^2 = 0.075$,

$$ Y_m(r) = \frac{m}{3}\Big(\frac{m}{m_{\pi^\pm}}\Big)^2 \frac{e^{-\mu_m r}}{\mu_m r}(1 - e^{-cr^2}), \qquad
   T_m(r) = \frac{m}{3}\Big(\frac{m}{m_{\pi^\pm}}\Big)^2 \Big(1 + \frac{3}{\mu_m r} + \frac{3}{(\mu_m r)^2}\Big)
   \frac{e^{-\mu_m r}}{\mu_m r}(1 - e^{-cr^2})^2 $$

($\mu_m = m/\hbar c$) to the central terms as $f^2 [Y_m(r) - Y_m'(0)\,r\,W(r)/W(0)]$ (the linear term at the
origin removed) times $\sigma_1\!\cdot\sigma_2$ and to the tensor as $f^2 T_m$: $\pi^0$ for pp and nn,
$-\pi^0 + 2\pi^\pm$ for np ($T = 1$), $-\pi^0 - 2\pi^\pm$ for $T = 0$. These channel functions are recombined into
the 18 operators of WSS95 eq. (10),

$$ v_{ij} = \sum_{p=1}^{18} v_p(r) O^p_{ij}, \quad O^{p=1..14} = [1, \sigma_i\!\cdot\sigma_j, S_{ij}, L\!\cdot\!S, L^2,
   L^2\sigma_i\!\cdot\sigma_j, (L\!\cdot\!S)^2] \otimes [1, \tau_i\!\cdot\tau_j], \quad
   O^{15..18} = T_{ij}, (\sigma_i\!\cdot\sigma_j) T_{ij}, S_{ij} T_{ij}, \tau_{zi} + \tau_{zj}, $$

$T_{ij} = 3\tau_{zi}\tau_{zj} - \tau_i\!\cdot\tau_j$ (`AV18.operators`), and projected on the channel with the
exact eigenvalues: $\sigma\!\cdot\sigma = 4S - 3$, $\tau\!\cdot\tau = 4T - 3$, $T_{ij} = 3\tau_{zi}\tau_{zj} - (4T - 3)$
($\tau_{zi}\tau_{zj} = +1$ pp/nn, $-1$ np), $\tau_{zi} + \tau_{zj} = 2, 0, -2$ (pp, np, nn),
$L\!\cdot\!S = [J(J+1) - L(L+1) - S(S+1)]/2$, $L^2 = L(L+1)$, and $S_{12} = 2$ ($L = J$, $S = 1$),
$-2(J+2)/(2J+1)$ ($L = J + 1$), $-2(J-1)/(2J+1)$ ($L = J - 1$), off-diagonal $6\sqrt{J(J+1)}/(2J+1)$.
For pp ($T = 1$, $T_z = +1$) this gives exactly the pp channel functions of WSS95 Table I. The operator basis
has one charge-symmetry-breaking operator, $\tau_{zi} + \tau_{zj}$, spin independent and fixed by the $^1S_0$
pp-nn difference (as in WSS95, where the $S=1$ pp-nn difference of $P^c$ is the same 3.9210 MeV).

**Electromagnetic part** (WSS95 eqs. (4)-(8), form factor $b = 4.27$ fm$^{-1}$), with `em=True`:

- $C_1$: one-photon Coulomb with the proton form factor, $\alpha'\hbar c\,F_C(r)/r$,
  $F_C = 1 - (1 + \tfrac{11}{16}br + \tfrac{3}{16}(br)^2 + \tfrac{1}{48}(br)^3)e^{-br}$. **The point Coulomb
  $\alpha'\hbar c/r$ is not in $V$**: the solvers add it with `coulomb = coulomb_scale` ($Z_1 Z_2 = 1$ for pp
  with `coulomb_scale = 1`), so $V$ holds the short-range remainder $\alpha'\hbar c\,(F_C - 1)/r$;
- $C_2$ (two-photon, order $\alpha^2$): $-\alpha\alpha'(\hbar c)^2 F_C^2/(m_p r^2)$;
- Darwin-Foldy: $-\alpha(\hbar c)^3 F_\delta(r)/(4 m_p^2)$, $F_\delta = b^3(1 + br + (br)^2/3)e^{-br}/16$;
- magnetic moments (pp): $-\frac{\alpha(\hbar c)^3}{4m_p^2}\big[\mu_p^2\big(\tfrac{2}{3}F_\delta\,\sigma\!\cdot\sigma
  + \tfrac{F_t}{r^3}S_{12}\big) + 2(4\mu_p - 1)\tfrac{F_{ls}}{r^3}L\!\cdot\!S\big]$, and the np / nn terms
  (the neutron's charge distribution and moments) for those pairs;
- vacuum polarisation (the Uehling potential, eq. (7), range $\hbar/2m_e c \approx 193$ fm) only with
  `vacuum_polarization=True` (default off: the femtoscopy convention has no VP; with it the matching radius
  must be ~1000 fm and more, see `pp_phase_shift`).

$\alpha' = \alpha\,(1 + 2k^2/m_p^2)/\sqrt{1 + k^2/m_p^2}$ (WSS95 eq. (4), `alpha_prime_ratio`) is the
energy-dependent Coulomb strength of WSS95; the default `coulomb_scale = 1` uses $\alpha$ (as the public
`av18pot` package does, and as the femtoscopy kernels do). Non-relativistic radial equation with the
reduced mass $m_p/2$ and $k^2 = m_p T_\mathrm{lab}/2$ (exact relativistically for equal masses).

So with `em=True` and `coulomb=1` in the solvers the phase shift is that of the strong + form-factor, two-photon,
Darwin-Foldy and magnetic-moment interactions **relative to point-Coulomb waves** ($\delta^C$). The
Nijmegen/Granada convention (nuclear phase shifts relative to EM-distorted waves: point Coulomb with
$\alpha'$, two-photon, vacuum polarisation, magnetic moments) is `pp_phase_shift(..., convention="em")`.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from dphys.constants import ALPHA, HBARC, M_NEUTRON, M_PROTON
from dphys.scattering.potentials import AbstractPotential, as_parameter

__all__ = ["AV18", "alpha_prime_ratio", "pp_coupled_phase_shifts", "pp_momentum", "pp_phase_shift"]

# WSS95 constants (pion masses [MeV], magnetic moments [nuclear magnetons], electron mass [MeV])
M_PI0 = 134.9739
M_PIC = 139.5675
MU_P = 2.7928474
MU_N = -1.9130427
M_E = 0.510999
HBARC_WSS95 = 197.327053  # [MeV fm] the hbar c of WSS95's fit, used for the pion ranges m_pi / hbar c (the
# strong part's short-range cancellations amplify a 4e-7 change of hbar c to 1e-5 of V); the EM part uses
# dphys.constants, so that its point-Coulomb subtraction cancels the solvers' Coulomb term exactly
_R_SMALL = 1e-8  # [fm] V is finite at the origin; below this radius it is evaluated at _R_SMALL

# wave -> (L, S, J); the waves a pp pair has (T = 1); the np pair also has T = 0 waves
_WAVES_T1 = {"1S0": (0, 0, 0), "3P0": (1, 1, 0), "3P1": (1, 1, 1), "3P2": (1, 1, 2), "1D2": (2, 0, 2)}
_WAVES_T0 = {"3S1": (0, 1, 1), "1P1": (1, 0, 1), "3D2": (2, 1, 2)}
_PAIRS = {"pp": (1, 1), "np": (1, -1), "nn": (-1, -1)}  # (tau_z1, tau_z2)


def _check_wave(wave: str, pair: str) -> tuple[int, int, int, int]:
    if pair not in _PAIRS:
        raise ValueError(f"AV18: pair must be one of {sorted(_PAIRS)}, got {pair!r}")
    allowed = dict(_WAVES_T1)
    if pair == "np":
        allowed.update(_WAVES_T0)
    if wave not in allowed:
        raise ValueError(f"AV18: wave must be one of {sorted(allowed)} for {pair}, got {wave!r}")
    l, s, j = allowed[wave]
    t = (l + s + 1) % 2  # antisymmetry: (-1)^(L + S + T) = -1
    return l, s, j, t


def _gammainc_int(n: int, x: Array) -> Array:
    """P(n, x) = 1 - e^{-x} sum_{m<n} x^m/m!, the regularised lower incomplete gamma function of integer
    order: stable for small x, where the sums below cancel to many digits."""
    return jax.scipy.special.gammainc(float(n), x)


class AV18(AbstractPotential):
    r"""Argonne $v_{18}$ in one partial wave: `V(r)` [MeV] at `r` [fm], the strong interaction plus (with
    `em=True`) the electromagnetic terms beyond the point Coulomb $\alpha'\hbar c/r$, which the solvers
    add through `coulomb` (module docstring for every formula).

    **Contract** (used by `dphys.femto`): `AV18("1S0")`, also `"3P0"`, `"3P1"`, `"3P2"`, `"1D2"`, is the pp
    potential in that wave; `v(r)` [MeV] excludes the point Coulomb, so solve with `coulomb=1` and the
    reduced mass `M_PROTON / 2`; `v.l`, `v.s`, `v.j` are the orbital, spin and total angular momentum
    (Python ints, static). `"3P2"` is coupled to $^3F_2$ by the tensor force; `V` is its diagonal
    $^3P_2$ element (the uncoupled approximation CATS uses); the full 2x2 matrix is `coupled(r)`.

    **Arguments:**

    - `wave`: spectroscopic name $^{2S+1}L_J$: `"1S0"`, `"3P0"`, `"3P1"`, `"3P2"`, `"1D2"`; for `pair="np"`
      also the $T = 0$ waves `"3S1"` (diagonal of $^3S_1$-$^3D_1$), `"1P1"`, `"3D2"`.
    - `pair`: `"pp"` (default), `"np"` or `"nn"`.
    - `em`: include the electromagnetic terms (C1 form-factor remainder, C2, Darwin-Foldy, magnetic
      moments; static).
    - `vacuum_polarization`: add the Uehling vacuum-polarisation potential (pp only; long range, static).
    - `strong`: include the strong interaction (static; `False` leaves the EM part alone, the reference
      of the EM-wave convention).
    - `em_waves`: with `em=True`, keep only the long-range EM terms, those of the Nijmegen EM-distorted
      waves (two-photon $\propto 1/r^2$, magnetic-moment tensor and spin-orbit $\propto 1/r^3$), dropping the
      short-range ones ($\propto e^{-br}$: the form-factor remainder of $C_1$, Darwin-Foldy, the magnetic
      $\sigma\!\cdot\sigma$ contact term) (static; the reference potential of `pp_phase_shift(convention="em")`).
    - `coulomb_scale`: $\alpha'/\alpha$ (default 1, i.e. $\alpha$); pass the same number as `coulomb` to the
      solver.

    **Fields (parameters, all differentiable):** WSS95 Table I, [MeV]: `c11` central $S=1, T=1$ rows
    (pp, np, nn), columns $(I, P, R)$; `t11`, `t10` tensor $(I, Q, R)$; `ls11`, `l211`, `ls211`, `c10`,
    `ls10`, `l210`, `ls210` $(I, P, R)$; `c01` central $S=0, T=1$ rows (pp, np, nn), columns $(I, P)$;
    `l201`, `c00`, `l200` $(I, P)$. `f2` ($f^2$), `cutoff` $c$ [fm^-2], `r_ws` $r_0$ [fm], `a_ws` $a$ [fm],
    `m_pi0`, `m_pic` [MeV], `b` [fm^-1] the proton form-factor scale, `coulomb_scale`. Through the
    operator basis (one charge-asymmetry operator) the pp $S = 1$ central term is
    $(v^{pp}_{11} + v^{nn}_{11})/2 + (v^{pp}_{01} - v^{nn}_{01})/2$, equal to the `c11` pp row for WSS95's values
    (whose pp-nn differences agree): gradients with respect to `c11` flow to its pp and nn rows equally.
    `em_waves` acts on the pp EM terms.
    """

    c11: Float[Array, "3 3"]
    t11: Float[Array, "3"]
    ls11: Float[Array, "3"]
    l211: Float[Array, "3"]
    ls211: Float[Array, "3"]
    c10: Float[Array, "3"]
    t10: Float[Array, "3"]
    ls10: Float[Array, "3"]
    l210: Float[Array, "3"]
    ls210: Float[Array, "3"]
    c01: Float[Array, "3 2"]
    l201: Float[Array, "2"]
    c00: Float[Array, "2"]
    l200: Float[Array, "2"]
    f2: Float[Array, ""]
    cutoff: Float[Array, ""]
    r_ws: Float[Array, ""]
    a_ws: Float[Array, ""]
    m_pi0: Float[Array, ""]
    m_pic: Float[Array, ""]
    b: Float[Array, ""]
    coulomb_scale: Float[Array, ""]
    wave: str = eqx.field(static=True)
    pair: str = eqx.field(static=True)
    em: bool = eqx.field(static=True)
    vacuum_polarization: bool = eqx.field(static=True)
    strong: bool = eqx.field(static=True)
    em_waves: bool = eqx.field(static=True)
    l: int = eqx.field(static=True)
    s: int = eqx.field(static=True)
    j: int = eqx.field(static=True)
    t: int = eqx.field(static=True)

    def __init__(self, wave: str = "1S0", pair: str = "pp", *, em: bool = True,
                 vacuum_polarization: bool = False, strong: bool = True, em_waves: bool = False, **params):
        l, s, j, t = _check_wave(wave, pair)
        if vacuum_polarization and pair != "pp":
            raise ValueError(f"AV18: vacuum_polarization is for the pp pair only, got pair={pair!r}")
        unknown = set(params) - set(_PARAM_NAMES)
        if unknown:
            raise ValueError(f"AV18: unknown parameter(s) {sorted(unknown)}; the parameters are {_PARAM_NAMES}")
        for name in _PARAM_NAMES:
            value = params.get(name, _DEFAULTS[name])
            setattr(self, name, as_parameter(value))
        for name, shape in _SHAPES.items():
            if jnp.shape(getattr(self, name)) != shape:
                raise ValueError(f"AV18: {name} must have shape {shape}, got {jnp.shape(getattr(self, name))}")
        self.wave, self.pair = wave, pair
        self.em, self.vacuum_polarization, self.strong = bool(em), bool(vacuum_polarization), bool(strong)
        self.em_waves = bool(em_waves)
        self.l, self.s, self.j, self.t = l, s, j, t

    def replace(self, **changes) -> AV18:
        """A copy with some of the constructor's arguments (`wave`, `pair`, `em`, `vacuum_polarization`,
        `strong`, or parameters) replaced; the other parameters are kept, traced or not."""
        kwargs = {name: getattr(self, name) for name in _PARAM_NAMES}
        kwargs.update(wave=self.wave, pair=self.pair, em=self.em, vacuum_polarization=self.vacuum_polarization,
                      strong=self.strong, em_waves=self.em_waves)
        kwargs.update(changes)
        return AV18(**kwargs)

    # --- the strong interaction -------------------------------------------------------------------

    def _radial_functions(self, r: Array) -> dict[str, Array]:
        """T_pi^2, W_p, mu r W, (mu r)^2 W and the OPE pieces Y'_0, Y'_c, T_0, T_c [MeV] at r."""
        c, f2 = self.cutoff, self.f2
        mu0, muc = self.m_pi0 / HBARC_WSS95, self.m_pic / HBARC_WSS95
        mu = (self.m_pi0 + 2 * self.m_pic) / 3 / HBARC_WSS95
        rcut = -jnp.expm1(-c * r**2)

        def tensor_shape(x):
            return (1 + (3 + 3 / x) / x) * jnp.exp(-x) / x * rcut**2

        x = mu * r
        ws = 1 / (1 + jnp.exp((r - self.r_ws) / self.a_ws))
        ws0 = 1 / (1 + jnp.exp(-self.r_ws / self.a_ws))
        wsp = ws * (1 + jnp.exp(-self.r_ws / self.a_ws) * ws0 * r / self.a_ws)
        scale0 = (self.m_pi0 / self.m_pic) ** 2 * self.m_pi0 / 3
        scalec = self.m_pic / 3
        y0 = f2 * scale0 * (jnp.exp(-mu0 * r) / (mu0 * r) * rcut - c / mu0 * r * ws / ws0)
        yc = f2 * scalec * (jnp.exp(-muc * r) / (muc * r) * rcut - c / muc * r * ws / ws0)
        return dict(tpi2=tensor_shape(x) ** 2, wsp=wsp, wsx=ws * x, wsx2=ws * x**2, y0=y0, yc=yc,
                    t0=f2 * scale0 * tensor_shape(mu0 * r), tc=f2 * scalec * tensor_shape(muc * r))

    def channels(self, r: Float[ArrayLike, "..."]) -> dict[str, Array]:
        r"""The WSS95 channel functions [MeV] at `r` [fm]: keys `"c11pp"`, `"c11np"`, `"c11nn"`, `"t11pp"`,
        `"t11np"`, `"ls11"`, `"l211"`, `"ls211"`, `"c10"`, `"t10"`, `"ls10"`, `"l210"`, `"ls210"`,
        `"c01pp"`, `"c01np"`, `"c01nn"`, `"l201"`, `"c00"`, `"l200"` (strong part only, one-pion exchange
        included).

        **Arguments:** `r` [fm]. **Returns:** a dict of arrays shaped like `r` [MeV]."""
        r = jnp.maximum(jnp.asarray(r, dtype=float), _R_SMALL)
        f = self._radial_functions(r)
        tpi2, wsp, wsx, wsx2 = f["tpi2"], f["wsp"], f["wsx"], f["wsx2"]
        y0, yc, t0, tc = f["y0"], f["yc"], f["t0"], f["tc"]

        def ipr(p):  # I T^2 + P W_p + R (mu r)^2 W
            return p[..., 0] * tpi2 + p[..., 1] * wsp + p[..., 2] * wsx2

        def iqr(p):  # I T^2 + Q (mu r) W + R (mu r)^2 W
            return p[0] * tpi2 + p[1] * wsx + p[2] * wsx2

        def ip(p):  # I T^2 + P W_p
            return p[..., 0] * tpi2 + p[..., 1] * wsp

        c11, c01 = self.c11, self.c01
        return {
            # S = 1, T = 1: OPE sigma.sigma = +1, tau.tau = +1
            "c11pp": ipr(c11[0]) + y0, "c11np": ipr(c11[1]) - y0 + 2 * yc, "c11nn": ipr(c11[2]) + y0,
            "t11pp": iqr(self.t11) + t0, "t11np": iqr(self.t11) - t0 + 2 * tc,
            "ls11": ipr(self.ls11), "l211": ipr(self.l211), "ls211": ipr(self.ls211),
            # S = 1, T = 0: tau.tau = -3
            "c10": ipr(self.c10) - y0 - 2 * yc, "t10": iqr(self.t10) - t0 - 2 * tc,
            "ls10": ipr(self.ls10), "l210": ipr(self.l210), "ls210": ipr(self.ls210),
            # S = 0, T = 1: sigma.sigma = -3
            "c01pp": ip(c01[0]) - 3 * y0, "c01np": ip(c01[1]) - 3 * (-y0 + 2 * yc), "c01nn": ip(c01[2]) - 3 * y0,
            "l201": ip(self.l201),
            # S = 0, T = 0: sigma.sigma tau.tau = +9
            "c00": ip(self.c00) + 3 * (y0 + 2 * yc), "l200": ip(self.l200),
        }

    def operators(self, r: Float[ArrayLike, "..."]) -> Float[Array, "... 18"]:
        r"""The 18 operator functions $v_p(r)$ [MeV] of WSS95 eq. (10) at `r` [fm] (strong part), in the
        order $1$, $\tau\!\cdot\tau$, $\sigma\!\cdot\sigma$, $(\sigma\!\cdot\sigma)(\tau\!\cdot\tau)$, $S_{12}$,
        $S_{12}\tau\!\cdot\tau$, $L\!\cdot\!S$, $L\!\cdot\!S\,\tau\!\cdot\tau$, $L^2$, $L^2\tau\!\cdot\tau$,
        $L^2\sigma\!\cdot\sigma$, $L^2(\sigma\!\cdot\sigma)(\tau\!\cdot\tau)$, $(L\!\cdot\!S)^2$,
        $(L\!\cdot\!S)^2\tau\!\cdot\tau$, $T_{12}$, $(\sigma\!\cdot\sigma)T_{12}$, $S_{12}T_{12}$,
        $\tau_{z1} + \tau_{z2}$: each channel $(S, T)$ function is $v_{ST} = \sum$ of the
        operators' eigenvalues times $v_p$; inverted here with the 4x4 spin-isospin projections
        $v_1 = (9v_{11} + 3v_{10} + 3v_{01} + v_{00})/16$ etc.; charge dependence
        $v^{cd} = [(v^{pp} + v^{nn})/2 - v^{np}]/6$ and charge asymmetry $v^{cs} = (v^{pp}_{01} - v^{nn}_{01})/4$.

        **Arguments:** `r` [fm]. **Returns:** $v_p(r)$ [MeV], shape `r.shape + (18,)`."""
        ch = self.channels(r)
        p11 = (ch["c11pp"] + ch["c11np"] + ch["c11nn"]) / 3
        p11cd = ((ch["c11pp"] + ch["c11nn"]) / 2 - ch["c11np"]) / 6
        pt1 = (2 * ch["t11pp"] + ch["t11np"]) / 3
        pt1cd = (ch["t11pp"] - ch["t11np"]) / 6
        p01 = (ch["c01pp"] + ch["c01np"] + ch["c01nn"]) / 3
        p01cd = ((ch["c01pp"] + ch["c01nn"]) / 2 - ch["c01np"]) / 6
        p01cs = (ch["c01pp"] - ch["c01nn"]) / 4
        p10, p00 = ch["c10"], ch["c00"]
        l211, l210, l201, l200 = ch["l211"], ch["l210"], ch["l201"], ch["l200"]
        terms = [
            (9 * p11 + 3 * p10 + 3 * p01 + p00) / 16,
            (3 * p11 - 3 * p10 + p01 - p00) / 16,
            (3 * p11 + p10 - 3 * p01 - p00) / 16,
            (p11 - p10 - p01 + p00) / 16,
            (3 * pt1 + ch["t10"]) / 4,
            (pt1 - ch["t10"]) / 4,
            (3 * ch["ls11"] + ch["ls10"]) / 4,
            (ch["ls11"] - ch["ls10"]) / 4,
            (9 * l211 + 3 * l210 + 3 * l201 + l200) / 16,
            (3 * l211 - 3 * l210 + l201 - l200) / 16,
            (3 * l211 + l210 - 3 * l201 - l200) / 16,
            (l211 - l210 - l201 + l200) / 16,
            (3 * ch["ls211"] + ch["ls210"]) / 4,
            (ch["ls211"] - ch["ls210"]) / 4,
            (3 * p11cd + p01cd) / 4,
            (p11cd - p01cd) / 4,
            pt1cd,
            p01cs,
        ]
        return jnp.stack(terms, axis=-1)

    # --- the electromagnetic interaction ------------------------------------------------------------

    def _em_terms(self, r: Array) -> tuple[Array, Array, Array, Array]:
        """(central, sigma.sigma, S12, L.S) EM functions [MeV] for this pair, without the point Coulomb."""
        b = self.b
        x = b * r
        fc = (5 * _gammainc_int(1, x) + 5 * _gammainc_int(2, x) + 4 * _gammainc_int(3, x)
              + 2 * _gammainc_int(4, x)) / 16  # F_C(r) (eq. (5) form factor)
        ft_r3 = (_gammainc_int(5, x) + 5 * _gammainc_int(6, x)) / 6 / r**3  # F_t / r^3
        fls_r3 = (_gammainc_int(3, x) + 3 * _gammainc_int(4, x) + 4 * _gammainc_int(5, x)) / 8 / r**3
        fdelta = b**3 * (1 + x + x**2 / 3) * jnp.exp(-x) / 16
        zero = jnp.zeros_like(r)
        ahc3 = ALPHA * HBARC**3
        if self.pair == "pp":
            scale = self.coulomb_scale
            c1 = ALPHA * HBARC * fc / r
            central = -scale * c1**2 / M_PROTON  # C2, -alpha alpha' (hbar c F_C / r)^2 / m_p
            if not self.em_waves:
                central = (central + scale * ALPHA * HBARC * (fc - 1) / r  # C1 minus the point Coulomb
                           - ahc3 * fdelta / (4 * M_PROTON**2))  # Darwin-Foldy
            sigma = -ahc3 * MU_P**2 * fdelta / (6 * M_PROTON**2) * (0.0 if self.em_waves else 1.0)
            tensor = -ahc3 * MU_P**2 * ft_r3 / (4 * M_PROTON**2)
            spin_orbit = -ahc3 * (4 * MU_P - 1) * fls_r3 / (2 * M_PROTON**2)
            return central, sigma * jnp.ones_like(r), tensor, spin_orbit
        if self.pair == "nn":
            sigma = -ahc3 * MU_N**2 * fdelta / (6 * M_NEUTRON**2)
            tensor = -ahc3 * MU_N**2 * ft_r3 / (4 * M_NEUTRON**2)
            return zero, sigma, tensor, zero
        # np: the neutron charge distribution (beta = 0.0189) and the magnetic moments
        m_red = M_PROTON * M_NEUTRON / (M_PROTON + M_NEUTRON)
        fnp = b**3 * (15 + 15 * x + 6 * x**2 + x**3) * jnp.exp(-x) / 384
        central = ALPHA * HBARC * 0.0189 * fnp
        sigma = -ahc3 * MU_P * MU_N * fdelta / (6 * M_NEUTRON * M_PROTON)
        tensor = -ahc3 * MU_P * MU_N * ft_r3 / (4 * M_PROTON * M_NEUTRON)
        spin_orbit = -ahc3 * MU_N * fls_r3 / (2 * M_NEUTRON * m_red)
        return central, sigma, tensor, spin_orbit

    def _vacuum_polarization(self, r: Array) -> Array:
        """The Uehling potential (WSS95 eq. (7)) [MeV]: (2 alpha / 3 pi) (alpha' hbar c / r) *
        int_1^inf dx exp(-2 m_e r x / hbar c) (1 + 1/(2x^2)) sqrt(x^2 - 1) / x^2, with x = cosh(u) and a
        fixed Gauss-Legendre rule on u in [0, U(r)], U = ln(2/eps) + 5 (eps = 2 m_e r / hbar c) where the
        integrand has fallen below e^-70 of its peak."""
        eps = 2 * M_E * r / HBARC
        upper = jnp.log(2 / eps + 1) + 5.0
        nodes, weights = np.polynomial.legendre.leggauss(96)
        u = (nodes + 1) / 2 * upper[..., None]
        cosh, tanh = jnp.cosh(u), jnp.tanh(u)
        integrand = jnp.exp(-eps[..., None] * cosh) * (1 + 0.5 / cosh**2) * tanh**2
        integral = jnp.sum(integrand * weights, axis=-1) * upper / 2
        return 2 * ALPHA / (3 * math.pi) * self.coulomb_scale * ALPHA * HBARC / r * integral

    # --- projection --------------------------------------------------------------------------------

    def _eigen(self, l: int) -> dict[str, float]:
        s, j, t = self.s, self.j, self.t
        tz1, tz2 = _PAIRS[self.pair]
        if s == 0:
            s12 = 0.0
        elif l == j:
            s12 = 2.0
        elif l == j + 1:
            s12 = -2.0 * (j + 2) / (2 * j + 1)
        else:  # l == j - 1
            s12 = -2.0 * (j - 1) / (2 * j + 1)
        ls = (j * (j + 1) - l * (l + 1) - s * (s + 1)) / 2
        return dict(ss=4 * s - 3, tt=4 * t - 3, t12=3 * tz1 * tz2 - (4 * t - 3), tz=tz1 + tz2,
                    s12=s12, ls=ls, l2=l * (l + 1))

    def _components(self, r: Array) -> tuple[Array, Array, Array, Array, Array]:
        """(central, tensor, L.S, L^2, (L.S)^2) radial functions [MeV] for this pair and spin/isospin."""
        e = self._eigen(self.l)
        ss, tt, t12, tz = e["ss"], e["tt"], e["t12"], e["tz"]
        zero = jnp.zeros_like(r)
        vc = vt = vls = vl2 = vls2 = zero
        if self.strong:
            v = self.operators(r)
            vc = v[..., 0] + tt * v[..., 1] + ss * v[..., 2] + ss * tt * v[..., 3] + t12 * v[..., 14] \
                + ss * t12 * v[..., 15] + tz * v[..., 17]
            vt = v[..., 4] + tt * v[..., 5] + t12 * v[..., 16]
            vls = v[..., 6] + tt * v[..., 7]
            vl2 = v[..., 8] + tt * v[..., 9] + ss * v[..., 10] + ss * tt * v[..., 11]
            vls2 = v[..., 12] + tt * v[..., 13]
        if self.em:
            central, sigma, tensor, spin_orbit = self._em_terms(r)
            vc, vt, vls = vc + central + ss * sigma, vt + tensor, vls + spin_orbit
        if self.vacuum_polarization:
            vc = vc + self._vacuum_polarization(r)
        return vc, vt, vls, vl2, vls2

    def _project(self, comps, l: int) -> Array:
        e = self._eigen(l)
        vc, vt, vls, vl2, vls2 = comps
        return vc + e["s12"] * vt + e["ls"] * vls + e["l2"] * vl2 + e["ls"] ** 2 * vls2

    def __call__(self, r: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
        r"""$V(r)$ [MeV] at `r` [fm] in this wave (for $^3P_2$, $^3S_1$ the diagonal element of the coupled
        pair), without the point Coulomb; elementwise. The strong part is finite at the origin, the EM remainder
        $\alpha'\hbar c(F_C - 1)/r$ of the point Coulomb goes like $-\alpha'\hbar c/r$ there (cancelling the
        solvers' point Coulomb).

        **Arguments:** `r` [fm]. **Returns:** $V(r)$ [MeV], shaped like `r`."""
        r = jnp.maximum(jnp.asarray(r, dtype=float), _R_SMALL)
        return self._project(self._components(r), self.l)

    def coupled(self, r: Float[ArrayLike, "..."]) -> Float[Array, "... 2 2"]:
        r"""The 2x2 potential matrix [MeV] at `r` [fm] of a tensor-coupled wave ($L = J - 1$ and $J + 1$,
        $S = 1$: `"3P2"` with $^3F_2$, `"3S1"` with $^3D_1$), rows/columns ($L = J - 1$, $L = J + 1$),
        off-diagonal $6\sqrt{J(J+1)}/(2J+1)\, v_t(r)$. ValueError for an uncoupled wave.

        **Arguments:** `r` [fm]. **Returns:** the symmetric matrix [MeV], shape `r.shape + (2, 2)`."""
        if not (self.s == 1 and self.l == self.j - 1):
            raise ValueError(f"AV18.coupled: {self.wave} is not a tensor-coupled wave (need S=1, L=J-1)")
        r = jnp.maximum(jnp.asarray(r, dtype=float), _R_SMALL)
        comps = self._components(r)
        low, high = self._project(comps, self.l), self._project(comps, self.l + 2)
        off = 6 * math.sqrt(self.j * (self.j + 1)) / (2 * self.j + 1) * comps[1]
        return jnp.stack([jnp.stack([low, off], -1), jnp.stack([off, high], -1)], -2)


_DEFAULTS = {  # WSS95 Table I and the constants of its eqs. (2)-(3), (5)
    "c11": ((-7.62701, 1815.4920, 1847.8059), (-7.62701, 1813.5315, 1847.8059), (-7.62701, 1811.5710, 1847.8059)),
    "t11": (1.07985, -190.0949, -811.2040),
    "ls11": (-0.62697, -570.5571, 819.1222),
    "l211": (0.06709, 342.0669, -615.2339),
    "ls211": (0.74129, 9.3418, -376.4384),
    "c10": (-8.62770, 2605.2682, 441.9733),
    "t10": (1.485601, -1126.8359, 370.1324),
    "ls10": (0.10180, 86.0658, -356.5175),
    "l210": (-0.13201, 253.4350, -1.0076),
    "ls210": (0.07357, -217.5791, 18.3935),
    "c01": ((-11.27028, 3346.6874), (-10.66788, 3126.5542), (-11.27028, 3342.7664)),
    "l201": (0.12472, 16.7780),
    "c00": (-2.09971, 1204.4301),
    "l200": (-0.31452, 217.4559),
    "f2": 0.075, "cutoff": 2.1, "r_ws": 0.5, "a_ws": 0.2, "m_pi0": M_PI0, "m_pic": M_PIC, "b": 4.27,
    "coulomb_scale": 1.0,
}
_PARAM_NAMES = tuple(_DEFAULTS)
_SHAPES = {name: np.shape(value) for name, value in _DEFAULTS.items()}


# --- pp kinematics and the phase-shift conventions ------------------------------------------------


def pp_momentum(t_lab: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    r"""The pp relative momentum $k = \sqrt{m_p T_\mathrm{lab}/2}/\hbar c$ [fm^-1] at laboratory kinetic
    energy `t_lab` [MeV] (exact relativistically for equal masses: $s = 4m_p^2 + 2m_pT_\mathrm{lab}$,
    $k^2 = s/4 - m_p^2$).

    **Arguments:** `t_lab` [MeV] (> 0). **Returns:** $k$ [fm^-1], shaped like `t_lab`.
    """
    return jnp.sqrt(M_PROTON * jnp.asarray(t_lab, dtype=float) / 2) / HBARC


def alpha_prime_ratio(k: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    r"""$\alpha'/\alpha = (1 + 2k^2/m_p^2)/\sqrt{1 + k^2/m_p^2}$
    (WSS95 eq. (4); $\alpha' = 2k\alpha/(m_p v_\mathrm{lab})$),
    the relativistic strength of the pp Coulomb interaction at relative momentum `k` [fm^-1]
    (1.02 at $T_\mathrm{lab} = 25$ MeV, 1.19 at 250 MeV).

    **Arguments:** `k` [fm^-1]. **Returns:** the dimensionless ratio, shaped like `k`.
    """
    q2 = (jnp.asarray(k, dtype=float) * HBARC / M_PROTON) ** 2
    return (1 + 2 * q2) / jnp.sqrt(1 + q2)


def pp_phase_shift(
    potential: AV18,
    k: Float[ArrayLike, ""],
    *,
    convention: str = "em",
    r_match: float | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> Float[Array, ""]:
    r"""The pp nuclear phase shift [rad] of an `AV18` pp potential at momentum `k` [fm^-1], in one of two
    conventions (the potential's own `em`, `vacuum_polarization`, `coulomb_scale` are replaced):

    - `"coulomb"`: $\delta^C$, strong + form-factor/two-photon/Darwin-Foldy/magnetic-moment terms relative to
      point-Coulomb waves with $\alpha$ (`phase_shift(AV18(wave), k, coulomb=1)`; what the femtoscopy
      kernels use);
    - `"em"`: $\delta^{EM} = \delta[V_N + V_{EM}] - \delta[V_{EM}^{waves}]$, the nuclear phase shift relative
      to EM-distorted waves as in the Nijmegen PWA93 and Granada analyses: the waves of the long-range EM
      interaction, point Coulomb with $\alpha'$ (`alpha_prime_ratio(k)`), two-photon $C_2$, Uehling vacuum
      polarisation, magnetic-moment tensor and spin-orbit terms
      (`AV18(..., strong=False, em_waves=True, vacuum_polarization=True)`); the short-range EM terms
      (form-factor remainder of $C_1$, Darwin-Foldy, magnetic contact term) stay in the nuclear phase.
      Both solves are relative to point-Coulomb waves with $\alpha'$ and matched at `r_match` (default
      $\max(1500, 60\pi/k)$ fm, where the vacuum polarisation, range 193 fm, has fallen to $e^{-7.8}$).
      $C_2$ and the magnetic moments keep WSS95's form factors in the waves (point-like in Nijmegen's:
      a difference at $r \lesssim 2$ fm).

    **Arguments:** `potential` an `AV18` with `pair="pp"`; `k` [fm^-1] (> 0, a concrete scalar);
    `convention` `"em"` or `"coulomb"`; `r_match` [fm]; `rtol`, `atol` integration tolerances.

    **Returns:** the phase shift [rad] (for $^3P_2$ the uncoupled diagonal approximation).
    """
    from dphys.scattering.radial import phase_shift

    if not isinstance(potential, AV18) or potential.pair != "pp":
        raise ValueError(f"pp_phase_shift: potential must be an AV18 with pair='pp', got {potential!r}")
    if convention not in ("em", "coulomb"):
        raise ValueError(f"pp_phase_shift: convention must be 'em' or 'coulomb', got {convention!r}")
    mass = M_PROTON / 2
    if convention == "coulomb":
        pot = potential.replace(em=True, vacuum_polarization=False, strong=True, em_waves=False, coulomb_scale=1.0)
        return phase_shift(pot, k, mass=mass, l=pot.l, coulomb=1.0, r_match=25.0 if r_match is None else r_match,
                           rtol=rtol, atol=atol)
    k_value = float(k)
    if r_match is None:
        r_match = max(1500.0, 60 * math.pi / k_value)
    scale = alpha_prime_ratio(k_value)
    full = potential.replace(em=True, vacuum_polarization=True, strong=True, em_waves=False, coulomb_scale=scale)
    reference = full.replace(strong=False, em_waves=True)
    kwargs = dict(mass=mass, l=full.l, coulomb=scale, r_match=r_match, rtol=rtol, atol=atol)
    return phase_shift(full, k, **kwargs) - phase_shift(reference, k, **kwargs)


def pp_coupled_phase_shifts(
    potential: AV18,
    k: Float[ArrayLike, ""],
    *,
    convention: str = "em",
    r_match: float | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
):
    r"""The Stapp bar phase shifts and mixing angle [rad] of the tensor-coupled pp waves
    $^3P_2$-$^3F_2$ (`AV18("3P2")`) at momentum `k` [fm^-1]: `CoupledPhases(delta_minus` ($^3P_2$),
    `delta_plus` ($^3F_2$), `epsilon` ($\epsilon_2$)`)`, from `dphys.scattering.coupled_phase_shifts`
    with `potential.coupled`.

    Conventions as `pp_phase_shift`: `"coulomb"` relative to point-Coulomb waves ($\alpha$); `"em"` each of
    the three minus its value for the EM-wave potential alone (point Coulomb with $\alpha'$, $C_2$, vacuum
    polarisation, magnetic-moment tensor and spin-orbit), exact to first order in the EM distortion.

    **Arguments:** `potential` an `AV18("3P2")` pp potential; `k` [fm^-1] (a concrete scalar); `convention`
    `"em"` or `"coulomb"`; `r_match` [fm]; `rtol`, `atol` integration tolerances.

    **Returns:** `CoupledPhases` [rad].
    """
    from dphys.scattering.coupled import CoupledPhases, coupled_phase_shifts

    if not isinstance(potential, AV18) or potential.pair != "pp" or potential.wave != "3P2":
        raise ValueError(f"pp_coupled_phase_shifts: potential must be AV18('3P2') (pp), got {potential!r}")
    if convention not in ("em", "coulomb"):
        raise ValueError(f"pp_coupled_phase_shifts: convention must be 'em' or 'coulomb', got {convention!r}")
    mass = M_PROTON / 2
    if convention == "coulomb":
        pot = potential.replace(em=True, vacuum_polarization=False, strong=True, em_waves=False, coulomb_scale=1.0)
        return coupled_phase_shifts(pot.coupled, k, mass=mass, j=2, coulomb=1.0,
                                    r_match=25.0 if r_match is None else r_match, rtol=rtol, atol=atol)
    k_value = float(k)
    if r_match is None:
        r_match = max(1500.0, 60 * math.pi / k_value)
    scale = alpha_prime_ratio(k_value)
    full = potential.replace(em=True, vacuum_polarization=True, strong=True, em_waves=False, coulomb_scale=scale)
    reference = full.replace(strong=False, em_waves=True)
    kwargs = dict(mass=mass, j=2, coulomb=scale, r_match=r_match, rtol=rtol, atol=atol)
    a, b = coupled_phase_shifts(full.coupled, k, **kwargs), coupled_phase_shifts(reference.coupled, k, **kwargs)
    return CoupledPhases(*(x - y for x, y in zip(a, b)))
