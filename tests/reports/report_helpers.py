"""Helpers of the report tests: running `planner run` into a folder, finding LibreOffice."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def planner_run(scenario: str, out: Path, *args: str) -> Path:
    """`planner run ROOT/scenario --out out -w 1 -q args...` in a subprocess; returns out."""
    cmd = [sys.executable, "-m", "planner.cli", "run", str(ROOT / scenario), "--out", str(out),
           "-w", "1", "-q", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return out


def require_soffice() -> str:
    """The soffice executable; without one, skip (CI unset) or fail (CI set)."""
    found = shutil.which("soffice")
    if found:
        return found
    if "CI" in os.environ:
        pytest.fail("soffice (LibreOffice Calc) is not on PATH; .ci/run installs "
                    "libreoffice-calc-nogui")
    pytest.skip("soffice (LibreOffice Calc) is not on PATH; set CI to make this a failure")
    raise AssertionError("unreachable")
