r"""Score-based diffusion models: forward processes, score models and losses, samplers,
exact likelihoods and an independence-Metropolis correction.

```python
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
