"""planner: simulate what a large AI-training cluster delivers, and plan what to buy."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cluster-planner")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

# the Python API (planner/api.py), loaded on first use so that `import planner` stays light
_API = ("CalibrationResult", "InputError", "OptimizationResult", "SimulationResult",
        "StudyResult", "calibrate", "load_scenario", "optimize", "simulate", "study")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from planner import api

        return getattr(api, name)
    raise AttributeError(f"module 'planner' has no attribute {name!r}")
