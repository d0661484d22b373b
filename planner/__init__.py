"""planner: simulate what a large AI-training cluster delivers, and plan what to buy."""

# the Python API (planner/api.py), loaded on first use so that `import planner` stays light
_API = ("CalibrationResult", "InputError", "OptimizationResult", "SimulationResult",
        "StudyResult", "calibrate", "load_scenario", "optimize", "simulate", "study")
__all__ = ["__version__", *_API]


def _version() -> str:
    """The installed distribution's version (importlib.metadata costs 60 ms to import: only
    when asked, so that the figure-drawing process and `import planner` stay light)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cluster-planner")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+unknown"


def __getattr__(name: str):
    if name == "__version__":
        globals()["__version__"] = found = _version()
        return found
    if name in _API:
        from planner import api

        return getattr(api, name)
    raise AttributeError(f"module 'planner' has no attribute {name!r}")
