"""Pyomo for this package, without the import hooks that would cost a command a second.

Pyomo registers post-import callbacks for optional libraries: once `scipy` is imported by
anyone, it imports scipy.stats, integrate, sparse and spatial (about 1.1 s, for a t quantile or
a Poisson interval from scipy.special); once `matplotlib` is, it imports pyplot and pylab
(about 0.3 s, for reports that draw on Figure objects). Nothing here uses those Pyomo features,
so the two callbacks are dropped as Pyomo is imported, while the libraries are not loaded yet
(an import already done has run its callback). Every module of the package imports Pyomo from
here: `from solvers.pyomo_env import pyo`.
"""

from __future__ import annotations

import sys

import pyomo.environ as pyo
from pyomo.common import dependencies

# libraries whose Pyomo post-import callback only imports more of them
UNUSED_CALLBACKS = ("scipy", "matplotlib")


def _drop_unused_callbacks() -> None:
    callbacks = getattr(dependencies.DeferredImportCallbackFinder, "_callbacks", None)
    if isinstance(callbacks, dict):
        for name in UNUSED_CALLBACKS:
            if name not in sys.modules:
                callbacks.pop(name, None)


_drop_unused_callbacks()

__all__ = ["pyo"]
