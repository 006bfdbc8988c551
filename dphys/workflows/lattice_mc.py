r"""`lattice-mc`: HMC ensembles of 2D $\phi^4$, 2D U(1) gauge theory or the 0+1D double well,
their observables with autocorrelation-aware errors, and the exact references where they exist.

- `phi4`: $S = \sum_x[-2\kappa\sum_\mu\phi_x\phi_{x+\mu} + (1-2\lambda)\phi_x^2 + \lambda\phi_x^4]$;
  $\langle M\rangle$, $\langle|M|\rangle$, $\chi_2$, Binder $U_L$, connected two-point function
  and effective mass, action density (no closed form: compared across samplers later).
- `u1`: $S = -\beta\sum_P\cos\theta_P$ on $L\times L$; plaquette, Wilson loops and $\chi_t$ against
  the finite-volume character expansion; the history of $Q$ (topology freezes for HMC at large
  $\beta$, e.g. `--beta 7`).
- `qm`: $S = \sum_i[(x_{i+1}-x_i)^2/2a + a\lambda(x_i^2-\eta^2)^2]$ on $N$ sites; $\langle x^2\rangle$,
  the energy gap from the correlator and the kink count, against the exact transfer matrix.

The sampler is HMC with leapfrog; the step size adapts during thermalisation (dual averaging)
and is then frozen at the median over chains, so the sampling phase is exact. The ensemble is
saved as `ensemble.npz` (theory, parameters, sampler, seed) for later workflows.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dphys.lattice.ensemble import save_ensemble
from dphys.lattice.exact import double_well_exact, u1_exact
from dphys.lattice.phi4 import Phi4Action, phi4_observables
from dphys.lattice.quantum import DoubleWellAction, qm_observables, temperature
from dphys.lattice.u1 import U1Action, u1_observables, wrap
from dphys.mcmc import HMC, adapt_step_size, check_acceptance, ensemble
from dphys.report import Report
from dphys.stats import autocorrelation, integrated_autocorrelation_time
from dphys.workflows import Param, Workflow, nonnegative, positive, register

THEORIES = ("phi4", "u1", "qm")


def _at_least(n: int):
    return lambda v: None if v >= n else f"must be >= {n}"


def _theory(config: dict[str, Any]):
    """(action, initial configurations of every chain, wrap, the theory's parameters)."""
    chains, key = config["chains"], jax.random.PRNGKey(config["seed"] + 1)
    theory = config["theory"]
    if theory == "phi4":
        L = config["L"]
        params = {"L": L, "kappa": config["kappa"], "lam": config["lam"]}
        x0 = 0.5 * jax.random.normal(key, (chains, L, L))
        return Phi4Action(kappa=config["kappa"], lam=config["lam"]), x0, None, params
    if theory == "u1":
        L = config["L"]
        params = {"L": L, "beta": config["beta"]}
        x0 = jnp.zeros((chains, 2, L, L))  # cold start: Q = 0 in every chain
        return U1Action(beta=config["beta"]), x0, wrap, params
    n, a, lam, eta = config["n_sites"], config["a"], config["qm_lambda"], config["eta"]
    params = {"N": n, "a": a, "lam": lam, "eta": eta, "T": temperature(n, a)}
    x0 = jnp.full((chains, n), eta)  # every chain starts in the right-hand well
    return DoubleWellAction(a=a, lam=lam, eta=eta), x0, None, params


def generate(config: dict[str, Any], progress: bool = True):
    """HMC ensemble: (samples with axes (sample, chain, ...), the HMC infos of the sampling phase
    (axes (update, chain)), the frozen step size, the theory's parameters, the action)."""
    action, x0, wrap_fn, params = _theory(config)
    kernel = HMC(action, config["step_size"], config["n_leapfrog"], wrap=wrap_fn)
    key = jax.random.PRNGKey(config["seed"])
    therm_key, key = jax.random.split(key)
    # thermalise (adapting the step size by dual averaging, then frozen at the median over chains)
    if config["adapt"]:
        kernel, x = adapt_step_size(kernel, therm_key, x0, config["therm"], return_positions=True)
    else:
        x = jax.tree_util.tree_map(lambda v: v[-1], ensemble(kernel, therm_key, x0, 1, n_therm=config["therm"]).samples)
    step_size = float(kernel.step_size)
    out = ensemble(kernel, key, x, config["samples"], thin=config["thin"],
                   chunks=min(config["chunks"], config["samples"]),
                   progress=f"lattice-mc {config['theory']}" if progress else False)
    return np.asarray(out.samples), jax.tree_util.tree_map(np.asarray, out.info), step_size, params, action


def _report_estimates(report: Report, estimates: dict, names: dict[str, str], exact: dict | None = None) -> None:
    for key, name in names.items():
        est = estimates[key]
        reference = None if exact is None else exact.get(key)
        report.add(name, est.value, est.error, reference)


def _phi4(report, samples, action):
    obs = phi4_observables(samples, action)
    exact = None
    if action.lam == 0 and 4 * action.kappa < 1:
        # free field: S = phi A phi / 2 with A(p = 0) = 2 (1 - 2 d kappa), d = 2; equipartition <S> = V/2
        exact = {"M": 0.0, "chi2": 1 / (2 * (1 - 4 * action.kappa)), "action_density": 0.5}
    _report_estimates(report, obs, {"M": "M", "abs_M": "abs_M", "chi2": "chi2", "chi2_abs": "chi2_abs",
                                    "binder": "binder", "action_density": "action_density"}, exact)
    m = samples.mean(axis=(-2, -1))
    for t in (1, 2):
        if np.isfinite(obs["m_eff"].value[t - 1]):
            report.add(f"m_eff_t{t}", obs["m_eff"].value[t - 1], obs["m_eff"].error[t - 1])
    _history_plots(report, np.abs(m), "|M|")
    with report.figure("magnetisation_histogram") as (fig, ax):
        ax.hist(m.ravel(), bins=60, density=True)
        ax.set(xlabel="M", ylabel="density", title=r"$\phi^4$ magnetisation")
    with report.figure("two_point") as (fig, ax):
        t = np.arange(len(obs["G"].value))
        ax.errorbar(t, obs["G"].value, obs["G"].error, fmt="o")
        ax.set(yscale="log", xlabel="t", ylabel=r"$G_c(t)$", title="connected two-point function")
    return np.abs(m)


def _u1(report, samples, params):
    obs = u1_observables(samples)
    exact = u1_exact(params["beta"], params["L"])
    names = {"plaquette": "plaquette", "wilson_1x1": "wilson_1x1", "wilson_1x2": "wilson_1x2",
             "wilson_2x2": "wilson_2x2", "chi_t": "chi_t"}
    _report_estimates(report, obs, names, exact)
    q = np.asarray(obs["Q_history"], dtype=np.float64)
    report.add("Q_changes_per_sample", np.mean(np.diff(q, axis=0) != 0))
    with report.figure("Q_history") as (fig, ax):
        for c in range(min(q.shape[1], 4)):
            ax.plot(q[:, c], lw=0.8, label=f"chain {c}")
        ax.set(xlabel="HMC trajectory (sampling phase)", ylabel="Q",
               title=rf"topological charge, $\beta$={params['beta']}, L={params['L']}")
        ax.legend()
    with report.figure("Q_histogram") as (fig, ax):
        ax.hist(q.ravel(), bins=np.arange(q.min() - 0.5, q.max() + 1.5), density=True)
        ax.set(xlabel="Q", ylabel="frequency")
    _history_plots(report, q, "Q")
    return q


def _qm(report, samples, params):
    obs = qm_observables(samples, params["a"])
    exact = double_well_exact(params["a"], params["lam"], params["eta"], params["N"])
    _report_estimates(report, obs, {"x2": "x2", "gap": "gap"}, {"x2": exact["x2"], "gap": exact["gap"]})
    report.add("kinks", obs["kinks"].value, obs["kinks"].error)
    report.add("temperature", params["T"])
    with report.figure("correlator") as (fig, ax):
        tau = np.arange(len(obs["correlator"].value))
        ax.errorbar(tau, obs["correlator"].value, obs["correlator"].error, fmt="o", ms=3, label="HMC")
        ax.plot(tau, exact["correlator"], "k-", label="exact (transfer matrix)")
        ax.set(xlabel=r"$\tau / a$", ylabel=r"$C(\tau)$", title="Euclidean correlator")
        ax.legend()
    with report.figure("position_histogram") as (fig, ax):
        ax.hist(samples.ravel(), bins=80, density=True)
        ax.set(xlabel="x", ylabel="density")
    x2 = np.mean(samples**2, axis=-1)
    _history_plots(report, x2, "x^2 (path average)")
    return x2


def _history_plots(report: Report, series: np.ndarray, label: str) -> None:
    """Autocorrelation function of a (sample, chain) series, with tau_int in the title."""
    tau = integrated_autocorrelation_time(series)
    report.add("tau_int", tau.tau, tau.error, unit="samples")
    rho = autocorrelation(series, max_lag=min(len(series) // 2, max(10, int(10 * tau.tau))))
    with report.figure("autocorrelation") as (fig, ax):
        ax.plot(rho, "o-", ms=3)
        ax.axhline(0, color="k", lw=0.5)
        ax.set(xlabel="lag (samples)", ylabel=rf"$\rho$({label})",
               title=rf"autocorrelation, $\tau_{{int}}$ = {tau.tau:.2f} $\pm$ {tau.error:.2f}")


def run(config: dict[str, Any], report: Report) -> None:
    samples, infos, step_size, params, action = generate(config)
    acceptance = check_acceptance(infos, step_size, chain_axis=1)
    report.add("acceptance", acceptance)
    report.add("step_size", step_size)
    theory = config["theory"]
    if theory == "phi4":
        _phi4(report, samples, action)
    elif theory == "u1":
        _u1(report, samples, params)
    else:
        _qm(report, samples, params)
    sampler = {"name": "hmc", "step_size": step_size, "n_leapfrog": config["n_leapfrog"],
               "thin": config["thin"], "therm": config["therm"], "adapt": config["adapt"]}
    save_ensemble(report.out_dir / "ensemble.npz", samples, theory=theory, params=params,
                  sampler=sampler, seed=config["seed"], acceptance=acceptance)


WORKFLOW = register(
    Workflow(
        name="lattice-mc",
        description="HMC ensembles of 2D phi^4, 2D U(1) or the 0+1D double well: observables with "
        "errors against exact results",
        run=run,
        params=(
            Param("theory", "phi4", "which theory", choices=THEORIES),
            Param("L", 16, "lattice size L (L x L lattice; phi4 and u1)", quick=8, check=_at_least(2)),
            Param("kappa", 0.21, "phi4 hopping parameter", check=nonnegative),
            Param("lam", 0.022, "phi4 quartic coupling lambda", check=nonnegative),
            Param("beta", 1.0, "U(1) gauge coupling beta", check=nonnegative),
            Param("n_sites", 64, "double well: imaginary-time sites N", quick=32, check=_at_least(4)),
            Param("a", 0.25, "double well: time spacing a (units m = hbar = 1)", check=positive),
            Param("qm_lambda", 1.0, "double well: lambda in a lambda (x^2 - eta^2)^2", check=positive),
            Param("eta", 1.0, "double well: minima at +-eta", check=positive),
            Param("chains", 16, "independent chains (vmapped)", quick=8, check=positive),
            Param("samples", 2000, "kept samples per chain", quick=300, check=_at_least(20)),
            Param("therm", 300, "thermalisation trajectories (step size adapts here)", quick=100,
                  check=nonnegative),
            Param("thin", 1, "trajectories per kept sample", check=positive),
            Param("step_size", 0.1, "leapfrog step size (initial value when adapting)", check=positive),
            Param("n_leapfrog", 10, "leapfrog steps per trajectory", check=positive),
            Param("adapt", True, "adapt the step size during thermalisation (target acceptance 0.8)"),
            Param("chunks", 10, "chunks of the sampling phase (progress updates)", quick=5, check=positive),
        ),
    )
)
