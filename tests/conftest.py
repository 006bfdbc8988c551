"""Test-time checks of the public API's annotations: jaxtyping's import hook wraps every function and
dataclass of the packages below with beartype before any test imports them, so a call whose
arguments or return value contradict the annotations (types, dtypes, and shapes consistent across
arguments) fails the test that made it. beartype runs with PEP 484's implicit numeric tower (an `int`
is a `float`, a `float` a `complex`), the reading of `float` annotations that pyright applies too."""

from jaxtyping import install_import_hook

CHECKED = ("dphys.mcmc", "dphys.stats", "dphys.sde", "dphys.train", "dphys.nn")

install_import_hook(CHECKED, "beartype.beartype(conf=beartype.BeartypeConf(is_pep484_tower=True))")
