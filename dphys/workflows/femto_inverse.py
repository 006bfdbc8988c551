r"""`femto-inverse`: from correlation functions back to the interaction. A network learns the map
$C(k) \mapsto$ (potential, source size) from simulated correlation functions, and the scattering
length and effective range of the predicted potentials are compared with the true ones.

**Family.** A neutral, distinguishable pair with the nucleon reduced mass ($\mu = m_N/2$, one spin
channel, no Coulomb), an attractive Gaussian well and a Gaussian source:

$$ V(r) = -V_0\, e^{-(r/b)^2}, \qquad s = \frac{2\mu V_0 b^2}{(\hbar c)^2}, \qquad
   S(r) = (4\pi R^2)^{-3/2} e^{-r^2/4R^2}, $$

sampled uniformly in the box $s \in$ [`s_min`, `s_max`] (the dimensionless strength; the first bound
state appears at $s \approx 2.68$, so the box stays on the unbound side and $a < 0$), range
$b \in$ [0.8, 1.6] fm and $R \in$ [0.8, 1.6] fm. The network predicts $(s, b, R)$, hence $V_0$.

**Training set.** For each potential the Koonin-Pratt kernel (`dphys.femto.correlation.pair_kernel`,
s wave interacting, all other waves free) on `nk` momenta between 5 and 300 MeV/c, in one `jax.vmap`
over the potentials; folding it with `radii_per_potential` Gaussian sources is a matrix product.
Held-out potentials are never seen in training.

**Noise.** Like the data's: $\sigma = \nu\,\sigma_\mathrm{ALICE}(k, C)$ with the relative errors of
`dphys.femto.data.default_errors` (0.5-2% statistical, 0.2% systematic) and a noise level $\nu$;
training draws $\nu \sim U(0, \nu_\mathrm{max})$ afresh at every step, so one network serves every
level; the held-out accuracy is measured at $\nu$ = 0, 0.5, 1, 2, 4.

**Network.** An equinox MLP (tanh) on the standardised $C(k)$, trained with Adam (`dphys.train.fit`)
on the mean squared error of the standardised targets.

**Metrics.** On the held-out set at $\nu = 1$: the normalised RMSE of each parameter (RMSE / standard
deviation of the parameter: 1 is what predicting the mean gives), its $R^2$; the same at every noise
level; the scattering length $a$ and effective range $r$ (particle-physics sign,
`dphys.scattering.effective_range`) of the predicted against the true potentials (median relative
error, and the normalised RMSE of $1/a$, which is smooth across the box).
Figures: predicted against true parameters; phase shifts of predicted and true potentials
(`dphys.scattering.phase_shift`) for a few held-out examples; accuracy against noise level.

**Real data** (`--data alice-pp13` or a folder laid out like `../shared/data/alice_pp13TeV_MB_pp`):
the map is trained on simulations of the *measured* correlation, with the same pipeline as the
`femto-source` fits (`dphys.femto.decomposition`): pp with a Gaussian well in $^1S_0$ (strength
$s \in$ [1.5, 2.6], range $b \in$ [0.8, 1.8] fm, Coulomb-modified $a$ from about -1.7 to -10 fm)
plus Coulomb, Argonne v18 in $^3P_{0,1,2}$ and $^1D_2$ (fixed), a Gaussian source
$R \in$ [0.9, 1.5] fm, the baseline $N \in$ [0.99, 1.03], lambda parameters, p-Lambda feed-down
and momentum resolution, on the 88 bins 0-350 MeV/c, noise = the ALICE statistical errors times a
level drawn in [0, `noise_max`]. The kernel of each potential is that of the p and d waves
(computed once) plus the $^1S_0$ change (`decomposition.s_wave_kernel_change`, vmapped).
`members` networks (different initialisations and minibatch orders, same training set) are
trained; each predicts $(s, b, R, N)$ for the ALICE data, and the report gives the members' mean
and standard deviation of $s$, $b$, $R$, $N$ and of the Coulomb-modified scattering length and
effective range of the predicted potentials (`effective_range(..., coulomb=1)`), with the held-out
NRMSE of each parameter at noise level 1 and the $\chi^2$ of the members' predictions on the data.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dphys.constants import HBARC, M_NUCLEON, M_PROTON
from dphys.femto import alice, correlation, sources
from dphys.femto import decomposition as decomp
from dphys.femto.data import default_errors
from dphys.femto.inverse import gaussian_well, simulate_correlations, train_inverse_network, well_depth
from dphys.report import Report
from dphys.scattering import AV18, GaussianSum, effective_range, phase_shift
from dphys.workflows import Param, Workflow, positive, register

MASS = M_NUCLEON / 2  # reduced mass [MeV]
B_RANGE = (0.8, 1.6)  # [fm]
R_RANGE = (0.8, 1.6)  # [fm]
NOISE_LEVELS = (0.0, 0.5, 1.0, 2.0, 4.0)
NAMES = ("s", "b", "R")
R_MAX = 60.0  # [fm] radial grid of the kernels (Gaussian sources up to 1.6 fm vanish long before)


def depth(s, b):
    """V0 [MeV] of the well of strength s and range b [fm] (`dphys.femto.inverse.well_depth`)."""
    return well_depth(s, b, MASS)


def potential(s, b) -> GaussianSum:
    """The Gaussian well of strength s and range b [fm] for the nucleon reduced mass."""
    return gaussian_well(s, b, MASS)


def simulate(key, n_potentials: int, radii_per_potential: int, k: np.ndarray, s_range, desc: str):
    """`dphys.femto.inverse.simulate_correlations` in the box of this study."""
    return simulate_correlations(key, n_potentials, radii_per_potential, k, s_range=s_range, b_range=B_RANGE,
                                 radius_range=R_RANGE, mass=MASS, r_max=R_MAX, progress=desc)


def _relative_errors(k: np.ndarray, C: np.ndarray) -> np.ndarray:
    stat, syst = default_errors(k, C)
    return np.hypot(stat, syst)


def run(config: dict[str, Any], report: Report) -> None:
    if config["data"] != "none":
        return _run_real(config, report)
    key = jax.random.PRNGKey(config["seed"])
    k_train, k_test, k_net, k_fit, k_noise = jax.random.split(key, 5)
    k = np.linspace(5.0, 300.0, config["nk"]) / HBARC
    s_range = (config["s_min"], config["s_max"])
    with jax.enable_x64(True):
        y_train, C_train, _ = simulate(k_train, config["train_potentials"], config["radii_per_potential"], k, s_range,
                                       desc="training kernels")
        y_test, C_test, pot_test = simulate(k_test, config["test_potentials"], 1, k, s_range, desc="held-out kernels")
    err_train = _relative_errors(k, C_train)  # noise sigma of level 1 for every sample
    err_test = _relative_errors(k, C_test)

    trained = train_inverse_network(C_train, y_train, err_train, key_init=k_net, key_fit=k_fit, width=config["width"],
                                    depth=config["depth"], steps=config["steps"], batch_size=config["batch_size"],
                                    learning_rate=config["learning_rate"], noise_max=config["noise_max"])
    n_train = len(C_train)

    def evaluate(level: float, key) -> np.ndarray:
        noise = level * err_test * np.asarray(jax.random.normal(key, C_test.shape))
        return trained.predict(C_test + noise)

    std_test = y_test.std(0)
    nrmse = {}
    preds = {}
    for level, kl in zip(NOISE_LEVELS, jax.random.split(k_noise, len(NOISE_LEVELS))):
        preds[level] = evaluate(level, kl)
        nrmse[level] = np.sqrt(np.mean((preds[level] - y_test) ** 2, axis=0)) / std_test
    pred = np.clip(preds[1.0], [s_range[0] * 0.5, B_RANGE[0] * 0.5, 0.1], [s_range[1] * 1.02, 3.0, 5.0])

    # scattering parameters of the predicted and the true potentials (held-out set, level 1)
    with jax.enable_x64(True):
        ere = jax.jit(jax.vmap(lambda s, b: effective_range(potential(s, b), mass=MASS)))
        true_ere = ere(jnp.asarray(pot_test[:, 0]), jnp.asarray(pot_test[:, 1]))
        pred_ere = ere(jnp.asarray(pred[:, 0]), jnp.asarray(pred[:, 1]))
        a_true, r_true = np.asarray(true_ere.a), np.asarray(true_ere.r)
        a_pred, r_pred = np.asarray(pred_ere.a), np.asarray(pred_ere.r)
        k_ps = np.linspace(0.02, 1.5, 60)
        show = np.argsort(a_true)[np.linspace(0, len(a_true) - 1, 3).astype(int)]
        ps = jax.jit(jax.vmap(jax.vmap(lambda s, b, kk: phase_shift(potential(s, b), kk, mass=MASS),
                                       in_axes=(None, None, 0)), in_axes=(0, 0, None)))
        delta_true = np.asarray(ps(jnp.asarray(pot_test[show, 0]), jnp.asarray(pot_test[show, 1]), jnp.asarray(k_ps)))
        delta_pred = np.asarray(ps(jnp.asarray(pred[show, 0]), jnp.asarray(pred[show, 1]), jnp.asarray(k_ps)))

    n_test = len(y_test)
    report.add("n_train", n_train)
    report.add("n_test", n_test)
    for i, name in enumerate(NAMES):
        # standard error of an RMSE ratio from n samples: about nrmse / sqrt(2 n)
        report.add(f"nrmse_{name}", nrmse[1.0][i], nrmse[1.0][i] / np.sqrt(2 * n_test), reference=None)
        report.add(f"r2_{name}", 1 - nrmse[1.0][i] ** 2)
    v0_true, v0_pred = depth(pot_test[:, 0], pot_test[:, 1]), depth(pred[:, 0], pred[:, 1])
    report.add("nrmse_V0", np.sqrt(np.mean((v0_pred - v0_true) ** 2)) / v0_true.std())
    for level in NOISE_LEVELS:
        report.add(f"nrmse_mean_noise_{level:g}", float(np.mean(nrmse[level])))
    inv_a_true, inv_a_pred = 1 / a_true, 1 / a_pred
    report.add("nrmse_inv_a", np.sqrt(np.mean((inv_a_pred - inv_a_true) ** 2)) / inv_a_true.std())
    report.add("median_rel_error_a", float(np.median(np.abs(a_pred / a_true - 1))))
    report.add("median_rel_error_r", float(np.median(np.abs(r_pred / r_true - 1))))
    report.add("a_true_min", float(a_true.min()), unit="fm")
    report.add("a_true_max", float(a_true.max()), unit="fm")

    units = {"s": "", "b": " [fm]", "R": " [fm]"}
    with report.figure("predicted_vs_true", ncols=4, figsize=(15, 4)) as (fig, axes):
        for i, name in enumerate(NAMES):
            ax = axes[i]
            ax.plot(y_test[:, i], preds[1.0][:, i], "C0.", ms=3, label=r"noise $\nu$ = 1")
            ax.plot(y_test[:, i], preds[0.0][:, i], "C1.", ms=2, alpha=0.5, label="no noise")
            lim = [y_test[:, i].min(), y_test[:, i].max()]
            ax.plot(lim, lim, "k-", lw=0.8)
            ax.set(xlabel=f"true {name}{units[name]}", ylabel=f"predicted {name}{units[name]}",
                   title=f"{name}: NRMSE {nrmse[1.0][i]:.3f}")
            ax.legend(fontsize=7)
        ax = axes[3]
        ax.plot(inv_a_true, inv_a_pred, "C0.", ms=3)
        lim = [inv_a_true.min(), inv_a_true.max()]
        ax.plot(lim, lim, "k-", lw=0.8)
        ax.set(xlabel=r"true $1/a$ [fm$^{-1}$]", ylabel=r"predicted $1/a$ [fm$^{-1}$]",
               title=r"scattering length (via effective_range)")
    with report.figure("phase_shifts") as (fig, ax):
        for j, i in enumerate(show):
            ax.plot(k_ps * HBARC, np.degrees(delta_true[j]), f"C{j}-",
                    label=f"true: a = {a_true[i]:.2f} fm, r = {r_true[i]:.2f} fm")
            ax.plot(k_ps * HBARC, np.degrees(delta_pred[j]), f"C{j}--",
                    label=f"predicted: a = {a_pred[i]:.2f} fm, r = {r_pred[i]:.2f} fm")
        ax.set(xlabel=r"$k$ [MeV/$c$]", ylabel=r"$\delta_0$ [deg]", title="held-out potentials (noise level 1)")
        ax.legend(fontsize=7)
    with report.figure("noise") as (fig, ax):
        for i, name in enumerate(NAMES):
            ax.plot(NOISE_LEVELS, [nrmse[lv][i] for lv in NOISE_LEVELS], "o-", label=name)
        ax.axhline(1.0, color="0.5", ls=":", label="predicting the mean")
        ax.axvspan(0, config["noise_max"], color="0.9", label="training noise range")
        ax.set(xlabel=r"noise level $\nu$ (1 = ALICE-like errors)", ylabel="held-out NRMSE", ylim=(0, None))
        ax.legend(fontsize=8)


PP_MASS = M_PROTON / 2
REAL_BOX = {"s": (1.5, 2.6), "b": (0.8, 1.8), "R": (0.9, 1.5), "N": (0.99, 1.03)}
REAL_NAMES = ("s", "b", "R", "N")


def pp_well(s, b) -> GaussianSum:
    """The pp 1S0 Gaussian well -V0 exp(-(r/b)^2), s = 2 mu V0 b^2/(hbar c)^2 with mu = m_p/2."""
    return gaussian_well(s, b, PP_MASS)


def _run_real(config: dict[str, Any], report: Report) -> None:
    from tqdm.auto import tqdm

    key = jax.random.PRNGKey(config["seed"])
    k_pot, k_src, k_test, k_nets, k_noise = jax.random.split(key, 5)
    pp = alice.load_pp13(None if config["data"] == "alice-pp13" else config["data"])
    data = pp.data(350.0)
    n_pot, n_rad, n_test = config["train_potentials"], config["radii_per_potential"], config["test_potentials"]
    with jax.enable_x64(True):
        rest = {w: AV18(w) for w in ("3P0", "3P1", "3P2", "1D2")}
        dec = decomp.build_pp13(pp, rest)  # the p and d waves: fixed
        k_pts = np.asarray(dec.kernel.k)
        grid = (np.asarray(dec.kernel.r), np.asarray(dec.kernel.weights) / (4 * np.pi * np.asarray(dec.kernel.r) ** 2))
        n_l = correlation.n_partial_waves(k_pts, float(grid[0].max()), mass=PP_MASS, coulomb=1.0)
        delta = jax.jit(jax.vmap(lambda s, b: decomp.s_wave_kernel_change(k_pts, pp_well(s, b), grid=grid, n_l=n_l)))

        def draw(k, n):
            u = np.asarray(jax.random.uniform(k, (n, 4), dtype=jnp.float64))
            lo = np.array([REAL_BOX[x][0] for x in REAL_NAMES])
            hi = np.array([REAL_BOX[x][1] for x in REAL_NAMES])
            return lo + (hi - lo) * u

        n_all = n_pot + n_test
        pots = draw(k_pot, n_all)[:, :2]
        chunk = 64
        pad = (-n_all) % chunk
        sp, bp = (np.concatenate([pots[:, i], np.repeat(pots[-1:, i], pad)]) for i in range(2))
        dks = []
        for i in tqdm(range(0, n_all + pad, chunk), desc="1S0 kernels", unit="chunk"):
            dks.append(np.asarray(delta(jnp.asarray(sp[i:i + chunk]), jnp.asarray(bp[i:i + chunk]))))
        dK = np.concatenate(dks)[:n_all]
        base_values = np.asarray(dec.kernel.values)

        @jax.jit
        def simulate(dk, R, N):
            d = decomp.with_kernel(dec, base_values + dk)
            return decomp.predict(d, sources.GaussianSource(R), N)

        many = jax.jit(jax.vmap(simulate))
        other = draw(k_src, n_pot * n_rad)[:, 2:]
        idx = np.repeat(np.arange(n_pot), n_rad)
        C_train = np.concatenate([np.asarray(many(jnp.asarray(dK[idx[i:i + 512]]), jnp.asarray(other[i:i + 512, 0]),
                                                  jnp.asarray(other[i:i + 512, 1])))
                                  for i in range(0, len(idx), 512)])
        y_train = np.column_stack([pots[idx], other])
        other_test = draw(k_test, n_test)[:, 2:]
        C_test = np.asarray(many(jnp.asarray(dK[n_pot:]), jnp.asarray(other_test[:, 0]), jnp.asarray(other_test[:, 1])))
        y_test = np.column_stack([pots[n_pot:], other_test])

    err = np.asarray(data.error)
    n_train = len(C_train)
    noise_test = np.asarray(jax.random.normal(k_noise, C_test.shape)) * err
    preds_data, preds_test = [], []
    for m, km in enumerate(jax.random.split(k_nets, config["members"])):
        k_init, k_fit = jax.random.split(km)
        trained = train_inverse_network(C_train, y_train, err, key_init=k_init, key_fit=k_fit, width=config["width"],
                                        depth=config["depth"], steps=config["steps"], batch_size=config["batch_size"],
                                        learning_rate=config["learning_rate"], noise_max=config["noise_max"],
                                        desc=f"inverse network {m + 1}")
        preds_data.append(trained.predict(data.C))
        preds_test.append(trained.predict(C_test + noise_test))
    preds_data, preds_test = np.array(preds_data), np.array(preds_test)
    nrmse = np.sqrt(np.mean((preds_test.mean(0) - y_test) ** 2, axis=0)) / y_test.std(0)

    with jax.enable_x64(True):
        ps = np.clip(preds_data[:, 0], *REAL_BOX["s"]), np.clip(preds_data[:, 1], *REAL_BOX["b"])
        ere = jax.jit(jax.vmap(lambda s, b: effective_range(pp_well(s, b), mass=PP_MASS, coulomb=1.0)))(
            jnp.asarray(ps[0]), jnp.asarray(ps[1]))
        a_m, r_m = np.asarray(ere.a), np.asarray(ere.r)
        # chi^2 of each member's prediction on the data (the potential it infers, folded back)
        idx_c = np.arange(len(ps[0]))
        dk_m = np.asarray(delta(jnp.asarray(np.resize(ps[0], chunk)), jnp.asarray(np.resize(ps[1], chunk))))[idx_c]
        C_m = np.asarray(many(jnp.asarray(dk_m), jnp.asarray(preds_data[:, 2]), jnp.asarray(preds_data[:, 3])))
    chi2_m = np.sum(((C_m - data.C) / err) ** 2, axis=1)

    report.add("n_train", n_train)
    report.add("n_test", n_test)
    report.add("members", config["members"])
    units = {"s": "1", "b": "fm", "R": "fm", "N": "1"}
    for i, name in enumerate(REAL_NAMES):
        report.add(f"nrmse_{name}", nrmse[i], nrmse[i] / np.sqrt(2 * n_test))
        report.add(f"alice_{name}", preds_data[:, i].mean(), preds_data[:, i].std(ddof=1), unit=units[name])
    report.add("alice_V0", depth_pp(preds_data[:, 0], preds_data[:, 1]).mean(),
               depth_pp(preds_data[:, 0], preds_data[:, 1]).std(ddof=1), unit="MeV")
    report.add("alice_a", a_m.mean(), a_m.std(ddof=1), reference=-7.8063, unit="fm")
    report.add("alice_r", r_m.mean(), r_m.std(ddof=1), reference=2.794, unit="fm")
    report.add("alice_chi2_members_mean", chi2_m.mean(), chi2_m.std(ddof=1))
    report.add("n_points", len(data))

    with report.figure("predicted_vs_true", ncols=4, figsize=(15, 4)) as (fig, axes):
        for i, name in enumerate(REAL_NAMES):
            ax = axes[i]
            ax.plot(y_test[:, i], preds_test.mean(0)[:, i], "C0.", ms=3, label="held out, ALICE noise")
            lim = [y_test[:, i].min(), y_test[:, i].max()]
            ax.plot(lim, lim, "k-", lw=0.8)
            ax.axhline(preds_data[:, i].mean(), color="C3", lw=1, label="ALICE data (members' mean)")
            ax.axhspan(preds_data[:, i].mean() - preds_data[:, i].std(ddof=1),
                       preds_data[:, i].mean() + preds_data[:, i].std(ddof=1), color="C3", alpha=0.2)
            ax.set(xlabel=f"true {name}", ylabel=f"predicted {name}", title=f"{name}: NRMSE {nrmse[i]:.3f}")
            ax.legend(fontsize=7)
    with report.figure("alice_fit", figsize=(7, 4.5)) as (fig, ax):
        ax.errorbar(data.k_mev, data.C, err, fmt="ko", ms=3, label=data.label)
        for j in range(len(C_m)):
            ax.plot(data.k_mev, C_m[j], "C2-", lw=0.8, alpha=0.7,
                    label="members' inferred potential + source" if j == 0 else None)
        ax.set(xlabel=r"$k^*$ [MeV/$c$]", ylabel=r"$C(k^*)$",
               title=f"inverse map on ALICE pp 13 TeV: a = {a_m.mean():.2f} $\\pm$ {a_m.std(ddof=1):.2f} fm")
        ax.legend(fontsize=7)


def depth_pp(s, b):
    """V0 [MeV] of the pp well from s and b [fm]."""
    return well_depth(s, b, PP_MASS)


def _check(config: dict[str, Any]) -> str | None:
    if not 0 < config["s_min"] < config["s_max"] < 2.6:
        return (f"need 0 < --s-min < --s-max < 2.6 (no bound state), got s_min={config['s_min']}, "
                f"s_max={config['s_max']}")
    if config["nk"] < 4:
        return f"--nk={config['nk']} must be >= 4"
    if config["train_potentials"] * config["radii_per_potential"] < config["batch_size"]:
        return "the training set is smaller than --batch-size"
    if config["data"] not in ("none", "alice-pp13"):
        from pathlib import Path

        if not (Path(config["data"]) / "converted").is_dir():
            return (f"--data={config['data']!r} must be 'none', 'alice-pp13' or a folder laid out like "
                    "../shared/data/alice_pp13TeV_MB_pp")
    elif config["data"] == "alice-pp13" and alice.shared_data_dir() is None:
        return f"--data=alice-pp13: the shared data folder ../shared/data/{alice.DATASET} is absent"
    if config["data"] != "none" and config["members"] < 2:
        return f"--members={config['members']} must be >= 2 (the spread over networks)"
    return None


WORKFLOW = register(
    Workflow(
        name="femto-inverse",
        description="A network that maps correlation functions C(k) to the potential (Gaussian well) and source "
        "size; held-out accuracy, scattering length and effective range of the predictions, noise dependence",
        run=run,
        check=_check,
        params=(
            Param("train_potentials", 2048, "potentials in the training set", quick=384, check=positive),
            Param("radii_per_potential", 8, "source radii per training potential", check=positive),
            Param("test_potentials", 256, "held-out potentials (one radius each)", quick=96, check=positive),
            Param("nk", 24, "momenta of C(k), 5 ... 300 MeV/c", quick=16, check=positive),
            Param("s_min", 0.3, "smallest strength 2 mu V0 b^2/(hbar c)^2", check=positive),
            Param("s_max", 2.3, "largest strength (bound state at about 2.68)", check=positive),
            Param("width", 128, "hidden width of the network", quick=64, check=positive),
            Param("depth", 3, "hidden layers of the network", check=positive),
            Param("steps", 6000, "Adam steps", quick=2500, check=positive),
            Param("batch_size", 256, "minibatch size", check=positive),
            Param("learning_rate", 3e-3, "peak learning rate", check=positive),
            Param("noise_max", 2.0, "largest training noise level (1 = ALICE-like errors)", check=positive),
            Param("data", "none", "'none' (the simulated family only), 'alice-pp13' (train on the ALICE analysis "
                  "pipeline and apply to the shared ALICE pp 13 TeV data) or the path of a folder laid out like it"),
            Param("members", 5, "real data: networks in the ensemble (the spread)", quick=3, check=positive),
        ),
    )
)
