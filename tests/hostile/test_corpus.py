"""The hostile-input corpus: every bad file, option and folder is refused in one line, with the
documented exit code, naming the file (and line and field where there is one), never with a
traceback, and within 5 s.

The committed cases are in manifest.json and files/ (written by make_corpus.py); generated ones
(1,500-level nesting, 100,000-digit numbers, special files, a 5 MB file) are built here.
Special files and alias bombs run in a subprocess with a timeout, the rest in process.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, invoke_planner, run_planner
from tests.hostile import make_corpus

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
MANIFEST = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
MAX_SECONDS = 5.0
MAX_STDERR_LINES = 4


def _args(entry: dict, path: Path | None, out: Path, folder: Path | None) -> list[str]:
    values = {"{out}": str(out), "{folder}": str(folder)}
    args = [values.get(a, a) for a in entry["args"]]
    return [entry["command"], *([str(path)] if path is not None else []), *args]


def _pattern(entry: dict, path: Path | None, folder: Path | None) -> str:
    pattern = entry["pattern"]
    if path is not None:
        pattern = pattern.replace("{file}", re.escape(str(path)))
    if folder is not None:
        pattern = pattern.replace("{folder}", re.escape(str(folder)))
    return pattern


def _report_folder(entry: dict, tmp_path: Path) -> Path:
    """An output folder holding the files the entry describes (None: an empty Parquet)."""
    import pandas as pd

    folder = tmp_path / "folder"
    folder.mkdir()
    for name, text in entry["folder"].items():
        if text is None:
            pd.DataFrame({"a": [1]}).to_parquet(folder / name)
        else:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


def refused(args: list[str], code: int, pattern: str, subprocess: bool = False) -> str:
    """Run `planner ARGS`; check the exit code, the one line, no traceback, the time."""
    start = time.perf_counter()
    if subprocess:
        proc = run_planner(*args)
        status, stderr, exception = proc.returncode, proc.stderr, None
        assert "Traceback" not in stderr, stderr
    else:
        result = invoke_planner(*args)
        status, stderr, exception = result.exit_code, result.stderr, result.exception
        assert isinstance(exception, SystemExit), repr(exception)  # no uncaught error
    elapsed = time.perf_counter() - start
    lines = stderr.strip().splitlines()
    assert status == code, (status, stderr)
    assert 1 <= len(lines) <= MAX_STDERR_LINES, stderr
    assert re.search(pattern, lines[0]), (pattern, lines[0])
    assert elapsed < MAX_SECONDS if not subprocess else elapsed < 3 * MAX_SECONDS, elapsed
    return lines[0]


def test_the_corpus_is_what_make_corpus_writes(tmp_path):
    manifest = make_corpus.write(tmp_path / "files")
    written = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == written, "run: python tests/hostile/make_corpus.py"
    for entry in manifest:
        if entry["file"] is not None:
            assert (tmp_path / "files" / entry["file"]).read_bytes() == \
                (FILES / entry["file"]).read_bytes(), entry["file"]
    assert len([e for e in manifest if e["file"]]) >= 150


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["name"] for e in MANIFEST])
def test_every_corpus_input_is_refused_in_one_line(entry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a command that wrongly succeeds writes nothing into the repo
    path = FILES / entry["file"] if entry["file"] else None
    folder = _report_folder(entry, tmp_path) if entry["kind"] == "report" else None
    out = tmp_path / "out"
    refused(_args(entry, path, out, folder), entry["exit"], _pattern(entry, path, folder),
            subprocess=entry["kind"] == "subprocess")
    if entry["exit"] == 2 and entry["command"] in ("run", "optimize", "study"):
        assert not out.exists() or not any(out.iterdir()), "nothing written for bad input"


# --- generated: too big to commit, or not files at all -------------------------------------------

DEEP = 1500


@pytest.mark.parametrize("text", [
    "seed: " + "[" * DEEP + "]" * DEEP + "\n",
    "name: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n",
    "".join("  " * i + f"k{i}:\n" for i in range(DEEP)) + "  " * DEEP + "v: 1\n",
], ids=["flow-lists", "flow-maps", "block-maps"])
def test_yaml_nested_1500_levels_is_refused(text, tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    refused(["validate", str(path)], 2,
            re.escape(str(path)) + r":\d+ malformed YAML: nested deeper than 64 levels")


def test_a_100000_digit_number_is_refused(tmp_path):
    path = tmp_path / "digits.yaml"
    path.write_text(make_corpus.BASE.replace("seed: 1", "seed: " + "7" * 100_000))
    refused(["validate", str(path)], 2,
            re.escape(str(path)) + r":4 malformed YAML: a number of more than 4300 digits")


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (5 * 1024 * 1024))
    refused(["validate", str(path)], 2, re.escape(str(path)) + r" is [\d,]+ bytes; an input "
            r"file may have at most 4,194,304")


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "fifo", "socket"])
def test_a_special_file_is_refused_without_reading_it(special, tmp_path):
    import socket

    path = Path(special)
    if special == "fifo":
        path = tmp_path / "scenario.yaml"
        os.mkfifo(path)
    elif special == "socket":
        path = tmp_path / "s.yaml"
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
    if not path.exists():
        pytest.skip(f"{path} does not exist here")
    refused(["validate", str(path)], 2,
            re.escape(str(path)) + r" is not a regular file \(a device, pipe or socket\)",
            subprocess=True)


def test_a_fifo_as_a_studys_base_is_refused(tmp_path):
    os.mkfifo(tmp_path / "base.yaml")
    study = tmp_path / "study.yaml"
    study.write_text(make_corpus.STUDY)
    refused(["study", str(study), "-q", "--out", str(tmp_path / "out")], 2,
            re.escape(str(study)) + r":2 base: base scenario .*base\.yaml is not a regular file",
            subprocess=True)


# --- a mutator over the shipped examples -------------------------------------------------------

EXAMPLES = sorted(p for p in (ROOT / "scenarios").glob("*.yaml") if "study" not in p.name)
HOSTILE_TEXT = ["\x00", "\x07", "\t", "{", "}", "[", "]", ":", "- ", "&a ", "*a", "? ", "!!python/object:os.system ",
                "true", "1e999", "9" * 5000, "2027-02-30", '"', "'", "\n", "  ", "#", "%", "@", "\ufeff", "<<: *a\n"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(example=st.sampled_from(EXAMPLES), edits=st.lists(st.tuples(
    st.floats(0, 1), st.sampled_from(["insert", "delete", "duplicate"]), st.sampled_from(HOSTILE_TEXT),
    st.integers(1, 40)), min_size=1, max_size=4))
def test_mutated_examples_validate_or_are_refused_in_one_line(example, edits):
    text = example.read_text(encoding="utf-8")
    for where, action, piece, length in edits:
        at = int(where * len(text))
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + length:]
        else:
            text = text[:at] + text[at:at + length] * 2 + text[at + length:]
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"planner-mutant-{os.getpid()}.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        result = invoke_planner("validate", str(path))
    finally:
        path.unlink(missing_ok=True)
    assert isinstance(result.exception, SystemExit) or result.exception is None, \
        repr(result.exception)
    assert result.exit_code in (0, 2), result.stderr
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(str(path)), result.stderr
