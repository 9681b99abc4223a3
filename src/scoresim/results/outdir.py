"""Output folders: claimed and checked before the work, renamed into place after it.

:class:`OutputFolder` creates ``<out>.partial-<pid>`` and writes a probe file into it
*before* a simulation starts, so a read-only file system, a path under a file or a missing
permission is found in a second, not after an hour of work. When the work is done,
:meth:`OutputFolder.commit` renames it to ``<out>``; if another process created ``<out>``
meanwhile, the results are kept in the partial folder and the error says where. An
interrupted or failed run removes its partial folder: nothing half-written looks complete.
A process killed outright (``kill -9``) cannot: :func:`stale_partials` finds the partial
folders of processes that have ended (``scoresim run`` names them, ``scoresim clean``
removes them).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from scoresim.errors import ScenarioError


class OutputFolder:
    """``with OutputFolder(out) as tmp: ...write into tmp...; folder.commit()``."""

    def __init__(self, out: Path | str, what: str = "--out"):
        self.out = Path(out)
        self.tmp = self.out.with_name(f"{self.out.name}.partial-{os.getpid()}")
        self.committed = self.kept = False
        if self.out.exists() or self.out.is_symlink():
            raise ScenarioError(f"{self.out}: the output folder exists already; choose another "
                                f"{what} or remove it.")
        try:
            if self.tmp.exists():
                shutil.rmtree(self.tmp)
            self.tmp.mkdir(parents=True)
            probe = self.tmp / ".write-test"
            probe.write_bytes(b"scoresim")
            probe.unlink()
        except OSError as exc:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise ScenarioError(f"{self.out}: {what} cannot be written: "
                                f"{exc.strerror or exc} ({exc.filename or self.tmp}).") from None

    def __enter__(self) -> Path:
        return self.tmp

    def commit(self) -> Path:
        """Rename the partial folder to ``out``; never over an existing one."""
        if self.out.exists() or self.out.is_symlink():
            self.kept = True
            raise ScenarioError(f"{self.out}: the output folder was created by someone else "
                                f"while this one was running; the results are kept in "
                                f"{self.tmp}.")
        try:
            self.tmp.rename(self.out)
        except OSError as exc:
            self.kept = True
            raise ScenarioError(f"{self.out}: cannot rename the finished folder into place "
                                f"({exc.strerror}); the results are kept in {self.tmp}.") \
                from None
        self.committed = True
        return self.out

    def discard(self) -> None:
        if not self.committed and not self.kept:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __exit__(self, *exc) -> None:
        self.discard()


def check_writable_folder(folder: Path, what: str) -> None:
    """A probe file written into (and removed from) an existing folder."""
    probe = folder / f".write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"scoresim")
        probe.unlink()
    except OSError as exc:
        raise ScenarioError(f"{folder}: {what} cannot be written: "
                            f"{exc.strerror or exc}.") from None


class FolderLock:
    """An exclusive lock on ``folder/NAME`` (``flock``): a second process that wants the same
    folder is refused at once with the first one's pid. The kernel drops the lock when its
    process ends, however it ends, so a killed sweep never leaves a stale lock."""

    def __init__(self, folder: Path, name: str = "sweep.lock", what: str = "sweep"):
        self.path, self.what, self.fd = folder / name, what, None

    def __enter__(self) -> FolderLock:
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as exc:
            raise ScenarioError(f"{self.path.parent}: the {self.what} folder cannot be "
                                f"written: {exc.strerror}.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise ScenarioError(f"{self.path.parent}: another {self.what} (pid {holder}) is "
                                "writing into this folder; wait for it to finish or choose "
                                "another --out.") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)  # (releases the lock; the file stays, harmless)
            self.fd = None


# ------------------------------------------------------------- partial folders left over

#: ``NAME.partial-PID``: a folder (or a sweep's file) being written by process PID.
_PARTIAL = re.compile(r"^(?P<name>.+)\.partial-(?P<pid>\d{1,10})$")
#: Linux's largest process id (``/proc/sys/kernel/pid_max`` is at most 2^22).
_PID_MAX = 1 << 22


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (one of another user counts)."""
    if pid == os.getpid():
        return True
    if not 0 < pid <= _PID_MAX:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True  # (unknown: kept)
    return True


def stale_partials(folder: Path, recursive: bool = False) -> list[Path]:
    """``NAME.partial-PID`` entries of ``folder`` (and, ``recursive``, of its subfolders,
    links not followed) whose process has ended: left by a run, comparison or sweep that
    was killed (``kill -9``, a crash of the machine). Those of a live process are not
    listed."""
    found: list[Path] = []
    todo = [Path(folder)]
    while todo:
        here = todo.pop()
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            m = _PARTIAL.match(entry.name)
            if m is not None:
                if not pid_alive(int(m["pid"])):
                    found.append(Path(entry.path))
            elif recursive and entry.is_dir(follow_symlinks=False):
                todo.append(Path(entry.path))
    return sorted(found)


def remove_partial(path: Path) -> None:
    """Remove a partial folder or file (a link itself, never what it points to)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
