r"""Exact references: one-variable actions by quadrature, 2D U(1) gauge theory by the character
expansion, 0+1D quantum mechanics by the transfer matrix and by diagonalising the Hamiltonian.

All are plain NumPy in float64 (nothing here is traced or differentiated).

One-variable actions: expectations $\langle O \rangle = \int dx\, O(x) e^{-S(x)} / Z$ and the
normalised density $e^{-S(x)}/Z$ are computed by the trapezoidal rule on a wide uniform grid. For
a smooth integrand that decays faster than any power the trapezoidal rule converges exponentially
in the number of points (every Euler-Maclaurin boundary term vanishes): the default 2^16 + 1
points give machine precision for smooth observables. An observable with a kink at a grid point
(|x| at x = 0) converges as h^2 instead: about 1e-8 relative with the default grid.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike

from dphys._checks import check_int_range
from dphys.lattice.phi4 import check_lattice_shape

__all__ = [
    "density_1d",
    "double_well_exact",
    "double_well_hamiltonian",
    "expectation_1d",
    "hamiltonian_spectrum",
    "transfer_matrix_exact",
    "u1_character_coefficients",
    "u1_exact",
]


def _action_on(action: Callable, x: ArrayLike) -> np.ndarray:
    with jax.enable_x64(True):
        s = jax.vmap(lambda xi: action(jnp.asarray(xi, jnp.float64)))(jnp.asarray(x, jnp.float64))
        return np.asarray(s)


def _quadrature_grid(action: Callable, cutoff: float, n_points: int):
    """A symmetric grid covering S(x) - min S < cutoff (doubling its half-width until the ends
    are `cutoff` above the minimum), the action on it, and log Z."""
    half = 1.0
    while True:
        grid = np.linspace(-half, half, n_points)
        s = _action_on(action, grid)
        if not np.all(np.isfinite(s)):
            raise ValueError(f"the action is not finite on [{-half}, {half}]")
        if min(s[0], s[-1]) - s.min() > cutoff:
            break
        if half > 1e6:
            raise ValueError("e^{-S} does not decay: the action is not bounded below at large |x|")
        half *= 2
    dx = grid[1] - grid[0]
    log_z = -s.min() + np.log(np.sum(np.exp(-(s - s.min()))) * dx)  # end weights ~e^{-cutoff}
    return grid, s, log_z


def expectation_1d(
    action: Callable, observables: Sequence[Callable], *, cutoff: float = 60.0, n_points: int = 2**16 + 1
) -> np.ndarray:
    r"""Exact $\langle O_i \rangle$ under $e^{-S(x)}/Z$ for one real variable $x$, in float64.

    **Arguments:** `action` S(x) of a scalar (JAX-traceable); `observables` functions O(x) of a
    NumPy array of x values; `cutoff`: the range is where $S - \min S$ < cutoff, so the neglected
    weight is below $e^{-\text{cutoff}}$; `n_points` of the trapezoidal grid.

    **Returns:** float64 array of the expectation values, one per observable.
    """
    grid, s, log_z = _quadrature_grid(action, cutoff, n_points)
    p = np.exp(-(s + log_z)) * (grid[1] - grid[0])
    return np.array([np.sum(np.asarray(o(grid), dtype=np.float64) * p) for o in observables])


def density_1d(action: Callable, x: ArrayLike, *, cutoff: float = 60.0, n_points: int = 2**16 + 1) -> np.ndarray:
    r"""The normalised density $e^{-S(x)}/Z$ at the points `x` (float64), Z by quadrature."""
    _, _, log_z = _quadrature_grid(action, cutoff, n_points)
    return np.exp(-(_action_on(action, x) + log_z))


# ---------------------------------------------------------------------------
# 2D U(1) Wilson gauge theory on a finite periodic lattice
# ---------------------------------------------------------------------------


def _check_real(value, name: str, ok=lambda v: True, expected: str = "a finite real number") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name}={value!r}: expected {expected}")
    if not (np.isfinite(value) and ok(value)):
        raise ValueError(f"{name}={value!r}: expected {expected}")
    return float(value)


@functools.lru_cache(maxsize=16)
def _gauss_legendre(n_quad: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(n_quad)


def _scaled_character_coefficients(beta: float, nu: np.ndarray, n_quad: int):
    """f, f', f'' at nu times e^{-|beta|} (so nothing overflows), by n_quad-point Gauss-Legendre
    on [0, pi] (the integrands are even in phi)."""
    nodes, weights = _gauss_legendre(n_quad)
    phi = np.pi * (nodes + 1) / 2
    w = weights / 2 * np.exp(beta * np.cos(phi) - abs(beta))  # (1/pi) * (pi/2) * weight
    arg = np.multiply.outer(nu, phi)
    cos, sin = np.cos(arg), np.sin(arg)
    return cos @ w, -(sin * phi) @ w, -(cos * phi**2) @ w


def _default_n_quad(beta: float, nu_max: float) -> int:
    """Nodes for cos(nu phi) e^{beta cos phi} on [0, pi]: 2 per unit of nu and of |beta| plus 64,
    rounded up to a multiple of 32 (cached node sets are reused)."""
    return int(32 * np.ceil((2 * np.ceil(nu_max) + 2 * np.ceil(abs(beta)) + 64) / 32))


def u1_character_coefficients(beta: float, nu: ArrayLike, *, n_quad: int | None = None):
    r"""Fourier coefficients of the single-plaquette weight and their derivatives in $\nu$:

    $$f(\nu) = \frac{1}{2\pi}\int_{-\pi}^{\pi} e^{\beta\cos\phi}\cos(\nu\phi)\,d\phi,\quad
    f'(\nu) = -\frac{1}{2\pi}\int e^{\beta\cos\phi}\,\phi\sin(\nu\phi)\,d\phi,\quad
    f''(\nu) = -\frac{1}{2\pi}\int e^{\beta\cos\phi}\,\phi^2\cos(\nu\phi)\,d\phi.$$

    $f(n) = I_n(\beta)$ for integer $n$. The integrands of $f'$, $f''$ are smooth but not
    periodic on $[-\pi, \pi]$ (the trapezoidal rule would converge only as $h^2$), so all three
    use Gauss-Legendre quadrature on $[0, \pi]$, exponentially accurate for these entire
    integrands once `n_quad` resolves the oscillation ($\sim|\nu|$) and the peak width
    ($\sim 1/\sqrt{\beta}$): the absolute error is about $10^{-13} I_0(\beta)$ (rounding) (so tiny $I_n$
    at large $n$ are not accurate relative to themselves). Overflows for $|\beta| \gtrsim 700$.

    **Arguments:** `beta` (real), `nu` (array of real orders), `n_quad` nodes (default
    $2\lceil\max|\nu|\rceil + 2\lceil|\beta|\rceil + 64$, rounded up to a multiple of 32).

    **Returns:** `(f, df, d2f)`, float64 arrays shaped like `nu`.
    """
    beta = _check_real(beta, "beta")
    nu = np.asarray(nu, np.float64)
    n_quad = _default_n_quad(beta, np.max(np.abs(nu), initial=0.0)) if n_quad is None else n_quad
    n_quad = check_int_range(n_quad, "n_quad", 2)
    return tuple(np.exp(abs(beta)) * c for c in _scaled_character_coefficients(beta, nu, n_quad))


def u1_exact(
    beta: float, L: int, loops=((1, 1), (1, 2), (2, 2)), *, n_max: int = 50
) -> dict[str, float]:
    r"""Exact plaquette, Wilson loops and topological susceptibility of 2D U(1) on a periodic
    $L \times L$ lattice (finite volume, $V = L^2$ plaquettes), by the character expansion.

    Expanding every plaquette weight $e^{\beta\cos\theta_P} = \sum_n I_n(\beta) e^{in\theta_P}$
    and integrating the links (each link is shared by two plaquettes with opposite orientation,
    so all plaquettes carry the same character $n$):

    $$Z = \sum_n I_n^V, \qquad \langle W_A\rangle = \frac{1}{Z}\sum_n I_{n+1}^A I_n^{V-A}$$

    for a contractible loop enclosing $A = RT$ plaquettes (inside, the loop's character shifts
    $n \to n+1$; $I_{-n} = I_n$ makes the sum real and symmetric under $A \to V - A$). The
    plaquette is $\langle W_1\rangle$. For the charge $Q = \sum_P [\theta_P]/2\pi$ the weight
    $e^{\beta\cos\phi + i\vartheta[\phi]/2\pi}$ of a plaquette is again a class function with
    coefficients $f(n - \vartheta/2\pi)$ (`u1_character_coefficients`), so
    $Z(\vartheta) = \sum_n f(n + \nu)^V$, $\nu = \vartheta/2\pi$, and

    $$\chi_t = \frac{\langle Q^2\rangle}{V} = -\frac{Z''(0)}{V Z(0)} = -\frac{1}{4\pi^2 Z}
    \sum_n \big[(V-1) f_n^{V-2} f_n'^2 + f_n^{V-1} f_n''\big].$$

    In infinite volume $\langle W_A\rangle \to (I_1/I_0)^A$ and
    $\chi_t \to \langle\phi^2\rangle_\beta / 4\pi^2$ (single-plaquette average). All sums run
    over $|n| \le$ `n_max` with every term divided by $I_0^V$, so nothing overflows.

    **Arguments:** `beta` (real), `L` (integer >= 2), `loops`: `(R, T)` sizes with
    `1 <= R, T <= L - 1`, `n_max`: truncation of the character sums (the terms fall like
    $(I_n/I_0)^{V-2}$; 50 is converged to machine precision for $\beta \lesssim 100$).

    **Returns:** dict with `"plaquette"`, `"wilson_RxT"` per loop, `"chi_t"` (floats).
    """
    beta = _check_real(beta, "beta")
    size = check_lattice_shape((L, L), "L x L lattice")[0]
    loops = tuple((check_int_range(R, "R", 1, size - 1), check_int_range(T, "T", 1, size - 1)) for R, T in loops)
    n_max = check_int_range(n_max, "n_max", 1)
    volume = size * size
    n = np.arange(-n_max, n_max + 2)  # n_max + 1 for I_{n+1}
    f, df, d2f = _scaled_character_coefficients(beta, n, _default_n_quad(beta, n_max + 1))
    f0 = f[n_max]  # I_0 > 0
    r, r_next = f[:-1] / f0, f[1:] / f0  # I_n / I_0 and I_{n+1} / I_0 for |n| <= n_max
    dr, d2r = df[:-1] / f0, d2f[:-1] / f0
    z = np.sum(r**volume)

    def loop(area: int) -> float:
        return float(np.sum(r_next**area * r ** (volume - area)) / z)

    q2_sum = np.sum((volume - 1) * r ** (volume - 2) * dr**2 + r ** (volume - 1) * d2r)
    out = {"plaquette": loop(1)}
    out.update({f"wilson_{R}x{T}": loop(R * T) for R, T in loops})
    out["chi_t"] = float(-q2_sum / (4 * np.pi**2 * z))
    return out


# ---------------------------------------------------------------------------
# 0+1D quantum mechanics: transfer matrix and Hamiltonian on a position grid
# ---------------------------------------------------------------------------


def _position_grid(x_max: float, n_grid: int) -> tuple[np.ndarray, float]:
    x_max = _check_real(x_max, "x_max", lambda v: v > 0, "a positive half-width")
    n_grid = check_int_range(n_grid, "n_grid", 3)
    grid = np.linspace(-x_max, x_max, n_grid)
    return grid, grid[1] - grid[0]


def _potential_on(potential: Callable, grid: np.ndarray) -> np.ndarray:
    v = np.asarray(potential(grid), np.float64)
    if v.shape != grid.shape or not np.all(np.isfinite(v)):
        raise ValueError("potential(x) must return finite values of the shape of x on the grid")
    return v


def transfer_matrix_exact(
    potential: Callable, a: float, N: int | None = None, *, x_max: float, n_grid: int, n_levels: int = 6
) -> dict:
    r"""Exact results of the lattice path integral with action
    $S = \sum_i [(x_{i+1}-x_i)^2/2a + a V(x_i)]$ (mass 1, $\hbar = 1$) by diagonalising its
    transfer matrix on a position grid.

    $$T(x, x') = \frac{1}{\sqrt{2\pi a}}\, e^{-a V(x)/2}\, e^{-(x-x')^2/2a}\, e^{-a V(x')/2},$$

    discretised as the symmetric matrix $T_{ij}\,\Delta x$ on a uniform grid over
    $[-x_\text{max}, x_\text{max}]$. The Gaussian kernel is $e^{-a p^2/2}$ exactly, so
    $T = e^{-aV/2} e^{-ap^2/2} e^{-aV/2} = e^{-a H_a}$ with $H_a = H + O(a^2)$ (symmetric
    Trotter splitting); the quadrature converges exponentially once $\Delta x$ is small compared
    with $\sqrt a$ and the wave functions' length scale. Lattice energies
    $E_n = -\ln(\lambda_n)/a$ (with the $1/\sqrt{2\pi a}$ normalisation these tend to the
    eigenvalues of $H$ as $a \to 0$); the gap $\ln(\lambda_0/\lambda_1)/a$ needs no
    normalisation. For a periodic lattice of `N` sites, with $X = \mathrm{diag}(x)$:

    $$\langle x^2\rangle = \frac{\mathrm{Tr}(T^N X^2)}{\mathrm{Tr}\,T^N}, \qquad
    C(\tau) = \frac{\mathrm{Tr}(T^{N-\tau} X T^\tau X)}{\mathrm{Tr}\,T^N}
    = \frac{\sum_{mn} \lambda_m^{N-\tau}\lambda_n^\tau |X_{mn}|^2}{\sum_n \lambda_n^N},$$

    exact for the lattice action at this $a$ and $N$ (all grid eigenstates are kept).

    **Arguments:** `potential`: $V(x)$ of a NumPy array; `a`: time spacing > 0; `N`: number of
    time slices (optional); `x_max`, `n_grid`: the grid (the wave functions must be negligible at
    $\pm x_\text{max}$); `n_levels`: number of energies returned.

    **Returns:** dict with `"energies"` (lowest `n_levels` $E_n$), `"gap"` ($E_1 - E_0$), and for
    given `N` also `"x2"`, `"correlator"` ($C(\tau)$, $\tau = 0 \dots N-1$) and
    `"temperature"` ($1/Na$).
    """
    a = _check_real(a, "a", lambda v: v > 0, "a time spacing a > 0")
    grid, dx = _position_grid(x_max, n_grid)
    n_levels = check_int_range(n_levels, "n_levels", 2, grid.size)
    half = np.exp(-a * _potential_on(potential, grid) / 2)
    kernel = np.exp(-np.subtract.outer(grid, grid) ** 2 / (2 * a)) * dx / np.sqrt(2 * np.pi * a)
    lam, vec = np.linalg.eigh(half[:, None] * kernel * half[None, :])
    lam, vec = lam[::-1], vec[:, ::-1]
    if lam[n_levels - 1] <= 0:
        raise ValueError(f"n_levels={n_levels}: fewer positive transfer-matrix eigenvalues; refine the grid")
    out = {"energies": -np.log(lam[:n_levels]) / a, "gap": float(np.log(lam[0] / lam[1]) / a)}
    if N is not None:
        N = check_int_range(N, "N", 2)
        r = np.clip(lam / lam[0], 0.0, None)  # round-off may leave tiny negative eigenvalues
        x_mn2 = (vec.T @ (grid[:, None] * vec)) ** 2
        tau = np.arange(N)
        left, right = r[None, :] ** (N - tau[:, None]), r[None, :] ** tau[:, None]
        z = np.sum(r**N)
        corr = np.sum((left @ x_mn2) * right, axis=1) / z
        out.update(x2=float(corr[0]), correlator=corr, temperature=1 / (N * a))
    return out


def hamiltonian_spectrum(potential: Callable, *, x_max: float, n_grid: int, n_levels: int = 6) -> np.ndarray:
    r"""Lowest eigenvalues of $H = p^2/2 + V(x)$ (mass 1, $\hbar = 1$) on a uniform grid over
    $[-x_\text{max}, x_\text{max}]$ with $\psi = 0$ outside.

    The kinetic term is the infinite-order central finite difference (sinc discrete variable
    representation, Colbert & Miller, J. Chem. Phys. 96 (1992) 1982):
    $-\frac12\psi''(x_i) \to \frac{1}{2\Delta x^2}\sum_j K_{ij}\psi_j$ with $K_{ii} = \pi^2/3$,
    $K_{ij} = 2(-1)^{i-j}/(i-j)^2$; it converges exponentially in $\Delta x$ for smooth
    bound states (ordinary 3-point differences converge as $\Delta x^2$ to the same values).

    **Arguments:** `potential` $V(x)$ of a NumPy array; `x_max`, `n_grid`: the grid;
    `n_levels`: number of eigenvalues.

    **Returns:** the `n_levels` lowest eigenvalues, ascending (float64).
    """
    grid, dx = _position_grid(x_max, n_grid)
    n_levels = check_int_range(n_levels, "n_levels", 1, grid.size)
    k = np.subtract.outer(np.arange(grid.size), np.arange(grid.size))
    with np.errstate(divide="ignore"):
        kinetic = np.where(k == 0, np.pi**2 / 3, 2.0 * (-1.0) ** k / np.where(k == 0, 1, k) ** 2)
    h = kinetic / (2 * dx**2) + np.diag(_potential_on(potential, grid))
    return np.linalg.eigvalsh(h)[:n_levels]


def _double_well_grid(
    lam: float, eta: float, a: float | None, n_sites: int | None, x_max, n_grid
) -> tuple[Callable, float, int]:
    """V(x) and a default grid: x_max where the WKB ground-state weight
    exp(-2 int_eta^x sqrt(2V)) is below e^-60 and (for a finite lattice) N a V(x_max) >= 60;
    spacing a sixth of the smaller of sqrt(a) (the kernel width) and the well's length scale."""
    lam = _check_real(lam, "lam", lambda v: v > 0, "lam > 0 (a confining potential)")
    eta = _check_real(eta, "eta")
    eta2 = eta * eta
    if x_max is None:
        # sqrt(2 lam) [(X^3 - |eta|^3)/3 - eta^2 (X - |eta|)] = 30, largest real root
        roots = np.roots([1 / 3, 0.0, -eta2, 2 * abs(eta) ** 3 / 3 - 30 / np.sqrt(2 * lam)])
        x_max = float(np.max(roots[np.abs(roots.imag) < 1e-9].real))
        if n_sites is not None:
            x_max = max(x_max, float(np.sqrt(eta2 + np.sqrt(60 / (n_sites * a * lam)))))
    if n_grid is None:
        scale = min((8 * lam * eta2) ** -0.25 if eta2 > 0 else np.inf, (2 * lam) ** (-1 / 6))
        if a is not None:
            scale = min(scale, np.sqrt(a))
        n_grid = 2 * int(np.ceil(6 * x_max / scale)) + 1
    return (lambda x: lam * (x**2 - eta2) ** 2), x_max, n_grid


def double_well_exact(
    a: float,
    lam: float,
    eta: float,
    N: int | None = None,
    *,
    n_grid: int | None = None,
    x_max: float | None = None,
    n_levels: int = 6,
) -> dict:
    r"""Exact results for the lattice double well $S = \sum_i [(x_{i+1}-x_i)^2/2a +
    a\lambda(x_i^2-\eta^2)^2]$: `transfer_matrix_exact` with $V(x) = \lambda(x^2-\eta^2)^2$.

    Monte Carlo of `dphys.lattice.quantum.DoubleWellAction(a, lam, eta)` on `N` sites must
    agree with `"x2"` and `"correlator"` within errors; `"gap"` is the lattice gap at this $a$
    (it tends to the continuum gap of `double_well_hamiltonian` as $O(a^2)$).

    **Arguments:** `a` > 0, `lam` > 0, `eta`; `N` (optional) periodic lattice size; grid
    defaults: `x_max` where the WKB ground-state weight is below $e^{-60}$ (and $NaV > 60$),
    `n_grid` with spacing $\min(\sqrt a, \ell)/6$, $\ell$ the well's oscillator length.

    **Returns:** as `transfer_matrix_exact`.
    """
    a = _check_real(a, "a", lambda v: v > 0, "a time spacing a > 0")
    N = None if N is None else check_int_range(N, "N", 2)
    potential, x_max, n_grid = _double_well_grid(lam, eta, a, N, x_max, n_grid)
    return transfer_matrix_exact(potential, a, N, x_max=x_max, n_grid=n_grid, n_levels=n_levels)


def double_well_log_z(a: float, lam: float, eta: float, N: int) -> float:
    r"""$\log Z = \log\int\prod_i dx_i\, e^{-S}$ of the periodic lattice double well on `N` sites
    (`double_well_exact`'s action), from the transfer-matrix spectrum:
    $\log Z = \log\sum_n \lambda_n^N + (N/2)\log(2\pi a)$, $\lambda_n = e^{-a E_n}$.

    Uses as many levels (60, 40, 20 or 10) as the grid resolves at this `a`, and raises
    ValueError when the neglected levels would contribute more than $10^{-10}$ (relative).

    **Arguments:** `a` > 0, `lam` > 0, `eta`, `N` >= 2 sites.

    **Returns:** $\log Z$, a float (nats).
    """
    N = check_int_range(N, "N", 2)
    for n_levels in (60, 40, 20, 10):  # as many levels as the grid resolves (coarse a: fewer)
        try:
            e = np.asarray(double_well_exact(a, lam, eta, N, n_levels=n_levels)["energies"])
            break
        except ValueError:
            continue
    if np.exp(-N * a * (e[-1] - e[0])) > 1e-10:
        raise ValueError(f"double_well_log_z: {len(e)} levels do not converge the sum at T = {1 / (N * a):.4g}")
    return float(-N * a * e[0] + np.log(np.sum(np.exp(-N * a * (e - e[0])))) + N / 2 * np.log(2 * np.pi * a))


def double_well_hamiltonian(
    lam: float, eta: float, *, n_levels: int = 6, n_grid: int | None = None, x_max: float | None = None
) -> np.ndarray:
    r"""Lowest eigenvalues of the continuum $H = p^2/2 + \lambda(x^2 - \eta^2)^2$ by
    `hamiltonian_spectrum`; grid defaults as in `double_well_exact` without the lattice terms.
    The tunnelling gap is `E[1] - E[0]`."""
    potential, x_max, n_grid = _double_well_grid(lam, eta, None, None, x_max, n_grid)
    return hamiltonian_spectrum(potential, x_max=x_max, n_grid=n_grid, n_levels=n_levels)
