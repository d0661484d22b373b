"""Publishing an output folder: the lock, the swap, and putting right what a crash left."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from planner.outputs.layout import COMPLETE
from planner.outputs.publish import (
    FolderBusy,
    FolderLock,
    NotAnOutputFolder,
    check_replaceable,
    lock_path,
    recover,
    staged,
)


def _folder(path, files: dict[str, str]):
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    return path


def _names(path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}


def test_a_new_folder_replaces_the_old_one_whole(tmp_path):
    target = _folder(tmp_path / "out", {"summary.json": "old", "plot_old.png": "x", COMPLETE: ""})
    with staged(target, marker_text="run\n") as new:
        (new / "summary.json").write_text("new")
    assert _names(target) == {"summary.json", COMPLETE}
    assert (target / "summary.json").read_text() == "new"
    assert (target / COMPLETE).read_text() == "run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing left beside it


def test_an_error_leaves_the_old_folder_and_no_new_one(tmp_path):
    target = _folder(tmp_path / "out", {"summary.json": "old", COMPLETE: ""})
    with pytest.raises(OSError), staged(target) as new:
        (new / "summary.json").write_text("half")
        raise OSError(28, "No space left on device")
    assert (target / "summary.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_kept_files_are_carried_into_the_new_folder(tmp_path):
    target = _folder(tmp_path / "out", {"study.json": "s", "cases/a.json": "{}",
                                        "report.xlsx": "old", COMPLETE: ""})
    with staged(target, keep=lambda rel: rel.parts[0] == "cases") as new:
        (new / "study.json").write_text("s2")
    assert _names(target) == {"study.json", "cases/a.json", COMPLETE}


def test_a_folder_planner_did_not_write_is_never_replaced(tmp_path):
    home = _folder(tmp_path / "home", {"thesis.tex": "years of work"})
    with pytest.raises(NotAnOutputFolder):
        check_replaceable(home)
    with pytest.raises(NotAnOutputFolder), staged(home):
        pass
    assert (home / "thesis.tex").read_text() == "years of work"
    check_replaceable(tmp_path / "new")  # absent: fine
    check_replaceable(_folder(tmp_path / "empty", {}))
    check_replaceable(_folder(tmp_path / "unfinished-study", {"cases/k.json": "{}"}))


@pytest.mark.parametrize("state", ["swap-done", "new-complete", "new-unfinished", "staging-only"])
def test_recover_puts_right_what_a_crash_between_the_renames_left(tmp_path, state):
    target = tmp_path / "out"
    old = {"summary.json": "old", COMPLETE: ""}
    new = {"summary.json": "new"} | ({COMPLETE: ""} if state != "new-unfinished" else {})
    if state == "swap-done":
        _folder(target, new)
        _folder(tmp_path / ".out.old-123", old)
    elif state == "staging-only":
        _folder(target, old)
        _folder(tmp_path / ".out.new-123", new)
    else:
        _folder(tmp_path / ".out.old-123", old)
        _folder(tmp_path / ".out.new-123", new)
    notices: list[str] = []
    recover(target, notices.append)
    expected = {"swap-done": "new", "new-complete": "new", "new-unfinished": "old",
                "staging-only": "old"}[state]
    assert (target / "summary.json").read_text() == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert notices and all(n.startswith(str(target)) and "\n" not in n for n in notices)


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    target = tmp_path / "out"
    with FolderLock(target):
        with pytest.raises(FolderBusy, match=rf"planner process {os.getpid()} on "):
            FolderLock(target).__enter__()
        assert lock_path(target).exists()
    assert not lock_path(target).exists()
    with FolderLock(target):  # free again
        pass


def test_the_lock_of_a_dead_process_is_taken_over(tmp_path):
    target = tmp_path / "out"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    lock_path(target).write_text(f"{int(dead.stdout)} {socket.gethostname()}\n")
    with FolderLock(target):
        assert lock_path(target).read_text().split()[0] == str(os.getpid())


def test_the_lock_of_a_live_process_or_another_host_is_respected(tmp_path):
    target = tmp_path / "out"
    lock_path(target).write_text(f"{os.getppid()} {socket.gethostname()}\n")
    with pytest.raises(FolderBusy):
        FolderLock(target).__enter__()
    lock_path(target).write_text("1 some-other-host\n")
    with pytest.raises(FolderBusy, match="on some-other-host"):
        FolderLock(target).__enter__()


def test_files_are_written_with_the_umask_not_mkstemps_0600(tmp_path):
    from planner.outputs.atomic import FILE_MODE, write_text

    write_text(tmp_path / "report.html", "<p>x</p>")
    mode = (tmp_path / "report.html").stat().st_mode & 0o777
    assert mode == FILE_MODE and FILE_MODE & 0o044  # group and others may read (umask 022)
