"""The built-in stat tests, one module each; importing this package registers them."""

from kubedrift_jobs.drift.stattests import (
    anderson,
    chisquare,
    cramer_von_mises,
    energy_distance,
    hellinger,
    jensenshannon,
    kl_div,
    ks,
    mannwhitney,
    psi,
    t_test,
    wasserstein,
    z,
)

__all__ = [
    "anderson",
    "chisquare",
    "cramer_von_mises",
    "energy_distance",
    "hellinger",
    "jensenshannon",
    "kl_div",
    "ks",
    "mannwhitney",
    "psi",
    "t_test",
    "wasserstein",
    "z",
]
