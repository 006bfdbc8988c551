"""Fit the emission source of proton pairs to the ALICE pp 13 TeV (minimum bias) p-p correlation
function, with the full analysis model a femtoscopist would use in CATS/DLM, differentiably:

    C_model(k) = N * R [ lambda_gen C_pp(k) + lambda_pL T[C_pL](k) + lambda_flat ]

- C_pp: Koonin-Pratt with Argonne v18 in 1S0, 3P0, 3P1, 3P2, 1D2 plus Coulomb (the kernel is
  computed once, ~1.5 min on one CPU core; every fit then folds a source into it);
- C_pL: Lednicky-Lyuboshitz with chiral EFT NLO scattering parameters, moved to the p-p momentum by
  the decay matrix hRes_pp_pL; R: the momentum-resolution matrix (x = true k*);
- lambda = 0.748 (genuine), 0.151 (p-Lambda), 0.101 (flat feed-down + misidentified), N a constant.

Needs the shared data folder ../shared/data/alice_pp13TeV_MB_pp (or DPHYS_SHARED_DATA pointing at
its parent). Prints the Gaussian radius with its error and chi^2/ndf, then a core + tail source.

    python examples/femto_alice.py
"""

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)  # the scattering solvers need float64

from dphys.femto import alice, decomposition, sources  # noqa: E402
from dphys.femto.correlation import PP_WAVES  # noqa: E402
from dphys.femto.fitting import compare, fit_least_squares  # noqa: E402
from dphys.scattering import AV18  # noqa: E402

pp = alice.load_pp13()  # form="root" reads the ROOT files with uproot (pip install 'dphys[root]')
data = pp.data(kmax=350.0)  # 88 bins of 4 MeV/c, statistical errors
model = decomposition.build_pp13(pp, {w: AV18(w) for w in PP_WAVES})

gauss = fit_least_squares(
    lambda p: decomposition.predict(model, sources.GaussianSource(p["radius"]), p["norm"]),
    {"radius": 1.2, "norm": 1.0}, data)
print(f"Gaussian source: R = {gauss.params['radius']:.3f} +- {gauss.errors['radius']:.3f} fm, "
      f"N = {gauss.params['norm']:.4f}, chi2/ndf = {gauss.chi2:.1f}/{gauss.ndf:.0f} = {gauss.chi2_ndf:.2f}")

r_pl = float(gauss.params["radius"])  # the p-Lambda source: a Gaussian of this radius
core_tail = fit_least_squares(
    lambda p: decomposition.predict(model, sources.CoreTailSource(p["radius"], p["tail_length"], p["tail_fraction"]),
                                    p["norm"], pl_radius=r_pl),
    {"radius": 1.0, "tail_length": 1.5, "tail_fraction": 0.3, "norm": 1.0}, data)
print(compare({"Gaussian": gauss, "core + tail": core_tail}))

# the whole chi^2 is one differentiable function: its gradient in (R, N) at the best fit is ~0
chi2 = jax.jit(jax.grad(lambda p: jnp.sum(((decomposition.predict(model, sources.GaussianSource(p[0]), p[1])
                                            - data.C) / data.error) ** 2)))
print("gradient of chi^2 at the Gaussian best fit:", chi2(jnp.array([gauss.params["radius"], gauss.params["norm"]])))
