"""Bad input fails at once with a ValueError naming the value; problems in traced values (inside vmap
or jit) and non-finite potentials fail at run time with a clear message, never as a silent NaN."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dphys.scattering import (
    GaussianSum,
    SquareWell,
    binding_energy,
    coulomb_functions,
    effective_range,
    phase_shift,
    wavefunction,
)

MU = 469.459


@pytest.mark.parametrize("k", [0.0, -0.3, np.nan])
def test_non_positive_momentum(k):
    with pytest.raises(ValueError, match=r"k must be a finite number > 0 \[fm\^-1\], got"):
        phase_shift(GaussianSum(), k, mass=MU)


def test_momentum_inside_vmap_is_checked_at_run_time():
    with pytest.raises(Exception, match="k must be a finite number > 0"):
        shifts = jax.vmap(lambda k: phase_shift(SquareWell(-50.0, 2.0), k, mass=MU))(jnp.array([0.5, -0.5] * 16))
        jax.block_until_ready(shifts)


@pytest.mark.parametrize("mass", [0.0, -938.0])
def test_non_positive_mass(mass):
    with pytest.raises(ValueError, match="mass .*the reduced mass.* must be a finite number > 0 \\[MeV\\], got"):
        phase_shift(GaussianSum(), 0.3, mass=mass)
    with pytest.raises(ValueError, match="mass"):
        binding_energy(GaussianSum(), mass=mass)


def test_bad_partial_wave_grid_and_shape():
    with pytest.raises(ValueError, match="partial wave l must be a Python int >= 0, got -1"):
        phase_shift(GaussianSum(), 0.3, mass=MU, l=-1)
    with pytest.raises(ValueError, match="r must be finite, >= 0 and ascending"):
        wavefunction(GaussianSum(), 0.3, np.array([1.0, 0.5]), mass=MU)
    with pytest.raises(ValueError, match="k must be a scalar .vmap for batches."):
        phase_shift(GaussianSum(), np.array([0.1, 0.2]), mass=MU)
    with pytest.raises(ValueError, match="k_fit must be >= 2 distinct positive momenta"):
        effective_range(GaussianSum(), mass=MU, k_fit=[0.01, 0.01])
    with pytest.raises(ValueError, match="rho must be > 0"):
        coulomb_functions(0, 0.5, np.array([1.0, 0.0]))


def test_potential_returning_nan_is_a_clear_error():
    k = jnp.linspace(0.1, 1.0, 32)  # the batch shape of test_radial.py: no extra compilation
    with pytest.raises(Exception, match="potential returned a non-finite value"):
        jax.block_until_ready(jax.vmap(lambda k: phase_shift(SquareWell(np.nan, 2.0), k, mass=MU))(k))


def test_float32_is_refused_with_instructions():
    with jax.enable_x64(False):
        with pytest.raises(ValueError, match="needs float64"):
            phase_shift(GaussianSum(), 0.3, mass=MU)
