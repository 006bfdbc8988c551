r"""Score-based diffusion models: forward processes, score models and losses, samplers,
exact likelihoods and an independence-Metropolis correction.

Times t run over [process.t_min, process.t_max] (dimensionless), data and noise in the data's units;
a score acts on ONE state (batch by vmap), log-densities are in nats.

```python
import jax

import dphys.diffusion as dd
from dphys.nn import ScoreMLP

key = jax.random.PRNGKey(0)
process = dd.VEGeometric(sigma_min=0.01, sigma_max=10.0)        # x_t | x0 ~ N(x0, s_t^2), t in [0, 1]
exact = dd.GaussianScore(process, std=1.0)                      # exact score(x, t) of N(0, 1) data, one state
x, info = dd.sample(exact, key, (2,), n_samples=64, sampler=dd.EDMHeun(steps=12))  # (64, 2)
logp, _ = dd.log_likelihood(exact, x[:8])                       # nats, probability-flow ODE
x, log_q, _ = dd.sample_with_log_density(exact, key, (2,), 64, steps=12)   # exact density of the Heun map
log_p = jax.vmap(lambda y: dd.gaussian_log_prob(y, 0.0, 1.0))(x)
chain, acceptance = dd.metropolis_correct(key, x, log_q, log_p)   # exact samples of N(0, 1)
score = dd.ScoreModel(ScoreMLP(2, width=16, depth=2, key=key), process)   # a learned score
loss = dd.dsm_loss(score, jax.random.normal(key, (128, 2)), key, weighting="ncsn")
score, losses = dd.fit_score(score, jax.random.normal(key, (128, 2)), key, steps=20, learning_rate=1e-3,
                             batch_size=32)                      # Adam on dsm_loss via dphys.fit
```

The API at a glance (a reference, not runnable):

```
import dphys.diffusion as dd

# Forward processes (eqx.Modules, subclasses of dd.AbstractProcess), t in [process.t_min, process.t_max]:
dd.VESong(sigma=25.0, t_min=1e-5)                  # dx = sigma^t dW, s(t)^2 = (sigma^(2t) - 1)/(2 ln sigma)
dd.VEGeometric(sigma_min=0.01, sigma_max=50.0)     # s(t) = sigma_min (sigma_max/sigma_min)^t, t in [0, 1]
dd.VP(beta_min=0.1, beta_max=20.0, t_min=1e-3)     # dx = -beta(t) x/2 dt + sqrt(beta(t)) dW
dd.EDM(sigma_min=0.002, sigma_max=80.0, sigma_data=0.5, rho=7.0)   # t = sigma, Karras rho-schedule
process.mean_std(t) -> (alpha_t, s_t)     # x_t | x0 ~ N(alpha_t x0, s_t^2 I)
process.drift(t, x) -> like x; process.diffusion(t) -> g(t); process.noise_level(t) -> network input
#   (VE: ln s_t; VP: ln(s_t/alpha_t); EDM: ln(sigma)/4)
process.prior_sample(key, shape); process.prior_log_prob(x) -> scalar; process.perturb(key, x0, t)
process.schedule(u) -> t (u in [0, 1], t_max -> t_min); process.karras_schedule(u, rho) -> t
process.t_of_std(s) -> t; process.sigma_of_t(t) = s_t/alpha_t; process.t_of_sigma(sigma) -> t

# Scores are callables score(x, t) -> like x on ONE state with a .process attribute:
score = dd.ScoreModel(net, process, edm_precondition=False)   # net(x, noise_level) -> like x
dd.GaussianScore(process, std=1.0, mean=0.0); dd.TwoPointScore(process, mu=1.0)   # exact scores

loss = dd.dsm_loss(score, x0, key, weighting="ncsn")  # or "sigma2", "likelihood", "edm"; x0: [batch, ...]
x, info = dd.sample(score, key, shape, n_samples=..., sampler="em", steps=500, snr=0.16, rtol=1e-5,
                    atol=1e-5, guidance=None, save_every=None, n_corrector=1, denoise=False, x_init=None,
                    solver="tsit5", rho=7.0, process=None)
# sampler: "em" | "pc" | "ode" | "heun", or an object whose fields are those settings:
x, info = dd.sample(score, key, shape, n, sampler=dd.EDMHeun(steps=18, rho=7.0))   # also dd.EulerMaruyama(500),
#   dd.PredictorCorrector(500, snr=0.16, n_corrector=1), dd.ProbabilityFlowODE("tsit5", rtol, atol);
#   sampler.n_score_evals (None for the adaptive ODE); info.n_score_evals per sample; info.trajectory
logp, info = dd.log_likelihood(score, x, key=None, n_probes=None)   # nats; exact div or Hutchinson
x, log_q, info = dd.sample_with_log_density(score, key, shape, n_samples, steps=18, fold="reject")
#   Heun samples and their exact density under the Heun map (sign and log|det| of each step's
#   Jacobian): log_q = +inf and info.folded where a step has det <= 0 (a fold), for exact Metropolis
chain, acceptance = dd.metropolis_correct(key, x, log_q, log_p)      # arrays (n,) or fns of one state;
#   jit-able; log_q = +inf is rejected (dphys.mcmc.independence_chain). Never a Hutchinson log_q.
xs = dd.forward(process, key, x0, ts, dt=1e-3)                       # forward SDE via dphys.integrate_sde
dd.wrapped_normal_score(x, x0, s); dd.wrapped_normal_log_prob(x, s)  # noise on angles (the torus)
```

Networks see `c_in x` with $c_{in} = 1/\sqrt{\alpha_t^2\sigma_d^2 + s_t^2}$ and their output is
divided by $s_t$ (they predict $-z$), or go through the EDM preconditioning (`dphys.diffusion.score`).
Bad input (`sigma_min >= sigma_max`, non-positive parameters, a network output shaped unlike its input,
`steps <= 0`, NaN in data, `n_probes == 0`) raises `ValueError` naming the value.

Processes (`processes`; eqx.Modules with `mean_std`, `drift`, `diffusion`, `noise_level`, `prior_sample`, ...):
- `AbstractProcess`; `VESong`, `VEGeometric` (variance exploding), `VP` (variance preserving), `EDM`
  (Karras et al. 2022: t = sigma).
- `forward`: the forward SDE from clean data through `dphys.integrate_sde`.

Scores and losses (`score`, `exact`):
- `ScoreModel`: a network `net(x, noise_level)` made a score `score(x, t)`, optional EDM preconditioning.
- `dsm_loss`: denoising score matching with a weighting from `WEIGHTINGS` ("ncsn", "sigma2",
  "likelihood", "edm"); `sample_training_times`: its times and importance weights.
- `fit_score` (`training`): Adam with cosine decay on `dsm_loss` through `dphys.fit`.
- Exact scores for tests: `GaussianScore`, `TwoPointScore` (x0 = +-mu), with `gaussian_log_prob` and
  `two_point_cumulants` (the cumulants of x_t).

Samplers (`samplers`):
- `sample`: "em", "pc", "ode", "heun" (the names in `SAMPLERS`) or a sampler object: `AbstractSampler`,
  `EulerMaruyama`, `PredictorCorrector`, `ProbabilityFlowODE` (solvers `ODE_SAMPLER_SOLVERS`), `EDMHeun`;
  a `SampleInfo` (score evaluations, trajectory, folds).
- `probability_flow`: the ODE vector field $f(t)x - g(t)^2 S(x, t)/2$.

Likelihoods and exact correction (`likelihood`, `metropolis`):
- `log_likelihood`: $\log p(x)$ [nats] by the probability-flow ODE (exact divergence or Hutchinson), a
  `LikelihoodInfo`.
- `sample_with_log_density`: Heun samples with their exact density (`fold` in `FOLD_MODES`);
  `metropolis_correct`: the independence-Metropolis chain that makes them exact.

Noise on angles (`wrapped`): `wrapped_normal_score`, `wrapped_normal_log_prob` (the torus).
"""

from dphys.diffusion.exact import GaussianScore as GaussianScore
from dphys.diffusion.exact import TwoPointScore as TwoPointScore
from dphys.diffusion.exact import gaussian_log_prob as gaussian_log_prob
from dphys.diffusion.exact import two_point_cumulants as two_point_cumulants
from dphys.diffusion.likelihood import FOLD_MODES as FOLD_MODES
from dphys.diffusion.likelihood import LikelihoodInfo as LikelihoodInfo
from dphys.diffusion.likelihood import log_likelihood as log_likelihood
from dphys.diffusion.likelihood import (
    sample_with_log_density as sample_with_log_density,
)
from dphys.diffusion.metropolis import metropolis_correct as metropolis_correct
from dphys.diffusion.processes import EDM as EDM
from dphys.diffusion.processes import VP as VP
from dphys.diffusion.processes import AbstractProcess as AbstractProcess
from dphys.diffusion.processes import VEGeometric as VEGeometric
from dphys.diffusion.processes import VESong as VESong
from dphys.diffusion.samplers import ODE_SAMPLER_SOLVERS as ODE_SAMPLER_SOLVERS
from dphys.diffusion.samplers import SAMPLERS as SAMPLERS
from dphys.diffusion.samplers import AbstractSampler as AbstractSampler
from dphys.diffusion.samplers import EDMHeun as EDMHeun
from dphys.diffusion.samplers import EulerMaruyama as EulerMaruyama
from dphys.diffusion.samplers import PredictorCorrector as PredictorCorrector
from dphys.diffusion.samplers import ProbabilityFlowODE as ProbabilityFlowODE
from dphys.diffusion.samplers import SampleInfo as SampleInfo
from dphys.diffusion.samplers import forward as forward
from dphys.diffusion.samplers import probability_flow as probability_flow
from dphys.diffusion.samplers import sample as sample
from dphys.diffusion.score import WEIGHTINGS as WEIGHTINGS
from dphys.diffusion.score import ScoreModel as ScoreModel
from dphys.diffusion.score import dsm_loss as dsm_loss
from dphys.diffusion.score import sample_training_times as sample_training_times
from dphys.diffusion.training import fit_score as fit_score
from dphys.diffusion.wrapped import wrapped_normal_log_prob as wrapped_normal_log_prob
from dphys.diffusion.wrapped import wrapped_normal_score as wrapped_normal_score
