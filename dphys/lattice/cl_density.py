r"""The exact complex Langevin distribution $P(x, y)$ of Gaussian actions (real noise).

For $S(z) = \tfrac12 z^T M z$ with a complex symmetric $n\times n$ matrix $M = M_r + iM_i$, the
CL drift $K = -Mz$ is linear, so with real noise CL is an Ornstein-Uhlenbeck process for the
real state $v = (x, y) \in \mathbb R^{2n}$:

$$ dv = A v\, dt + B\, dW, \qquad A = \begin{pmatrix} -M_r & M_i \\ -M_i & -M_r\end{pmatrix},
   \qquad BB^T = D = \begin{pmatrix} 2I & 0 \\ 0 & 0\end{pmatrix}. $$

$A$ is the real form of $-M$: its eigenvalues are $-\lambda_k$ and $-\bar\lambda_k$ for the
eigenvalues $\lambda_k$ of $M$. When every $\mathrm{Re}\,\lambda_k > 0$ the process has a unique
stationary distribution, the Gaussian $\mathcal N(0, \Sigma)$ whose covariance solves the
continuous Lyapunov equation

$$ A\Sigma + \Sigma A^T + D = 0 $$

(`gaussian_cl_covariance`). For the Euler scheme with step $\epsilon$,
$v_{k+1} = (I + \epsilon A)v_k + \sqrt{\epsilon}\,B\eta_k$, the stationary covariance solves the
discrete Lyapunov equation $\Sigma = F\Sigma F^T + \epsilon D$, $F = I + \epsilon A$ (it exists
when the spectral radius of $F$ is below 1). For one variable, $M = \sigma = a + ib$, this gives
the closed forms $\langle x^2\rangle = (2a^2 + b^2)/(2a|\sigma|^2)$, $\langle y^2\rangle =
b^2/(2a|\sigma|^2)$, $\langle xy\rangle = -b/(2|\sigma|^2)$ of `GaussianAction.cl_covariance`, derived
there independently from the mode equations.

The state is ordered $(x_1..x_n, y_1..y_n)$ in the covariance; `gaussian_cl_log_density` takes
states in the `(..., n, 2)` pair layout of `dphys.lattice.complex_langevin`.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from jaxtyping import ArrayLike, Float

__all__ = ["drift_matrix", "gaussian_cl_covariance", "gaussian_cl_log_density"]


def _check_matrix(matrix: ArrayLike) -> np.ndarray:
    m = np.atleast_2d(np.asarray(matrix, dtype=np.complex128))
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"the action matrix M has shape {np.shape(matrix)}: expected a square (n, n) matrix")
    if not np.all(np.isfinite(m)):
        raise ValueError("the action matrix M has non-finite entries")
    if not np.allclose(m, m.T, rtol=1e-12, atol=1e-12 * np.abs(m).max()):
        raise ValueError("the action matrix M must be complex symmetric (S = z^T M z / 2, M = M^T; not Hermitian)")
    eig = np.linalg.eigvals(m)
    if np.any(eig.real <= 0):
        bad = eig[np.argmin(eig.real)]
        raise ValueError(
            f"the action matrix M has an eigenvalue {bad:.6g} with Re <= 0: the integral of exp(-z^T M z/2) "
            "diverges and complex Langevin has no stationary distribution; expected Re of every eigenvalue > 0"
        )
    return m


def drift_matrix(matrix: ArrayLike) -> Float[np.ndarray, "two_n two_n"]:
    r"""$A = [[-M_r, M_i], [-M_i, -M_r]]$, the CL drift $dv/dt = Av$ of $v = (x, y)$ for $S = z^TMz/2$.

    **Arguments:** `matrix` $M$, complex symmetric (n, n) (a scalar for one variable).

    **Returns:** float64 array (2n, 2n).
    """
    m = _check_matrix(matrix)
    return np.block([[-m.real, m.imag], [-m.imag, -m.real]])


def gaussian_cl_covariance(matrix: ArrayLike, dt: float = 0.0) -> Float[np.ndarray, "two_n two_n"]:
    r"""Stationary covariance $\Sigma$ of complex Langevin (real noise) for $S = z^TMz/2$, over
    $v = (x_1..x_n, y_1..y_n)$: the continuous Lyapunov solution for `dt = 0`, else the exact
    stationary covariance of the Euler scheme with step `dt` (module docstring).

    **Arguments:** `matrix` $M$ (complex symmetric, every eigenvalue with Re > 0, otherwise
    `ValueError`: the integral diverges); `dt` >= 0.

    **Returns:** float64 (2n, 2n), symmetric positive semi-definite.
    """
    a = drift_matrix(matrix)
    n = a.shape[0] // 2
    dt = float(dt)
    if not (np.isfinite(dt) and dt >= 0):
        raise ValueError(f"dt={dt}: expected a finite step >= 0")
    d = np.zeros_like(a)
    d[:n, :n] = 2 * np.eye(n)
    if dt == 0:
        sigma = scipy.linalg.solve_continuous_lyapunov(a, -d)
    else:
        f = np.eye(2 * n) + dt * a
        radius = np.abs(np.linalg.eigvals(f)).max()
        if radius >= 1:
            raise ValueError(
                f"dt={dt}: the Euler scheme is unstable (spectral radius of I + dt A = {radius:.6g} >= 1): "
                "there is no stationary distribution; reduce dt"
            )
        sigma = scipy.linalg.solve_discrete_lyapunov(f, dt * d)
    return (sigma + sigma.T) / 2


def gaussian_cl_log_density(matrix: ArrayLike, xy: ArrayLike, dt: float = 0.0) -> np.ndarray:
    r"""$\log P(x, y)$ (nats) of the stationary CL distribution $\mathcal N(0, \Sigma)$ of
    $S = z^TMz/2$ at states `xy` of shape `(..., n, 2)` (pairs $(x_i, y_i)$; for one variable
    `(..., 2)` is accepted too).

    **Returns:** float64 array of shape `xy.shape[:-2]` (or `xy.shape[:-1]` for one variable).
    """
    sigma = gaussian_cl_covariance(matrix, dt)
    n = sigma.shape[0] // 2
    xy = np.asarray(xy, dtype=np.float64)
    if n == 1 and xy.shape[-1:] == (2,) and (xy.ndim < 2 or xy.shape[-2] != 1):
        xy = xy[..., None, :]
    if xy.shape[-2:] != (n, 2):
        raise ValueError(f"states of shape {xy.shape}: expected (..., {n}, 2) pairs (x, y) of {n} variables")
    v = np.concatenate([xy[..., 0], xy[..., 1]], axis=-1)
    if np.linalg.eigvalsh(sigma).min() <= 1e-12 * np.abs(sigma).max():
        raise ValueError("the CL distribution is degenerate (singular covariance; e.g. y = 0 for a real M): "
                         "it has no density in (x, y)")
    chol = np.linalg.cholesky(sigma)
    w = scipy.linalg.solve_triangular(chol, v.reshape(-1, 2 * n).T, lower=True).T.reshape(v.shape)
    log_det = 2 * np.sum(np.log(np.diag(chol)))
    return -0.5 * np.sum(w**2, axis=-1) - 0.5 * log_det - n * np.log(2 * np.pi)
