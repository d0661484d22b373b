"""planner: simulate what a large AI-training cluster delivers, and plan what to buy."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cluster-planner")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
