"""The femtoscopy solvers need float64 (they build on dphys.scattering): every test in this package
runs inside `jax.enable_x64(True)` (restored afterwards, so other packages keep their precision)."""

import jax
import pytest


@pytest.fixture(scope="package", autouse=True)
def float64():
    with jax.enable_x64(True):
        yield
