"""The HAL QCD synthesis, extraction and scattering checks run in float64: every test in this
package runs inside `jax.enable_x64(True)` (restored afterwards, so other packages keep their
default precision)."""

import jax
import pytest


@pytest.fixture(scope="package", autouse=True)
def float64():
    with jax.enable_x64(True):
        yield
