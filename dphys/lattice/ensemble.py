"""Monte Carlo ensembles on disk: samples plus the metadata that says what they are.

An ensemble is one `.npz` file holding the samples (one array under `samples`, or a dict of
arrays under `samples/<name>`), array-valued extras under `extra/<name>`, and a JSON string
`metadata`: the theory name, its parameters, the sampler settings, the seed, the other extras,
the dphys version and a format number. Files are written atomically (a temporary file in the
same directory, fsync, `os.replace`), so an interrupted run never leaves a truncated ensemble,
and read with `allow_pickle=False`. Non-finite samples are refused on save and on load.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from jaxtyping import ArrayLike

from dphys._io import atomic_write
from dphys._version import __version__

__all__ = ["Ensemble", "load_ensemble", "save_ensemble"]

FORMAT = 1
_REQUIRED = ("format", "theory", "params", "sampler", "seed")


class Ensemble(NamedTuple):
    """A loaded ensemble.

    **Fields:** `samples` (a NumPy array with the sample axis first, or a dict of them);
    `theory` (its name, e.g. `"phi4"`, `"u1"`); `params` (the theory's parameters) and
    `sampler` (the sampler settings), as dicts after a JSON round trip (tuples become lists);
    `seed` (int); `extra` (dict of the other keyword arguments given to `save_ensemble`:
    arrays as NumPy arrays, anything else after a JSON round trip); `dphys_version` that
    wrote it.
    """

    samples: np.ndarray | dict[str, np.ndarray]
    theory: str
    params: dict[str, Any]
    sampler: dict[str, Any]
    seed: int
    extra: dict[str, Any]
    dphys_version: str


def _check_finite(where: str, array: np.ndarray) -> None:
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(f"{where} has dtype {array.dtype}; expected numbers")
    bad = ~np.isfinite(array)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{where} contains {int(bad.sum())} non-finite value(s) (NaN or inf), the first at index "
            f"{first}; expected finite samples"
        )


def _to_json(o: Any) -> Any:
    if hasattr(o, "tolist"):  # NumPy and JAX arrays and scalars
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and np.ndim(value) > 0


def save_ensemble(
    path: str | os.PathLike,
    samples: ArrayLike | dict[str, ArrayLike],
    *,
    theory: str,
    params: dict[str, Any],
    sampler: dict[str, Any],
    seed: int,
    **extra: Any,
) -> Path:
    """Write an ensemble to `path` (`.npz`, written exactly there, atomically).

    **Arguments:**

    - `path`: the file to write (its directory must exist); an existing file is replaced.
    - `samples`: an array (sample axis first) or a dict of arrays, finite numbers.
    - `theory`: non-empty name of the theory (`load_ensemble` checks it).
    - `params`, `sampler`: JSON-serialisable dicts (NumPy/JAX numbers and arrays become
      numbers and lists).
    - `seed`: the integer seed of the run.
    - `**extra`: anything else useful (acceptance, step size, timings): arrays of rank >= 1 are
      stored as arrays, other values in the JSON metadata.

    **Returns:** the path written, a `pathlib.Path`.
    """
    if not (isinstance(theory, str) and theory):
        raise ValueError(f"save_ensemble: theory must be a non-empty string, got {theory!r}")
    for name, value in (("params", params), ("sampler", sampler)):
        if not isinstance(value, dict):
            raise ValueError(f"save_ensemble: {name} must be a dict, got {type(value).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"save_ensemble: seed must be an int, got {seed!r}")
    arrays = {}
    if isinstance(samples, dict):
        if not samples:
            raise ValueError("save_ensemble: the samples dict is empty")
        for name, value in samples.items():
            if not isinstance(name, str):
                raise ValueError(f"save_ensemble: sample names must be strings, got {name!r}")
            arrays[f"samples/{name}"] = np.asarray(value)
    else:
        arrays["samples"] = np.asarray(samples)
    for key, value in arrays.items():
        _check_finite(f"save_ensemble: {key}", value)
    arrays |= {f"extra/{name}": np.asarray(value) for name, value in extra.items() if _is_array(value)}
    metadata = {
        "format": FORMAT,
        "theory": theory,
        "params": params,
        "sampler": sampler,
        "seed": int(seed),
        "extra": {name: value for name, value in extra.items() if not _is_array(value)},
        "dphys_version": __version__,
    }
    try:
        arrays["metadata"] = np.array(json.dumps(metadata, default=_to_json))
    except TypeError as err:
        raise ValueError(f"save_ensemble: the metadata is not JSON serialisable: {err}") from None
    path = Path(path)
    atomic_write(path, lambda f: np.savez(f, **arrays))
    return path


def load_ensemble(path: str | os.PathLike, *, theory: str | None = None) -> Ensemble:
    """Read an ensemble written by `save_ensemble`.

    **Arguments:** `path` of the `.npz` file; `theory`: when given, the ensemble must be of
    this theory.

    **Returns:** an `Ensemble`.

    **Raises:** `ValueError` when the file has no or incomplete metadata, holds another theory
    than `theory`, or its samples contain NaN or inf (naming their count and the first index).
    """
    with np.load(path, allow_pickle=False) as data:
        if "metadata" not in data.files:
            raise ValueError(f"{path} has no metadata: not an ensemble written by save_ensemble")
        try:
            meta = json.loads(str(data["metadata"]))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: the metadata is not valid JSON ({err})") from None
        if not isinstance(meta, dict):
            raise ValueError(f"{path}: the metadata is not a JSON object")
        missing = [key for key in _REQUIRED if key not in meta]
        if missing:
            raise ValueError(f"{path}: the metadata lacks {missing}; expected all of {list(_REQUIRED)}")
        if meta["format"] != FORMAT:
            raise ValueError(f"{path} has ensemble format {meta['format']!r}, this dphys reads format {FORMAT}")
        if theory is not None and meta["theory"] != theory:
            raise ValueError(f"{path} holds a {meta['theory']!r} ensemble, expected {theory!r}")
        stored = {key: data[key] for key in data.files if key == "samples" or key.startswith("samples/")}
        if not stored:
            raise ValueError(f"{path} holds no samples")
        for key, value in stored.items():
            _check_finite(f"{path}: {key}", value)
        samples = stored["samples"] if "samples" in stored else {
            key.removeprefix("samples/"): value for key, value in stored.items()
        }
        extra = meta.get("extra", {}) | {
            key.removeprefix("extra/"): data[key] for key in data.files if key.startswith("extra/")
        }
    return Ensemble(samples, meta["theory"], meta["params"], meta["sampler"], meta["seed"], extra,
                    meta.get("dphys_version", "unknown"))
