"""Monte Carlo statistics: error analysis for (possibly autocorrelated) samples.

This module post-processes samples produced elsewhere in ``dphys`` (Markov
chain Monte Carlo on lattice fields, SDE ensembles, ...). It is plain NumPy in
float64: inputs may be NumPy or JAX arrays, they are converted with
``np.asarray(x, dtype=np.float64)``, and nothing here is traced or
differentiated.

Contents
--------
* Means with error bars: :func:`mean` (iid), :func:`binned_mean` (binning),
  :func:`mean_with_autocorrelation` (Wolff's automatic windowing).
* Resampling of arbitrary, possibly nonlinear, estimators of PyTrees of
  samples: :func:`jackknife` (delete-one-block) and :func:`bootstrap`
  (moving-block).
* Autocorrelations: :func:`autocorrelation` and
  :func:`integrated_autocorrelation_time`, following U. Wolff, "Monte Carlo
  errors with less errors", Comput. Phys. Commun. 156 (2004) 143
  [hep-lat/0306017], with the error estimate of N. Madras and A. D. Sokal,
  J. Stat. Phys. 50 (1988) 109.
* Cumulants: Fisher's unbiased k-statistics (:func:`kstatistics`) and their
  jackknife errors (:func:`cumulants`).

Conventions
-----------
* Samples run along axis 0 unless an ``axis`` argument says otherwise.
* For the autocorrelation functions an array of shape ``(T,)`` is one chain,
  ``(T, C)`` is ``C`` independent chains of the same observable, and
  ``(T, C, *obs)`` is ``C`` chains of a batch of observables of shape ``obs``
  that are analysed independently (pass ``x[:, None]`` to analyse the columns
  of a ``(T, K)`` array as ``K`` separate single-chain observables).
* ``tau_int = 1/2`` for uncorrelated data, so that the squared error of a mean
  of ``N`` samples is ``2 tau_int var / N``.
* Invalid input (empty or non-finite data, non-positive sizes, too few
  samples, ...) raises :class:`ValueError` naming the offending value.
* Results that are scalars are returned as Python ``float``/``int``; batched
  results are NumPy arrays.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from numbers import Real
from typing import Any, NamedTuple

import jax
import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "Estimate",
    "TauInt",
    "mean",
    "binned_mean",
    "jackknife",
    "bootstrap",
    "autocorrelation",
    "integrated_autocorrelation_time",
    "mean_with_autocorrelation",
    "kstatistics",
    "cumulants",
]

_MAX_KSTAT_ORDER = 6


class Estimate(NamedTuple):
    """A central value with its one-standard-deviation error.

    Both fields are Python floats for scalar estimates and NumPy arrays of
    equal shape for batched ones.
    """

    value: float | np.ndarray
    error: float | np.ndarray


class TauInt(NamedTuple):
    """Integrated autocorrelation time with its error and summation window.

    ``tau`` and ``error`` are floats (arrays for batched observables);
    ``window`` is the integer summation window ``W`` (array of ints when
    batched).
    """

    tau: float | np.ndarray
    error: float | np.ndarray
    window: int | np.ndarray


# ---------------------------------------------------------------------------
# Input validation and small helpers
# ---------------------------------------------------------------------------


def _as_samples(x: ArrayLike, name: str = "x") -> np.ndarray:
    """Convert to a non-empty, finite float64 array with at least one axis."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        raise ValueError(f"{name} is a scalar; expected an array of samples")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); expected samples")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} contains {int(bad.sum())} non-finite value(s) "
            f"(first {arr[first]} at index {first}); expected finite samples"
        )
    return arr


def _check_int(value: Any, name: str, minimum: int) -> int:
    """Check that ``value`` is an integer ``>= minimum`` and return it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}={value!r}: expected an integer >= {minimum}")
    if value < minimum:
        raise ValueError(f"{name}={value}: expected an integer >= {minimum}")
    return int(value)


def _require_samples(n: int, needed: int, what: str) -> None:
    if n < needed:
        raise ValueError(f"{n} sample(s) given; {what} needs at least {needed}")


def _unwrap(a: np.ndarray | np.generic) -> float | np.ndarray:
    """Return 0-d arrays as Python floats, anything else unchanged."""
    a = np.asarray(a)
    return float(a) if a.ndim == 0 else a


# ---------------------------------------------------------------------------
# Means
# ---------------------------------------------------------------------------


def mean(x: ArrayLike, axis: int = 0) -> Estimate:
    """Sample mean with the naive (independent samples) standard error.

    ``value = sum_i x_i / n`` and ``error = s / sqrt(n)`` with ``s`` the
    sample standard deviation (``ddof=1``). Correct only for uncorrelated
    samples; see :func:`binned_mean` and :func:`mean_with_autocorrelation`
    for Markov chain data.

    **Arguments**

    - ``x``: samples, any shape; the mean is taken along ``axis``.
    - ``axis``: the sample axis.

    **Returns**

    An :class:`Estimate` with the shape of ``x`` without ``axis``.
    """
    arr = np.moveaxis(_as_samples(x), axis, 0)
    n = arr.shape[0]
    _require_samples(n, 2, "an error estimate")
    return Estimate(
        _unwrap(arr.mean(axis=0)), _unwrap(arr.std(axis=0, ddof=1) / math.sqrt(n))
    )


def binned_mean(x: ArrayLike, bin_size: Any, axis: int = 0) -> Estimate:
    """Mean with the error estimated from the means of non-overlapping bins.

    The series is cut into ``n_b = n // bin_size`` consecutive bins (the last
    ``n % bin_size`` samples are dropped). If the bins are much longer than the
    autocorrelation time their means are nearly independent, and
    ``value = mean of bin means``, ``error = std(bin means, ddof=1) /
    sqrt(n_b)``. For ``bin_size = 1`` this reduces to :func:`mean`. The
    binned error underestimates the true one by a relative amount of order
    ``tau_int / bin_size``.

    **Arguments**

    - ``x``: samples, any shape, in time order along ``axis``.
    - ``bin_size``: number of consecutive samples per bin (positive integer).
    - ``axis``: the sample (time) axis.

    **Returns**

    An :class:`Estimate` with the shape of ``x`` without ``axis``.
    """
    bin_size = _check_int(bin_size, "bin_size", 1)
    arr = np.moveaxis(_as_samples(x), axis, 0)
    n_bins = arr.shape[0] // bin_size
    if n_bins < 2:
        raise ValueError(
            f"bin_size={bin_size} leaves {n_bins} bin(s) of {arr.shape[0]} "
            "samples; expected at least 2 bins"
        )
    bins = arr[: n_bins * bin_size].reshape(n_bins, bin_size, *arr.shape[1:])
    return mean(bins.mean(axis=1))


# ---------------------------------------------------------------------------
# Resampling of general estimators
# ---------------------------------------------------------------------------


def _sample_tree(data: Any) -> tuple[Any, int]:
    """Convert every leaf to a validated float64 array; return the tree and T."""
    tree = jax.tree_util.tree_map(lambda a: _as_samples(a, "data leaf"), data)
    leaves = jax.tree_util.tree_leaves(tree)
    if not leaves:
        raise ValueError(f"data={data!r} has no array leaves; expected samples")
    lengths = {leaf.shape[0] for leaf in leaves}
    if len(lengths) != 1:
        raise ValueError(
            f"data leaves have leading (sample) axes of lengths {sorted(lengths)}; "
            "expected a common number of samples"
        )
    return tree, lengths.pop()


def _take(tree: Any, index: np.ndarray) -> Any:
    """Select samples (leading axis) of every leaf with an index or mask."""
    return jax.tree_util.tree_map(lambda a: a[index], tree)


def _evaluate(fn: Callable[[Any], ArrayLike], tree: Any) -> np.ndarray:
    return np.asarray(fn(tree), dtype=np.float64)


def jackknife(
    fn: Callable[[Any], ArrayLike], data: Any, n_blocks: int = 20
) -> Estimate:
    """Delete-one-block jackknife estimate of ``fn(data)`` and its error.

    The ``T`` samples are split into ``n`` = ``n_blocks`` contiguous blocks
    (sizes differ by at most one; no sample is dropped). With ``theta_i =
    fn(data without block i)`` and ``theta_bar`` their mean,

    ``value = fn(data)``,
    ``error = sqrt((n - 1) / n * sum_i (theta_i - theta_bar)^2)``.

    ``fn`` may be nonlinear (ratios of means, cumulants, ...); contiguous blocks
    much longer than the integrated autocorrelation time also account for
    autocorrelations. (Efron & Stein 1981; for blocking see e.g. Wolff 2004,
    Sec. 2.) ``fn`` is evaluated ``n_blocks + 1`` times.

    **Arguments**

    - ``fn``: maps a PyTree shaped like ``data`` (leaves are float64 NumPy
      arrays with fewer samples) to a float or array.
    - ``data``: an array or a PyTree (tuple, dict, ...) of arrays sharing a
      leading sample axis of length ``T``.
    - ``n_blocks``: number of jackknife blocks, ``2 <= n_blocks <= T``.

    **Returns**

    An :class:`Estimate` shaped like the output of ``fn``.
    """
    n_blocks = _check_int(n_blocks, "n_blocks", 2)
    tree, n = _sample_tree(data)
    if n < n_blocks:
        raise ValueError(
            f"n_blocks={n_blocks} exceeds the number of samples {n}; "
            "expected at most one block per sample"
        )
    edges = (np.arange(n_blocks + 1) * n) // n_blocks
    leave_one_out = []
    for start, stop in zip(edges[:-1], edges[1:]):
        keep = np.ones(n, dtype=bool)
        keep[start:stop] = False
        leave_one_out.append(_evaluate(fn, _take(tree, keep)))
    thetas = np.stack(leave_one_out)
    spread = ((thetas - thetas.mean(axis=0)) ** 2).sum(axis=0)
    error = np.sqrt((n_blocks - 1) / n_blocks * spread)
    return Estimate(_unwrap(_evaluate(fn, tree)), _unwrap(error))


def bootstrap(
    fn: Callable[[Any], ArrayLike],
    data: Any,
    key_or_seed: int | np.random.Generator,
    n_resamples: int = 500,
    block_size: int = 1,
) -> Estimate:
    """Moving-block bootstrap estimate of ``fn(data)`` and its error.

    Each resample is built from ``ceil(T / block_size)`` blocks of
    ``block_size`` consecutive samples whose starting points are drawn
    uniformly (with replacement) from all ``T - block_size + 1`` positions,
    concatenated and truncated to ``T`` samples (Kuensch 1989; for
    ``block_size = 1`` the ordinary iid bootstrap of Efron 1979). Then

    ``value = fn(data)``, ``error = std_b(fn(resample_b))`` (``ddof=1``).

    Blocks much longer than the autocorrelation time preserve the correlation
    within blocks. ``fn`` is evaluated ``n_resamples + 1`` times.

    **Arguments**

    - ``fn``: maps a PyTree shaped like ``data`` (leaves are float64 NumPy
      arrays) to a float or array.
    - ``data``: an array or a PyTree of arrays sharing a leading sample axis
      of length ``T``.
    - ``key_or_seed``: an integer seed for ``numpy.random.default_rng`` or a
      ``numpy.random.Generator`` (used, and advanced, as is). JAX keys are not
      accepted: the resampling is NumPy-side.
    - ``n_resamples``: number of bootstrap resamples (at least 2).
    - ``block_size``: length of the resampled blocks, ``1 <= block_size <= T``.

    **Returns**

    An :class:`Estimate` shaped like the output of ``fn``.
    """
    if isinstance(key_or_seed, np.random.Generator):
        rng = key_or_seed
    else:
        rng = np.random.default_rng(_check_int(key_or_seed, "key_or_seed", 0))
    n_resamples = _check_int(n_resamples, "n_resamples", 2)
    block_size = _check_int(block_size, "block_size", 1)
    tree, n = _sample_tree(data)
    if block_size > n:
        raise ValueError(f"block_size={block_size} exceeds the number of samples {n}")
    n_per = -(-n // block_size)
    starts = rng.integers(0, n - block_size + 1, size=(n_resamples, n_per))
    indices = (starts[:, :, None] + np.arange(block_size)).reshape(n_resamples, -1)
    thetas = np.stack([_evaluate(fn, _take(tree, idx[:n])) for idx in indices])
    return Estimate(_unwrap(_evaluate(fn, tree)), _unwrap(thetas.std(axis=0, ddof=1)))


# ---------------------------------------------------------------------------
# Autocorrelations (Wolff 2004)
# ---------------------------------------------------------------------------


def _as_chains(x: ArrayLike) -> np.ndarray:
    """Validate and reshape to ``(T, C, *obs)`` (a 1-d input is one chain)."""
    arr = _as_samples(x)
    if arr.ndim == 1:
        arr = arr[:, None]
    _require_samples(arr.shape[0], 2, "an autocorrelation analysis (per chain)")
    return arr


def _fft_length(minimum: int) -> int:
    """Smallest 5-smooth integer (only factors 2, 3, 5) >= ``minimum``."""
    best = 1 << (minimum - 1).bit_length()
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            power2 = 1 << (-(-minimum // power35) - 1).bit_length()
            best = min(best, power35 * power2)
            power35 *= 3
        power5 *= 5
    return best


def _autocovariance(chains: np.ndarray, max_lag: int) -> np.ndarray:
    """Gamma(t), t = 0..max_lag, averaged over chains; shape (max_lag+1, *obs).

    ``Gamma(t) = 1/(C (T - t)) sum_c sum_{i<T-t} d_{i,c} d_{i+t,c}`` with
    ``d = x - (mean over all chains and times)``; the correlation sums are
    computed by zero-padded FFT.
    """
    n_time = chains.shape[0]
    centred = chains - chains.mean(axis=(0, 1))
    n_fft = _fft_length(2 * n_time - 1)  # zero padding: no circular wrap-around
    spectrum = np.fft.rfft(centred, n=n_fft, axis=0)
    power = spectrum.real**2 + spectrum.imag**2
    sums = np.fft.irfft(power, n=n_fft, axis=0)[: max_lag + 1]
    norm = chains.shape[1] * (n_time - np.arange(max_lag + 1))
    return sums.sum(axis=1) / norm.reshape(-1, *([1] * (sums.ndim - 2)))


def _normalised(gamma: np.ndarray) -> np.ndarray:
    if np.any(gamma[0] <= 0):
        raise ValueError(
            "x has zero variance (constant series); the autocorrelation "
            "is undefined"
        )
    return gamma / gamma[0]


def autocorrelation(x: ArrayLike, max_lag: int | None = None) -> np.ndarray:
    """Normalised autocorrelation function ``rho(t) = Gamma(t) / Gamma(0)``.

    ``Gamma(t) = 1/(C (T-t)) sum_c sum_{i=0}^{T-t-1} (x_{i,c} - xbar)
    (x_{i+t,c} - xbar)``, with ``xbar`` the mean over all ``C`` chains and
    times, i.e. the autocovariance is averaged over independent chains (Wolff
    2004, Eq. 31). The sums are computed by FFT of the zero-padded series,
    ``O(T log T)``.

    **Arguments**

    - ``x``: shape ``(T,)`` (one chain), ``(T, C)`` (``C`` chains), or
      ``(T, C, *obs)`` (a batch of observables analysed independently).
    - ``max_lag``: largest lag returned, ``1 <= max_lag < T``; default
      ``T // 2``.

    **Returns**

    Array of shape ``(max_lag + 1, *obs)`` with ``rho(0) = 1``.
    """
    chains = _as_chains(x)
    n_time = chains.shape[0]
    if max_lag is None:
        max_lag = n_time // 2
    max_lag = _check_int(max_lag, "max_lag", 1)
    if max_lag >= n_time:
        raise ValueError(
            f"max_lag={max_lag}: expected a lag below the chain length {n_time}"
        )
    return _normalised(_autocovariance(chains, max_lag))


def _wolff_window(rho: np.ndarray, n_total: int, S: float) -> TauInt:
    """Automatic windowing of Wolff (2004), Eqs. (50)-(52), vectorised."""
    lags = np.arange(1, rho.shape[0]).reshape(-1, *([1] * (rho.ndim - 1)))
    tau_int = 0.5 + np.cumsum(rho[1:], axis=0)  # tau_int(W), W = 1..max_lag
    correlated = tau_int > 0.5  # otherwise tau_W = 0 and the window closes
    safe = np.where(correlated, tau_int, 1.0)
    tau_w = S / np.log((2 * safe + 1) / (2 * safe - 1))
    g = np.exp(-lags / tau_w) - tau_w / np.sqrt(lags * n_total)
    stop = ~correlated | (g < 0)
    found = stop.any(axis=0)
    if not found.all():
        warnings.warn(
            f"Wolff windowing found no window up to W={rho.shape[0] - 1} for "
            f"{int((~found).sum())} observable(s); using the largest window. "
            "The chain is probably too short for its autocorrelation time.",
            RuntimeWarning,
            stacklevel=4,
        )
    index = np.where(found, np.argmax(stop, axis=0), rho.shape[0] - 2)
    tau = np.take_along_axis(tau_int, index[None], axis=0)[0]
    window = index + 1
    error = tau * np.sqrt(2 * (2 * window + 1) / n_total)
    return TauInt(_unwrap(tau), _unwrap(error), window if window.ndim else int(window))


def _integrated(chains: np.ndarray, S: float) -> tuple[TauInt, np.ndarray | np.generic]:
    if isinstance(S, bool) or not isinstance(S, Real) or not 0 < S < math.inf:
        raise ValueError(f"S={S!r}: expected a positive finite number (typ. 1-2)")
    n_time, n_chains = chains.shape[:2]
    gamma = _autocovariance(chains, n_time // 2)
    return _wolff_window(_normalised(gamma), n_time * n_chains, float(S)), gamma[0]


def integrated_autocorrelation_time(x: ArrayLike, S: float = 1.5) -> TauInt:
    """Integrated autocorrelation time with Wolff's automatic windowing.

    ``tau_int(W) = 1/2 + sum_{t=1}^{W} rho(t)`` with ``rho`` from
    :func:`autocorrelation`. The window is the first ``W >= 1`` with

    ``g(W) = exp(-W / tau_W) - tau_W / sqrt(W N) < 0``,
    ``tau_W = S / ln((2 tau_int(W) + 1) / (2 tau_int(W) - 1))``

    (``tau_W`` -> 0 when ``tau_int(W) <= 1/2``), which balances the truncation
    bias against the statistical error (Wolff 2004, Sec. 3.3). The error is
    the Madras-Sokal estimate ``tau_int * sqrt(2 (2W + 1) / N)``. Here ``N =
    T C`` is the total number of samples of all chains, used in both ``g`` and
    the error (Wolff's replica convention). Lags up to ``T // 2`` are searched;
    if no window is found a :class:`RuntimeWarning` is issued and ``W = T //
    2`` is used. Wolff's ``O(W/N)`` bias correction of ``Gamma`` is not
    applied. For uncorrelated data ``tau_int = 1/2``.

    **Arguments**

    - ``x``: shape ``(T,)``, ``(T, C)`` (``C`` independent chains) or
      ``(T, C, *obs)`` (observables analysed independently); ``T >= 2``.
    - ``S``: Wolff's window parameter ``S > 0`` (1-2; 1.5 is his default).

    **Returns**

    A :class:`TauInt` ``(tau, error, window)``: scalars, or arrays of shape
    ``obs``.
    """
    return _integrated(_as_chains(x), S)[0]


def mean_with_autocorrelation(x: ArrayLike, S: float = 1.5) -> Estimate:
    """Mean of autocorrelated samples with its error from ``tau_int``.

    ``value = xbar`` over all times and chains and
    ``error = sqrt(2 tau_int Gamma(0) / N)`` with ``N = T C``, ``Gamma(0)`` the
    variance about ``xbar`` (``ddof=0``) and ``tau_int`` from
    :func:`integrated_autocorrelation_time` (Wolff 2004, Eqs. 21, 35). For
    uncorrelated data this is the naive ``sigma / sqrt(N)``.

    **Arguments**

    - ``x``: shape ``(T,)``, ``(T, C)`` (``C`` independent chains of one
      observable) or ``(T, C, *obs)`` (observables analysed independently).
    - ``S``: Wolff's window parameter, see
      :func:`integrated_autocorrelation_time`.

    **Returns**

    An :class:`Estimate`: scalars, or arrays of shape ``obs``.
    """
    chains = _as_chains(x)
    tau, variance = _integrated(chains, S)
    n_total = chains.shape[0] * chains.shape[1]
    error = np.sqrt(2 * np.asarray(tau.tau) * variance / n_total)
    return Estimate(_unwrap(chains.mean(axis=(0, 1))), _unwrap(error))


# ---------------------------------------------------------------------------
# Cumulants (Fisher's k-statistics)
# ---------------------------------------------------------------------------


def _check_order(max_order: Any) -> int:
    if (
        isinstance(max_order, bool)
        or not isinstance(max_order, (int, np.integer))
        or not 1 <= max_order <= _MAX_KSTAT_ORDER
    ):
        raise ValueError(
            f"max_order={max_order!r}: expected an integer in 1..{_MAX_KSTAT_ORDER}"
        )
    return int(max_order)


def kstatistics(x: ArrayLike, max_order: int = 6, axis: int = 0) -> np.ndarray:
    """Fisher's k-statistics ``k_1 .. k_max_order``: unbiased cumulant estimators.

    ``E[k_r] = kappa_r`` exactly for every distribution with finite moments and
    every sample size ``n >= r`` (R. A. Fisher, Proc. London Math. Soc. 30
    (1929) 199; Kendall & Stuart, Advanced Theory of Statistics, Vol. 1,
    Ch. 12). ``k_1`` is the sample mean; for ``r >= 2`` ``k_r`` is shift
    invariant and is evaluated from the power sums ``S_r = sum_i d_i^r`` of
    the centred data ``d = x - xbar`` (for which ``S_1 = 0``), avoiding the
    cancellations of raw power sums. With ``(n)_r = n (n-1) ... (n-r+1)``:

    - ``k_2 = S_2 / (n-1)``
    - ``k_3 = n S_3 / ((n-1)(n-2))``
    - ``k_4 = [n (n+1) S_4 - 3 (n-1) S_2^2] / ((n-1)(n-2)(n-3))``
    - ``k_5 = n [n (n+5) S_5 - 10 (n-1) S_2 S_3] / ((n)_5 / n)``
    - ``k_6 = [n (n+1)(n^2+15n-4) S_6 - 15 (n-1)^2 (n+4) S_2 S_4
      - 10 (n-1)(n^2-n+4) S_3^2 + 30 (n-1)(n-2) S_2^3] / ((n)_6 / n)``

    **Arguments**

    - ``x``: samples, any shape; ``n`` samples along ``axis``, ``n >=
      max_order``.
    - ``max_order``: highest order returned, an integer in 1..6.
    - ``axis``: the sample axis.

    **Returns**

    Array of shape ``(max_order, *rest)`` where ``rest`` is the shape of ``x``
    without ``axis``; entry ``r - 1`` is ``k_r``.
    """
    max_order = _check_order(max_order)
    arr = np.moveaxis(_as_samples(x), axis, 0)
    n = arr.shape[0]
    _require_samples(n, max_order, f"k-statistics up to order {max_order}")
    centre = arr.mean(axis=0)
    d = arr - centre
    residual = d.mean(axis=0)  # second pass: removes rounding error of centre
    d -= residual
    s = {}  # power sums S_r of the centred data
    power = d
    for r in range(2, max_order + 1):
        power = power * d
        s[r] = power.sum(axis=0)
    # (n-1)(n-2)...(n-r+1) = (n)_r / n; float arithmetic avoids int overflow.
    nf = float(n)
    falling = np.cumprod([1.0] + [nf - j for j in range(1, _MAX_KSTAT_ORDER)])
    out = [centre + residual]
    if max_order >= 2:
        out.append(s[2] / falling[1])
    if max_order >= 3:
        out.append(nf * s[3] / falling[2])
    if max_order >= 4:
        out.append((nf * (nf + 1) * s[4] - 3 * (nf - 1) * s[2] ** 2) / falling[3])
    if max_order >= 5:
        k5 = nf * (nf * (nf + 5) * s[5] - 10 * (nf - 1) * s[2] * s[3])
        out.append(k5 / falling[4])
    if max_order >= 6:
        k6 = (
            nf * (nf + 1) * (nf**2 + 15 * nf - 4) * s[6]
            - 15 * (nf - 1) ** 2 * (nf + 4) * s[2] * s[4]
            - 10 * (nf - 1) * (nf**2 - nf + 4) * s[3] ** 2
            + 30 * (nf - 1) * (nf - 2) * s[2] ** 3
        )
        out.append(k6 / falling[5])
    return np.stack(out)


def cumulants(x: ArrayLike, max_order: int = 6, n_blocks: int = 20, symmetric: Any = False) -> Estimate:
    """Cumulants ``kappa_1 .. kappa_max_order`` with block-jackknife errors.

    ``value`` = :func:`kstatistics` of all samples (unbiased), ``error`` =
    delete-one-block :func:`jackknife` error of the k-statistics, which also
    covers autocorrelated samples when blocks are longer than ``tau_int``.

    With ``symmetric=True`` the distribution is known to be symmetric under
    ``x -> -x`` (e.g. the magnetisation of a Z2-symmetric action): the values
    are the k-statistics of the ``2n`` numbers ``x`` and ``-x`` (odd cumulants
    exactly 0), and every jackknife block deletes its samples together with
    their mirror images, so the error is that of the ``n`` measured samples.
    (Concatenating ``[x, -x]`` before an ordinary jackknife instead treats the
    mirror images as independent data and gives even-order errors ``sqrt(2)``
    too small.)

    **Arguments**

    - ``x``: samples along axis 0, any trailing shape.
    - ``max_order``: highest order, an integer in 1..6.
    - ``n_blocks``: number of jackknife blocks (at least 2, at most the number
      of samples).
    - ``symmetric``: symmetrise each sample, as above (default False).

    **Returns**

    An :class:`Estimate` of arrays of shape ``(max_order, *x.shape[1:])``.
    """
    max_order = _check_order(max_order)
    if not isinstance(symmetric, (bool, np.bool_)):
        raise ValueError(f"symmetric={symmetric!r}: expected True or False")
    if symmetric:
        return jackknife(lambda d: kstatistics(np.concatenate([d, -d]), max_order), _as_samples(x), n_blocks)
    return jackknife(lambda d: kstatistics(d, max_order), _as_samples(x), n_blocks)
