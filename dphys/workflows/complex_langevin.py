r"""`complex-langevin`: complex Langevin for complex actions, against exact results.

Models (`--model`): `gauss` $S = \sigma z^2/2$, `quartic` $S = \sigma z^2/2 + \lambda z^4/4$, and
`chain`, $N$ complex anharmonic oscillators on a periodic imaginary-time lattice
(`dphys.lattice.complex_models`). Chains start at z = 0, thermalise with the adaptive step
(`cl_thermalise`, which also measures $K_\text{ref}$), then run in chunks (a progress bar shows
the running $\mathrm{Re}\langle z^2\rangle$) with a fixed step (`--solver`) or the adaptive step
(`--adaptive`). Reported: $\langle z^n\rangle$ and the cumulants $\kappa_n$ (n = 2, 4, 6, real
and imaginary parts), $\langle x^2\rangle, \langle y^2\rangle, \langle xy\rangle$, as Langevin-time
averages with jackknife errors, beside the exact values (closed forms, quadrature or the transfer
matrix; the CL covariance where it is known exactly: `gauss`, and `chain` at lam = 0).

The default fixed step is ShARK (weak order 2) at dt = 0.01 with the chains batched into one
state. Euler's $O(dt)$ bias is visible in a default-length run: at sigma = 1 + i, lam = 1,
Euler at dt = 0.001 gave Re<z^2>, Re<z^4>, Re<z^6> 2.3, 2.6 and 2.8 errors high, while ShARK at
dt = 0.01 (seeds 0, 1) and 0.005 stayed within 2.1 errors, mostly within 1, at the same cost.
The adaptive step is an Euler scheme: give it a small `--dt` (0.001).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from dphys.lattice.cl_density import CL_MODELS, check_cl_couplings, cl_ensemble, cl_model
from dphys.lattice.complex_langevin import NOISES, OBSERVABLES, cl_observables
from dphys.lattice.complex_models import GaussianAction
from dphys.report import Report
from dphys.sde import SDE_SOLVERS
from dphys.stats import integrated_autocorrelation_time
from dphys.workflows import Param, Workflow, complex_check, nonnegative, parse_complex, positive, register

MODELS = CL_MODELS


def _lam_check(text: str) -> str | None:
    if (problem := complex_check(text)) is not None:
        return problem
    lam = parse_complex(text)
    if lam.real > 0 or lam == 0:
        return None
    return "needs Re lam > 0 for exp(-lam z^4/4) to decay (or 0: a Gaussian)"


def _check(config: dict[str, Any]) -> str | None:
    """Checks across parameters, before anything runs."""
    sigma, lam = parse_complex(config["sigma"]), parse_complex(config["lam"])
    if (config["model"] == "gauss" or lam == 0) and sigma.real <= 0:
        return f"--sigma={config['sigma']} needs Re sigma > 0 when the action is Gaussian: the integral diverges"
    if config["noise"] != "gaussian" and not config["adaptive"] and config["solver"] != "euler":
        return f"--noise={config['noise']} needs --solver euler (or --adaptive), got --solver {config['solver']}"
    return None


def build_model(config: dict[str, Any]):
    """The action, the shape of one configuration, and the exact references (`cl_model`)."""
    sigma, lam = parse_complex(config["sigma"]), parse_complex(config["lam"])
    check_cl_couplings(config["model"], sigma, lam)
    return cl_model(config["model"], sigma, lam, n_sites=config["sites"], spacing=config["spacing"])


def sample(action, site_shape: tuple[int, ...], config: dict[str, Any], key, progress: bool = True):
    """`cl_ensemble` with the workflow's parameters: z, weights, K_ref."""
    return cl_ensemble(action, key, site_shape, dt=config["dt"], chains=config["chains"], time=config["time"],
                       therm=config["therm"], measure_every=config["measure_every"], chunks=config["chunks"],
                       solver=config["solver"], adaptive=config["adaptive"], noise=config["noise"],
                       progress=progress)


def run(config: dict[str, Any], report: Report) -> None:
    action, site_shape, reference = build_model(config)
    z, w, k_ref = sample(action, site_shape, config, jax.random.PRNGKey(config["seed"]))
    estimates = cl_observables(z, w)
    for name in OBSERVABLES:
        report.add(name, estimates[name].value, estimates[name].error, reference.get(name))
    site_z2 = np.mean(z**2, axis=tuple(range(2, z.ndim))).real
    tau = integrated_autocorrelation_time(site_z2)
    report.add("tau_int_z2", tau.tau, tau.error, unit="measurements")
    report.add("mean_step", float(np.mean(w)), unit="Langevin time")
    report.add("k_ref", float(np.mean(k_ref)))
    report.add("samples", z.size)
    _figures(report, config, action, z, w, estimates, reference)


def _figures(report, config, action, z, w, estimates, reference) -> None:
    x, y = z.real.reshape(len(z), -1), z.imag.reshape(len(z), -1)
    weight = np.broadcast_to(w.reshape(len(w), -1, 1), (*w.shape, x.shape[1] // w.shape[1])).reshape(x.shape)
    title = f"{config['model']}: sigma = {config['sigma']}"
    title += "" if config["model"] == "gauss" else f", lam = {config['lam']}"
    with report.figure("xy_distribution") as (fig, ax):
        edges = [np.linspace(-s, s, 121) for s in (np.quantile(np.abs(v), 0.999) for v in (x, y))]
        *_, image = ax.hist2d(x.ravel(), y.ravel(), bins=edges, weights=weight.ravel(), density=True, cmap="viridis")
        fig.colorbar(image, ax=ax, label="P(x, y) (Langevin-time weighted)")
        if isinstance(action, GaussianAction):
            gx, gy = np.meshgrid(*edges, indexing="ij")
            ax.contour(gx, gy, action.cl_density(gx, gy), levels=5, colors="w", linewidths=0.8)
            ax.plot([], [], "w-", label="exact P(x, y)")
            ax.legend(loc="upper right")
        ax.set(xlabel="x = Re z", ylabel="y = Im z", title=f"CL distribution ({title})")
    with report.figure("moments", ncols=3, figsize=(15, 4.5)) as (fig, axes):
        for ax, kind, label in zip(axes, ("z", "kappa"), (r"$\langle z^n\rangle$", r"$\kappa_n$")):
            for n, colour in zip((2, 4, 6), ("C0", "C1", "C2")):
                re, im = estimates[f"{kind}{n}_re"], estimates[f"{kind}{n}_im"]
                ax.errorbar(re.value, im.value, xerr=re.error, yerr=im.error, fmt="o", color=colour,
                            label=f"n = {n}: CL")
                if f"{kind}{n}_re" in reference:
                    ax.plot(reference[f"{kind}{n}_re"], reference[f"{kind}{n}_im"], "x", color=colour, ms=10,
                            label=f"n = {n}: exact")
            ax.axhline(0, color="0.8", lw=0.5)
            ax.axvline(0, color="0.8", lw=0.5)
            ax.set(xlabel="real part", ylabel="imaginary part", title=f"{label} ({title})")
            ax.legend(fontsize="small")
        names = [name for name in OBSERVABLES if name in reference]
        pulls = [(estimates[name].value - reference[name]) / estimates[name].error for name in names]
        axes[2].barh(names, pulls, color=["C3" if abs(p) > 3 else "C0" for p in pulls])
        axes[2].axvspan(-3, 3, color="0.9", zorder=0)
        axes[2].invert_yaxis()
        axes[2].set(xlabel="(CL - exact) / standard error", title="deviations from the exact values")


WORKFLOW = register(
    Workflow(
        name="complex-langevin",
        description="Complex Langevin for complex actions (Gaussian, quartic, anharmonic chain) against exact "
        "moments and cumulants",
        run=run,
        check=_check,
        params=(
            Param("model", "quartic", "the action", choices=MODELS),
            Param("sigma", "1+1j", "quadratic coupling sigma, a complex number such as 1+1j (write "
                  "--sigma=-1+1j when it starts with a minus)", check=complex_check),
            Param("lam", "1", "quartic coupling lam (complex; quartic and chain; 0: Gaussian)", check=_lam_check),
            Param("sites", 16, "lattice sites N (chain)", check=positive),
            Param("spacing", 0.5, "lattice spacing a (chain)", check=positive),
            Param("adaptive", False, "adaptive Euler step (Aarts et al. 2010) with Langevin-time weights; "
                  "Euler's bias is O(dt), so pair it with a small --dt such as 0.001"),
            Param("solver", "shark", "fixed-step scheme: shark (weak order 2, chains batched in one state) or "
                  "euler (weak order 1); ignored with --adaptive", choices=tuple(SDE_SOLVERS)),
            Param("noise", "gaussian", "Euler increments: Gaussian, or +-1 (same weak order, faster)",
                  choices=NOISES),
            Param("dt", 0.01, "Langevin step (the largest step if adaptive)", unit="Langevin time", check=positive),
            Param("chains", 1024, "independent chains (vmapped)", quick=256, check=positive),
            Param("time", 400.0, "Langevin time per chain after thermalisation", unit="Langevin time",
                  quick=40.0, check=positive),
            Param("therm", 5.0, "thermalisation time discarded", unit="Langevin time", check=nonnegative),
            Param("measure_every", 0.1, "time between measurements", unit="Langevin time", check=positive),
            Param("chunks", 20, "chunks of the run (progress updates)", quick=4, check=positive),
        ),
    )
)
