"""report.html of a run, an optimize and a study, loaded in headless Chromium (Debian's
package, installed by .ci/run): the page loads and logs nothing to the console."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from tests.conftest import ROOT, invoke_planner

BROWSER = next((shutil.which(name) for name in ("chromium", "chromium-browser")
                if shutil.which(name)), None)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    BROWSER is None, reason="no headless Chromium here (apt-get install chromium; .ci/run does)")]


def _console_messages(page) -> list[str]:
    """What the page wrote to the browser console while loading (errors included)."""
    done = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu",
                           "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<h1>" in done.stdout  # the page rendered
    return [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


def test_the_console_check_sees_an_error(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><h1>x</h1><script>undefinedFunction();</script></body></html>")
    assert any("Uncaught" in line for line in _console_messages(bad))


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    run, opt, study = root / "run", root / "opt", root / "study"
    assert invoke_planner("run", str(ROOT / "scenarios" / "h800-10k.yaml"), "-r", "2",
                          "--set", "horizon_days=120", "--out", str(run), "-q").exit_code == 0
    assert invoke_planner("optimize", str(ROOT / "scenarios" / "procurement-2027.yaml"),
                          "--analyses", "none", "--out", str(opt), "-q").exit_code == 0
    study_file = root / "study.yaml"
    study_file.write_text(yaml.safe_dump({
        "name": "browser-study", "base": str(ROOT / "scenarios" / "h800-10k.yaml"),
        "replications": 2, "set": {"horizon_days": 60},
        "grid": {"cluster.spares.items[0].initial_stock": [20, 60], "seed": [1, 2]},
        "sensitivity": {"metric": "goodput_gpu_hours"}}))
    assert invoke_planner("study", str(study_file), "-w", "1", "--out", str(study),
                          "-q").exit_code == 0
    return {"run": run, "optimize": opt, "study": study}


@pytest.mark.parametrize("kind", ["run", "optimize", "study"])
def test_the_report_page_logs_no_console_message(folders, kind):
    assert _console_messages(folders[kind] / "report.html") == []
