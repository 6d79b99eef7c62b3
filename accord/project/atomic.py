"""Every write of a user's file: whole or not at all, and never over someone else's change.

A file is written to a temporary file in its own folder, flushed, fsynced and renamed over the old one, so a
crash, a `kill -9` or Ctrl-C leaves either the old file or the new one, never a part. Writers of one folder
take an exclusive lock on the folder itself (`fcntl.flock` on its descriptor: no lock file is left behind in
the user's folder), and `write_file` can compare the file's content hash with the one its caller read
(optimistic concurrency). A file that changed since is left alone and the writer is told, one line, exit 2.

A read-modify-write, as `workshop decide` does::

    with locked(path):
        before = read_bytes(path)                  # None when the file does not exist yet
        write_file(path, change(before), expected_hash=content_hash(before))

A web form that showed the file earlier sends back the hash it read (`content_hash` of the bytes shown) and
writes with `write_file(path, data, expected_hash=that_hash)`: a file saved by someone else in between is
refused with `FileChangedError` instead of being overwritten.

Every failure is a `UserError` naming the file and what to do (a read-only file or folder, a missing folder,
a folder where a file was expected, a full disk).
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import signal
import stat
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from accord.errors import UserError

ABSENT = "absent"          # the content hash of a file that does not exist
LOCK_TIMEOUT = 60.0        # seconds a writer waits for another one to finish
# A test hook: the writer kills itself (SIGKILL) after its temporary file is written, before the rename,
# so tests can prove that a crash at the worst moment leaves the old file whole.
_KILL_BEFORE_RENAME = "ACCORD_TEST_KILL_BEFORE_RENAME"

_held = threading.local()  # folders this thread holds the lock of: {folder: (fd, depth)}


class FileChangedError(UserError):
    """The file's content is not what the writer read: someone else saved it in between."""


def content_hash(data: bytes | None) -> str:
    """The hash `write_file` compares: sha256 of the bytes, or ABSENT for a file that does not exist."""
    return ABSENT if data is None else hashlib.sha256(data).hexdigest()


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when there is no file."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise UserError(_why(e, Path(path), str(path), "read")) from None


def file_hash(path: Path) -> str:
    """The content hash of the file as it is now."""
    return content_hash(read_bytes(path))


def write_file(path: Path, data: bytes | str, *, expected_hash: str | None = None, name: str | None = None) -> Path:
    """Write `data` (str is written as UTF-8) to `path` atomically, under its folder's lock.

    `expected_hash`: the `content_hash` of the bytes the caller read (ABSENT: it read no file). When the file
    holds something else now, nothing is written and FileChangedError says so. None writes whatever is there.
    `name` is how messages call the file (default: the path as given). The folder must exist. A new file gets
    the permissions a plain `open` would give; a replaced one keeps its own, and one nobody may write (no
    write bit, or not writable by this user) is refused, not replaced. Returns the path written.
    """
    path = Path(path)
    name = name or str(path)
    target = Path(os.path.realpath(path))  # a symlink is followed: the file it points at is replaced
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with locked(target, name=name):
        st = _check(target, name)
        if expected_hash is not None and file_hash(target) != expected_hash:
            raise FileChangedError(f"{name}: the file changed while accord was writing it (someone else saved it). "
                                   "nothing was written; run the command again")
        _replace(target, payload, st, name)
    return path


def writable(path: Path | None, name: str | None = None) -> Path | None:
    """`path` when `write_file` could write it now (None passes); else the one-line UserError it would give.

    For commands that work a while before they write (a report): a bad --out is refused before the work.
    """
    if path is not None:
        _check(Path(os.path.realpath(path)), name or str(path))
    return path


def _check(target: Path, name: str) -> os.stat_result | None:
    """The target's stat (None: a new file) once it is known that it can be written."""
    try:
        folder = os.stat(target.parent)
    except OSError as e:
        raise UserError(_why(e, target, name, "write")) from None
    if not stat.S_ISDIR(folder.st_mode):
        raise UserError(_why(NotADirectoryError(errno.ENOTDIR, "Not a directory"), target, name, "write"))
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise UserError(_why(e, target, name, "write")) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise UserError(_why(IsADirectoryError(errno.EISDIR, "Is a directory"), target, name, "write"))
    if st is not None and not (st.st_mode & 0o222 and os.access(target, os.W_OK)):
        raise UserError(f"{name}: the file is read-only. make it writable (chmod u+w {name}) or write elsewhere, "
                        "then run the command again")
    if not os.access(target.parent, os.W_OK):
        raise UserError(_why(PermissionError(errno.EACCES, "Permission denied"), target, name, "write"))
    return st


def _replace(target: Path, payload: bytes, st: os.stat_result | None, name: str) -> None:
    tmp = None
    try:
        fd, tmp = _temporary(target)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), (st.st_mode & 0o7777) if st is not None else 0o666 & ~_umask())
        if os.environ.get(_KILL_BEFORE_RENAME):
            os.kill(os.getpid(), signal.SIGKILL)
        os.replace(tmp, target)
        tmp = None
        _fsync_folder(target.parent)
    except OSError as e:
        raise UserError(_why(e, target, name, "write")) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _temporary(target: Path) -> tuple[int, str]:
    """A new file next to `target`, hidden, that no other writer can have chosen."""
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), str(tmp)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(target))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (a folder is fsynced through a descriptor of its own)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def locked(path: Path, *, name: str | None = None, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the write lock of `path`'s folder: one writer at a time across processes and threads.

    Re-entrant within a thread, so a read-modify-write can hold it around `write_file`. The folder must exist.
    Waits up to `timeout` seconds for another writer, then refuses with one line.
    """
    name = name or str(path)
    folder = os.path.realpath(Path(path).parent)
    held = _held.__dict__.setdefault("folders", {})
    if folder in held:
        fd, depth = held[folder]
        held[folder] = (fd, depth + 1)
        try:
            yield
        finally:
            fd, depth = held[folder]
            held[folder] = (fd, depth - 1)
        return
    fd = _acquire(folder, name, timeout)
    held[folder] = (fd, 1)
    try:
        yield
    finally:
        del held[folder]
        os.close(fd)   # closing the descriptor releases the lock


def _acquire(folder: str, name: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise UserError(_why(e, Path(folder) / "x", name, "write")) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise UserError(f"{name}: another accord command has been writing in its folder for {timeout:.0f} s. "
                                "run the command again when it is done") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
            continue
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(folder))
        except OSError:
            same = False
        if same:
            return fd
        os.close(fd)    # the folder was removed (or replaced) while we waited: lock the one there now
        if not os.path.isdir(folder):
            raise UserError(_why(FileNotFoundError(errno.ENOENT, "No such file or directory"),
                                 Path(folder) / "x", name, "write"))


def make_folder(folder: Path, name: str | None = None) -> Path:
    """Create `folder` (and its parents) unless it exists; a one-line UserError when it cannot be."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(f"{name or folder}: is a file, not a folder. name a folder, or move the file") from None
    except OSError as e:
        raise UserError(_why(e, folder, name or str(folder), "create")) from None
    return folder


def _why(e: OSError, target: Path, name: str, doing: str) -> str:
    """One line: which file, what went wrong, what to do."""
    folder = target.parent
    code = e.errno
    if code == errno.EISDIR:
        return f"{name} is a folder, not a file. name a file in it, such as {Path(name) / 'report.html'}"
    if code == errno.ENOENT and not folder.is_dir():
        return f"{name}: the folder {folder} does not exist. create it first or {doing} elsewhere"
    if code == errno.ENOTDIR:
        return f"{name}: a part of the path {folder} is a file, not a folder. fix the path"
    if code in (errno.EACCES, errno.EPERM):
        if doing == "read":
            return f"{name}: permission denied. make the file readable and run the command again"
        return f"{name}: permission denied: the folder {folder} is not writable. make it writable or {doing} elsewhere"
    if code == errno.EROFS:
        return f"{name}: the file system is read-only. {doing} elsewhere"
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"{name}: no space left on the device. free some space and run the command again"
    return f"{name}: cannot {doing} it: {e.strerror or e}. check the path and run the command again"
