r"""`langevin-0d`: stochastic quantisation of the 0-D anharmonic toy $S = \mu x^2/2 + g x^4/4!$.

Langevin dynamics $dx = -S'(x)\,dt + \sqrt 2\, dW$ has $e^{-S}/Z$ as its stationary
distribution. Chains run through the SDE core (`dphys.integrate_sde`) in chunks (a progress bar
shows the running $\langle x^2 \rangle$), measurements are taken every `measure_every` units of
Langevin time after `therm`, and $\langle x^2\rangle$, $\langle x^4\rangle$, $\langle |x|\rangle$
are reported with errors that account for autocorrelation (`dphys.stats`), beside their exact
values by quadrature. With the default solver (ShARK, weak order 2) the step-size bias at
dt = 0.01 is far below the statistical error.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from dphys.lattice import AnharmonicAction, density_1d, expectation_1d, langevin_drift
from dphys.report import Report
from dphys.sde import SDE_SOLVERS, integrate_sde
from dphys.stats import integrated_autocorrelation_time, mean_with_autocorrelation
from dphys.workflows import Param, Workflow, nonnegative, positive, register

OBSERVABLES = {"x2": lambda x: x**2, "x4": lambda x: x**4, "abs_x": np.abs}


def sample(action: AnharmonicAction, config: dict[str, Any], key, progress: bool = True) -> np.ndarray:
    """Langevin samples x of shape (measurements, chains), after thermalisation."""
    dt, every = config["dt"], config["measure_every"]
    per_chunk = max(1, round(config["time"] / every / config["chunks"]))
    ts = every * np.arange(per_chunk + 1)  # local time of one chunk; the SDE is autonomous
    drift, noise = langevin_drift(action), lambda t, x, args: jnp.sqrt(2.0)

    # The chains are the components of one state vector: the action is a sum over them and the
    # noise is diagonal, so they are independent; one solve for all of them is much cheaper than
    # a vmap over per-chain keys when each chain is a single number (see dphys.sde).
    @jax.jit
    def chunk(x, key):
        return integrate_sde(drift, noise, x, ts, key, dt=dt, solver=config["solver"])[1:].T

    key, init_key, therm_key = jax.random.split(key, 3)
    x = jax.random.normal(init_key, (config["chains"],))  # chains start in both wells
    if config["therm"] > 0:
        x = jax.jit(lambda x, k: integrate_sde(
            drift, noise, x, [0.0, config["therm"]], k, dt=dt, solver=config["solver"])[-1]
        )(x, therm_key)
    samples = []
    with tqdm(total=config["chunks"], desc="langevin-0d", disable=not progress) as bar:
        for i in range(config["chunks"]):
            xs = chunk(x, jax.random.fold_in(key, i))  # (chains, per_chunk)
            x = xs[:, -1]
            samples.append(np.asarray(xs))
            bar.set_postfix(x2=f"{np.mean(np.concatenate(samples, axis=1) ** 2):.4f}")
            bar.update()
    return np.concatenate(samples, axis=1).T


def run(config: dict[str, Any], report: Report) -> None:
    action = AnharmonicAction(mu=config["mu"], g=config["g"])
    x = sample(action, config, jax.random.PRNGKey(config["seed"]))
    if not np.all(np.isfinite(x)):
        raise FloatingPointError(
            f"Langevin chains ran away (non-finite x); reduce --dt={config['dt']}"
        )
    exact = expectation_1d(action, list(OBSERVABLES.values()))
    for (name, obs), reference in zip(OBSERVABLES.items(), exact):
        est = mean_with_autocorrelation(obs(x))
        report.add(name, est.value, est.error, reference)
    tau = integrated_autocorrelation_time(x**2)
    report.add("tau_int_x2", tau.tau, tau.error, unit="Langevin time / measure_every")
    report.add("samples", x.size)

    with report.figure("histogram") as (fig, ax):
        grid = np.linspace(x.min() - 0.5, x.max() + 0.5, 400)
        ax.hist(x.ravel(), bins=120, density=True, alpha=0.6, label=f"Langevin ({x.size} samples)")
        ax.plot(grid, density_1d(action, grid), "k-", lw=1.5, label=r"exact $e^{-S}/Z$")
        ax.set(xlabel="x", ylabel="density",
               title=rf"$S = \mu x^2/2 + g x^4/4!$, $\mu$={config['mu']}, g={config['g']}")
        ax.legend()
    with report.figure("trajectory") as (fig, ax):
        t = config["measure_every"] * np.arange(x.shape[0])
        ax.plot(t, x[:, 0], lw=0.5)
        ax.set(xlabel="Langevin time (after thermalisation)", ylabel="x (chain 0)")


WORKFLOW = register(
    Workflow(
        name="langevin-0d",
        description="Stochastic quantisation of the 0-D anharmonic oscillator S = mu x^2/2 + g x^4/4! "
        "against exact moments",
        run=run,
        params=(
            Param("mu", -1.0, "quadratic coupling (negative: double well)"),
            Param("g", 0.4, "quartic coupling", check=positive),
            Param("dt", 0.01, "Langevin step size", unit="Langevin time", check=positive),
            Param("chains", 512, "independent chains (batched in one state)", quick=256, check=positive),
            Param("time", 4000.0, "Langevin time per chain after thermalisation", unit="Langevin time",
                  quick=500.0, check=positive),
            Param("therm", 20.0, "thermalisation time discarded", unit="Langevin time", check=nonnegative),
            Param("measure_every", 0.2, "time between measurements", unit="Langevin time", check=positive),
            Param("chunks", 20, "chunks of the run (progress updates)", quick=10, check=positive),
            Param("solver", "shark", "SDE solver (additive noise)", choices=tuple(SDE_SOLVERS)),
        ),
    )
)
