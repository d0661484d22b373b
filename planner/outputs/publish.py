"""Publishing an output folder: one writer at a time, and never a folder that is half old, half
new, or looks complete when it is not.

- A lock file beside the folder (`.<name>.lock`, created with O_EXCL, holding the PID and host)
  keeps a second writer out; a lock whose process is gone (same host, dead PID) is taken over.
- The new content is built in a sibling (`.<name>.new-<pid>`), a `complete` marker is written in
  it last, then the old folder is renamed aside (`.<name>.old-<pid>`), the new one renamed into
  place and the old one deleted.
- A crash between the two renames leaves the aside folder; the next command on that folder
  finishes the swap (the new folder was complete) or restores the old one, with a one-line
  notice. An unfinished staging folder is removed.
- Only a folder that is new, empty or a planner output folder is ever replaced.

Linux (POSIX rename and O_EXCL on a local file system) is the supported platform.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from planner.outputs.layout import (
    ASIDE_INFIX,
    COMPLETE,
    FOLDER_MARKERS,
    LOCK_SUFFIX,
    STAGING_INFIX,
    TEMP_SUFFIX,
    StudyFolder,
)

Notice = Callable[[str], None]
# a lock file without a readable owner is being written this instant, or was left damaged by a
# crash; after this long it is taken for damaged
_UNREADABLE_LOCK_GRACE_S = 10.0


class FolderBusy(Exception):
    """Another live planner process holds the folder's lock."""


class NotAnOutputFolder(Exception):
    """The target exists and holds files planner did not write: it is never replaced."""


def _hidden(target: Path, suffix: str) -> Path:
    return target.parent / f".{target.name}{suffix}"


def lock_path(target: Path) -> Path:
    return _hidden(target, LOCK_SUFFIX)


def _host() -> str:
    return socket.gethostname()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class FolderLock:
    """The exclusive right to write one output folder, for the life of the context."""

    def __init__(self, target: Path):
        self.target = target
        self.path = lock_path(target)
        self._held = False

    def __enter__(self) -> FolderLock:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        mine = f"{os.getpid()} {_host()}\n"
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
            except FileExistsError:
                if self._take_over_stale():
                    continue
                raise FolderBusy(self._owner_text()) from None
            with os.fdopen(fd, "w") as fh:
                fh.write(mine)
            self._held = True
            return self
        raise FolderBusy(self._owner_text())

    def _owner(self) -> tuple[int, str] | None:
        try:
            pid_text, host = self.path.read_text(encoding="utf-8").split()
            return int(pid_text), host
        except (OSError, ValueError):
            return None

    def _owner_text(self) -> str:
        owner = self._owner()
        who = f"planner process {owner[0]} on {owner[1]}" if owner else "another planner process"
        return f"is being written by {who} (lock {self.path}); wait for it to finish"

    def _take_over_stale(self) -> bool:
        """Remove the lock of a process that no longer runs on this host; True if removed."""
        owner = self._owner()
        if owner is None:  # being written this instant, or damaged: damaged if old
            try:
                written_at = os.path.getmtime(self.path)
            except OSError:
                return True  # gone meanwhile: try again
            if time.time() - written_at < _UNREADABLE_LOCK_GRACE_S:
                return False
        elif owner[1] != _host() or _alive(owner[0]):
            return False
        self.path.unlink(missing_ok=True)
        return True

    def __exit__(self, *exc: object) -> None:
        if self._held:
            self.path.unlink(missing_ok=True)
            self._held = False


def is_output_folder(folder: Path) -> bool:
    """A folder planner wrote: it has the completion marker or a folder marker file, or it is
    a study's case store and nothing else (a study that has not finished yet)."""
    if any((folder / name).exists() for name in (COMPLETE, *FOLDER_MARKERS)):
        return True
    entries = list(folder.iterdir())
    store = folder / StudyFolder.CASE_STORE
    return entries == [store] and store.is_dir() and all(
        p.suffix in (StudyFolder.CASE_SUFFIX, TEMP_SUFFIX) for p in store.iterdir())


def check_replaceable(target: Path) -> None:
    """Refuse to replace a folder that is not new, empty or a planner output folder."""
    if not target.exists():
        return
    if not target.is_dir():
        raise NotAnOutputFolder("exists and is not a folder")
    if is_output_folder(target) or not any(target.iterdir()):
        return
    raise NotAnOutputFolder("holds files planner did not write; choose a new or empty folder")


def recover(target: Path, notice: Notice) -> None:
    """Put right what an interrupted command left beside `target` (call under its lock)."""
    parent, prefix = target.parent, f".{target.name}"
    if not parent.is_dir():
        return
    asides = sorted(parent.glob(f"{prefix}{ASIDE_INFIX}*"))
    stagings = {p.name.rsplit("-", 1)[-1]: p for p in parent.glob(f"{prefix}{STAGING_INFIX}*")}
    for aside in asides:
        pid = aside.name.rsplit("-", 1)[-1]
        staging = stagings.pop(pid, None)
        if target.exists():  # the swap was done; only the old copy was left
            shutil.rmtree(aside, ignore_errors=True)
            notice(f"{target}: removed the previous version an interrupted command left at "
                   f"{aside.name}")
        elif staging is not None and (staging / COMPLETE).exists():
            os.replace(staging, target)
            shutil.rmtree(aside, ignore_errors=True)
            notice(f"{target}: finished replacing it with the new version an interrupted "
                   "command had completed")
        else:
            os.replace(aside, target)
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            notice(f"{target}: restored the previous version an interrupted command had set "
                   f"aside at {aside.name}")
    for staging in stagings.values():
        shutil.rmtree(staging, ignore_errors=True)
        notice(f"{target}: removed the unfinished output of an interrupted command "
               f"({staging.name})")


def _link_or_copy(source: Path, destination: Path) -> None:
    """Hard-link a finished file into the new folder (it is never rewritten in place), else
    copy it."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, destination)
    except OSError as err:
        if err.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copy2(source, destination)


def carry_over(target: Path, staging: Path, keep: Callable[[Path], bool]) -> None:
    """The files of the current `target` (relative paths) that `keep` accepts, into
    `staging`, where the new files are then written over them."""
    if not target.is_dir():
        return
    for path in sorted(target.rglob("*")):
        relative = path.relative_to(target)
        if path.is_file() and not path.name.startswith(".") and keep(relative):
            _link_or_copy(path, staging / relative)


@contextmanager
def staged(target: Path, keep: Callable[[Path], bool] | None = None,
           marker_text: str = "") -> Iterator[Path]:
    """A new folder beside `target` to write into; when the block ends normally, the
    `complete` marker is written last and the folder replaces `target`. On an error the new
    folder is removed and `target` is left as it was. Call it under the folder's lock."""
    check_replaceable(target)
    staging = _hidden(target, f"{STAGING_INFIX}{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        os.mkdir(staging)  # mode from the umask, as any folder a user makes
        if keep is not None:
            carry_over(target, staging, keep)
        yield staging
        (staging / COMPLETE).write_text(marker_text, encoding="utf-8")
        _swap(target, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap(target: Path, staging: Path) -> None:
    aside = _hidden(target, f"{ASIDE_INFIX}{os.getpid()}")
    if target.exists():
        os.replace(target, aside)
        os.replace(staging, target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(staging, target)
