"""Report figures drawn in a second process, so that a command's wait is not the sum of
everything it does.

Importing matplotlib and pandas takes 0.6-1.5 s and drawing a run's figures 0.45-1 s, in a
command whose simulation takes 0.05 s. `FigureProcess.start()`, called as the console script
starts (planner.cli.main, for the commands that draw) or else when such a command begins,
starts `python -m planner.reports` (its __main__), which imports the plotting code at once
while the command loads, simulates and optimizes; write_reports then sends it the folder's
data (pickled, from a thread: the pipe would block until the process reads), writes the
workbook and the tables meanwhile, and collects the figures' bytes for report.html.

The bytes are those drawing in process gives (the plots are deterministic: plots.svg), and
what the process writes on stderr (a matplotlib warning) is passed on. Any failure of the
second process (an error in a figure, a process killed, data that does not pickle) makes
write_reports draw in process instead, so that an error reaches the user as it would have
without the second process. There is no second process with a single core, where it could
only slow the command down, nor with PLANNER_DRAW_IN_PROCESS=1.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from planner.parallel import default_workers

PLOTTING_MODULE = "planner.reports.plots"  # what the process imports before it is asked
SERVER_MODULE = "planner.reports"  # python -m planner.reports PARENT_PID WARM_MODULE
IN_PROCESS_ENV = "PLANNER_DRAW_IN_PROCESS"  # =1: no second process (docs/outputs.md)
_OK, _FAILED = "ok", "failed"


def function_named(job: str) -> Callable[..., Any]:
    """"module:function" -> the function (jobs go by name: naming a function object here
    would import its module, matplotlib for the plots, in the command's process)."""
    module, _, name = job.partition(":")
    return getattr(importlib.import_module(module), name)


def serve(warm: str, requests: IO[bytes], replies: IO[bytes]) -> None:
    """The drawing process: import module `warm`, then run the one job read from `requests`
    and write (_OK, result), or (_FAILED, None) when it raised, to `replies`."""
    importlib.import_module(warm)
    try:
        job, args = pickle.load(requests)
    except Exception:  # EOF: the command ended without reports
        return
    try:
        reply = pickle.dumps((_OK, function_named(job)(*args)), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # the command runs it in process and reports the error as it would
        reply = pickle.dumps((_FAILED, None))
    replies.write(reply)
    replies.flush()


class FigureProcess:
    """A process that has imported the plotting code and runs one job when asked."""

    def __init__(self, process: subprocess.Popen[bytes], stderr: IO[bytes]):
        self._process = process
        self._stderr = stderr  # a temporary file: a pipe left unread could fill and block it
        self._sender: threading.Thread | None = None

    @classmethod
    def start(cls, warm: str = PLOTTING_MODULE) -> FigureProcess | None:
        """Start the process, importing module `warm`; None with a single core, with
        IN_PROCESS_ENV=1, or when no process can be started (module docstring)."""
        if default_workers() < 2 or os.environ.get(IN_PROCESS_ENV, "").strip() == "1":
            return None
        here = str(Path(__file__).resolve().parents[2])  # where this planner is imported from
        env = {**os.environ,
               "PYTHONPATH": os.pathsep.join(filter(None, (here, os.environ.get("PYTHONPATH"))))}
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the process's, closed by close()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", SERVER_MODULE, str(os.getpid()), warm],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env)
        except OSError:  # no interpreter to start (an embedded Python)
            stderr.close()
            return None
        return cls(process, stderr)

    def submit(self, job: str, *args: Any) -> None:
        """Send `job(*args)`: job "module:function", picklable args."""
        if self._sender is not None:
            raise RuntimeError("a FigureProcess runs one job")
        stdin = self._process.stdin
        assert stdin is not None

        def send() -> None:
            try:
                pickle.dump((job, args), stdin, protocol=pickle.HIGHEST_PROTOCOL)
                stdin.close()
            except Exception:  # a process that died, data that does not pickle: result() fails
                self._process.kill()

        self._sender = threading.Thread(target=send, name="planner-figures", daemon=True)
        self._sender.start()

    def result(self) -> tuple[bool, Any]:
        """(True, the job's result), or (False, None) when the process failed it or died."""
        stdout = self._process.stdout
        assert stdout is not None
        try:
            status, value = pickle.load(stdout)
        except Exception:  # EOF: the process died; or a reply that does not unpickle
            status, value = _FAILED, None
        if status == _OK:
            self._stderr.seek(0)
            said = self._stderr.read()
            if said:
                sys.stderr.write(said.decode(errors="replace"))
        self.close()
        return status == _OK, value

    def close(self) -> None:
        """End the process at once (nothing it holds is worth waiting for)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        if self._sender is not None:  # done at once with the process gone; before the streams
            self._sender.join()  # close: a stream closed while the sender writes can crash
        for stream in (self._process.stdin, self._process.stdout, self._stderr):
            if stream is not None:
                with contextlib.suppress(OSError):  # unsent data on a broken pipe
                    stream.close()


def run_job(drawer: FigureProcess | None, job: str, *args: Any) -> Callable[[], Any]:
    """Start `job(*args)` ("module:function") in `drawer` when there is one; the returned
    call gives its result, computed in this process when the drawer is missing or failed it."""
    if drawer is not None:
        drawer.submit(job, *args)

    def result() -> Any:
        if drawer is not None:
            done, value = drawer.result()
            if done:
                return value
        return function_named(job)(*args)

    return result
