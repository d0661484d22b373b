"""Pyomo imported through solvers.pyomo_env leaves scipy and matplotlib as light as they are
without it (its post-import callbacks would import scipy.stats and pyplot: 1 s and 0.1 s)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import sys
import solvers.pyomo_env
from solvers.pyomo_env import pyo
import scipy.special, scipy.sparse
import matplotlib.figure
m = pyo.ConcreteModel()
m.x = pyo.Var(bounds=(0, 1))
assert pyo.value(m.x.ub) == 1
print(sorted(name for name in ("scipy.stats", "scipy.integrate", "scipy.spatial",
                               "matplotlib.pyplot", "matplotlib.pylab") if name in sys.modules))
"""


def test_pyomo_leaves_scipy_and_matplotlib_light():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_without_it_pyomo_would_import_them():
    """The callbacks exist (a Pyomo that dropped them would make the module useless)."""
    probe = PROBE.replace("import solvers.pyomo_env\nfrom solvers.pyomo_env import pyo",
                          "import pyomo.environ as pyo")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert "scipy.stats" in done.stdout and "matplotlib.pyplot" in done.stdout, done.stdout
