"""Put new bytes into a page without losing anything that is there.

``replace_bytes`` is how ``fix --write`` and ``update`` end. It edits the file a path leads to:
a symlink is followed (the target changes, the link stays a link), and the file keeps its
owner, group, mode and extended attributes (ACLs). It writes one of two ways:

* **replace**, the usual one: the new text goes into a temporary file beside the page, which
  then takes the page's place in one rename — readers see the old page or the new one, never
  half of one, and a crash leaves the old page.
* **in place**, when a new file could not be the same file: the page has hard links, or its
  owner, group or attributes can't be given to a new file by this user. The page's own bytes
  are overwritten, after a journal (old and new text) is on disk beside it, so a write cut
  short by a kill or a crash is finished by the next sweep.

Editors save without asking, so "is the page still what was read?" is asked at the last moment
and made to count:

* from that last check to the replace, a write lease (``F_SETLEASE``) is held: no other process
  has the page open then, and one that opens it (an editor saving in place) waits until the
  names are settled and is then noticed — its save lands on the page, not on the old file;
* the replace is an exchange (``renameat2(RENAME_EXCHANGE)``): what stood at the page's name
  comes out under the temporary name and is checked, so a save an editor renamed into place in
  the last microseconds is put back instead of deleted.

Where the file system offers neither (NFS, some FUSE file systems) the last check is still made
just before the replace, and only a save in those few microseconds could be lost.

Every temporary file and the page are ``flock``ed by the run that is rewriting them, for as long
as the rewrite lasts. A run killed mid-rewrite leaves its temporary file behind with no lock on
it, which proves the owner is gone (a lock dies with its process, whatever PID namespace looks
at it); ``sweep_stale_temps`` removes those, finishes or discards a left journal, and touches
nothing that is locked.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import re
import signal
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

TEMP_SUFFIX = ".snippet-runner.tmp"
"""Ends the name of a replacement being written: ``.page.md.<random>.snippet-runner.tmp``."""
JOURNAL_SUFFIX = ".snippet-runner-journal.tmp"
"""Ends the name of an in-place rewrite's journal."""
_TEMP_NAME = re.compile(
    r"\.(?P<page>.+)\.[a-z0-9_]{8}\.snippet-runner(?P<journal>-journal)?\.tmp")
_JOURNAL_KIND = "snippet-runner in-place rewrite"

_LOCK_WAIT = 10.0  # seconds another rewrite of the same page may take before we give up
_LEASE_WAIT = 0.5  # seconds to wait for others to close the page before going without a lease
# A lease break is signalled; SIGIO (the default) would kill the process, SIGURG is ignored.
_LEASE_SIGNAL = int(signal.SIGURG)
_DEFERRED_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_LIBC = ctypes.CDLL(None, use_errno=True)


def _changed(shown: Path) -> ConfigError:
    return ConfigError("changed on disk while snippet-runner was working; run it again.",
                       path=shown)


def replace_bytes(path: Path, old: bytes, new: bytes) -> None:
    """Make the file ``path`` leads to hold ``new``, if it still holds ``old``.

    ConfigError when it doesn't (an editor saved meanwhile: that save is kept), or when the
    file can't be written; the file then holds what it held.
    """
    target = Path(os.path.realpath(path))
    sweep_stale_temps(target.parent)
    try:
        with _locked_page(target, path) as page_fd:
            page = os.fstat(page_fd)
            if _read_all(page_fd) != old:
                raise _changed(path)
            if page.st_nlink == 1 and _replace(target, path, page_fd, page, old, new):
                return
            _write_in_place(target, path, page_fd, page, old, new)
    except OSError as err:
        raise ConfigError(f"cannot be rewritten: {err.strerror}.", path=path) from err


@contextlib.contextmanager
def _locked_page(target: Path, shown: Path) -> Iterator[int]:
    """The page open for reading and writing, ``flock``ed against other rewrites and sweeps."""
    fd = os.open(target, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        deadline = time.monotonic() + _LOCK_WAIT
        while not _try_flock(fd):
            if time.monotonic() > deadline:
                raise ConfigError("is locked by another program (flock) that has not let go "
                                  f"for {_LOCK_WAIT:.0f} s; close it and run again.", path=shown)
            time.sleep(0.01)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError("is not a regular file, so it was left unchanged.", path=shown)
        yield fd
    finally:
        os.close(fd)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    offset = 0
    while offset < len(data):
        offset += os.pwrite(fd, view[offset:], offset)


def _overwrite(fd: int, data: bytes) -> None:
    """The open file's bytes become ``data`` (same inode), on disk when this returns."""
    _write_all(fd, data)
    os.ftruncate(fd, len(data))
    os.fsync(fd)


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def _same(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _new_temp(target: Path, suffix: str, shown: Path) -> tuple[int, Path]:
    """A new, locked temporary file beside ``target``. The page's own lock keeps sweeps away
    from it in the instant before it is locked."""
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                    suffix=suffix)
    except OSError as err:
        raise ConfigError(f"cannot be rewritten: {err.strerror} in its directory "
                          f"{target.parent}.", path=shown) from err
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd, Path(name)


def _give_metadata(tmp_fd: int, page_fd: int, page: os.stat_result) -> bool:
    """The new file gets the page's owner, group, extended attributes and mode; False when
    this user can't give them (the page is then written in place, which keeps them)."""
    try:
        os.fchown(tmp_fd, page.st_uid, page.st_gid)
        for name in _xattr_names(page_fd):
            os.setxattr(tmp_fd, name, os.getxattr(page_fd, name))
    except PermissionError:
        return False
    except OSError as err:
        if err.errno in (errno.ENOTSUP, errno.EPERM):
            return False
        raise
    os.fchmod(tmp_fd, stat.S_IMODE(page.st_mode))  # after fchown, which clears set-id bits
    return True


def _xattr_names(fd: int) -> list[str]:
    try:
        return os.listxattr(fd)
    except OSError as err:
        if err.errno == errno.ENOTSUP:
            return []
        raise


def _replace(target: Path, shown: Path, page_fd: int, page: os.stat_result, old: bytes,
             new: bytes) -> bool:
    """Write ``new`` beside the page and swap it in; False when the new file can't have the
    page's owner, group and attributes (nothing changed then)."""
    tmp_fd, tmp = _new_temp(target, TEMP_SUFFIX, shown)
    try:
        _write_all(tmp_fd, new)
        if not _give_metadata(tmp_fd, page_fd, page):
            os.unlink(tmp)
            return False
        os.fsync(tmp_fd)
        swap = _Swap(target, tmp, page_fd, page, os.fstat(tmp_fd), old)
        with _signals_deferred(), _write_lease(page_fd) as lease:
            try:
                if _inode(target) == _same(page) and _read_all(page_fd) == old:
                    swap.place()
            finally:
                placed = swap.settle(lease)
    except BaseException:
        with contextlib.suppress(OSError):
            if _inode(tmp) == _same(os.fstat(tmp_fd)):
                os.unlink(tmp)
        raise
    finally:
        os.close(tmp_fd)
    if not placed:
        raise _changed(shown)
    _sync_directory(target.parent)
    return True


@dataclass
class _Swap:
    """Putting the replacement at the page's name, and making sure nothing else was displaced."""

    target: Path
    """The page's real path."""
    tmp: Path
    """The replacement's name."""
    page_fd: int
    """The page as read (locked)."""
    page: os.stat_result
    """Its identity."""
    replacement: os.stat_result
    """The replacement's identity."""
    old: bytes
    """What the page must still hold."""
    exchanged: bool = False
    """The names were exchanged (False also when a plain rename was the only way)."""

    def place(self) -> None:
        """Exchange the names; where the file system can't, rename (the check just made is the
        last word then)."""
        if _exchange(self.tmp, self.target):
            self.exchanged = True
        else:
            os.replace(self.tmp, self.target)

    def settle(self, lease: _Lease) -> bool:
        """True when the page's name holds the replacement and the file it displaced is the
        page as read, unchanged and wanted by no writer; else the names are put back (so a
        save made meanwhile stays the page) and False. Decided by looking at the names, so it
        holds however ``place`` ended."""
        if _inode(self.target) != _same(self.replacement):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.tmp)  # never placed, or placed and put back: it is ours
            return False
        displaced = _inode(self.tmp)
        if displaced is None:
            return True  # a plain rename
        if (displaced == _same(self.page) and _read_all(self.page_fd) == self.old
                and not lease.writer_waiting()):
            os.unlink(self.tmp)
            return True
        if not _exchange(self.tmp, self.target):
            raise ConfigError(f"changed on disk while snippet-runner was writing it; the save "
                              f"made meanwhile is in {self.tmp} and the page holds "
                              "snippet-runner's version: keep the one you want.",
                              path=self.target)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)
        return False


def _exchange(a: Path, b: Path) -> bool:
    """Swap two names in one step; False when this file system or C library can't."""
    renameat2 = getattr(_LIBC, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


class _Lease:
    """A write lease on the page, when one could be had."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.held = False

    def writer_waiting(self) -> bool:
        """Someone is opening the page to write it and waits for us (readers don't count)."""
        return self.held and fcntl.fcntl(self.fd, fcntl.F_GETLEASE) == fcntl.F_UNLCK


@contextlib.contextmanager
def _write_lease(fd: int) -> Iterator[_Lease]:
    """A write lease for the block: granted only while no other process has the page open,
    and any open meanwhile waits for its end. Without one (the page stays open elsewhere, the
    file system has no leases, or this user may not take one) the block runs all the same."""
    lease = _Lease(fd)
    deadline = time.monotonic() + _LEASE_WAIT
    while True:
        try:
            fcntl.fcntl(fd, fcntl.F_SETSIG, _LEASE_SIGNAL)  # reset by every lease release
            fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
            lease.held = True
            break
        except OSError as err:
            if err.errno != errno.EAGAIN or time.monotonic() > deadline:
                break
            time.sleep(0.005)
    try:
        yield lease
    finally:
        if lease.held:
            with contextlib.suppress(OSError):
                fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the names are settled (in this thread; ``settle`` also
    copes with an interrupt where another thread took the signal)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _sync_directory(directory: Path) -> None:
    """The rename is on disk too (else a crash could bring the old name back)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_in_place(target: Path, shown: Path, page_fd: int, page: os.stat_result,
                    old: bytes, new: bytes) -> None:
    """Overwrite the page's own bytes (hard links, owner and attributes stay), a journal of
    both texts on disk beside it first."""
    journal_fd, journal = _new_temp(target, JOURNAL_SUFFIX, shown)
    keep_journal = False
    try:
        _write_all(journal_fd, json.dumps({
            "kind": _JOURNAL_KIND, "page": target.name,
            "old": old.decode("utf-8"), "new": new.decode("utf-8")}).encode("utf-8"))
        os.fsync(journal_fd)
        with _signals_deferred(), _write_lease(page_fd):
            if _inode(target) != _same(page) or _read_all(page_fd) != old:
                raise _changed(shown)
            try:
                _overwrite(page_fd, new)
            except BaseException:
                keep_journal = not _restore(page_fd, old)
                raise
    except OSError as err:
        if keep_journal:
            raise ConfigError(f"could not be rewritten ({err.strerror}) and may be damaged; "
                              f"{journal} holds both its text as read and the new text.",
                              path=shown) from err
        raise
    finally:
        if not keep_journal:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(journal)
        os.close(journal_fd)


def _restore(fd: int, old: bytes) -> bool:
    try:
        _overwrite(fd, old)
    except OSError:
        return False
    return True


def sweep_stale_temps(directory: Path) -> list[str]:
    """Remove what killed rewrites left in ``directory``: temporary files nobody holds a lock
    on, while nobody is rewriting their page. A journal is finished when the page is an
    overwrite cut short, dropped when the page is its old or new text (or the journal itself
    was cut short, so the overwrite never began), and otherwise kept.
    Returns one line for each file finished or kept, saying what to do."""
    notes: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return notes
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        with contextlib.suppress(OSError):
            note = _sweep_one(directory / match["page"], Path(entry.path),
                              journal=bool(match["journal"]))
            if note:
                notes.append(note)
    return notes


def _sweep_one(page: Path, temp: Path, *, journal: bool) -> str | None:
    with _lock_if_free(page, missing_ok=True) as page_free:
        if page_free is None:
            return None  # a live rewrite of this page holds it
        with _lock_if_free(temp, missing_ok=False) as temp_fd:
            if temp_fd is None:
                return None  # its owner is alive
            if not journal:
                os.unlink(temp)
                return None
            return _recover(page, temp, temp_fd)


@contextlib.contextmanager
def _lock_if_free(path: Path, *, missing_ok: bool) -> Iterator[int | None]:
    """An fd holding ``path``'s lock, or None when someone else holds it (or may: an open
    that would wait for a lease, a file this user can't open). A missing file counts as free
    (-1) when ``missing_ok``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        yield -1 if missing_ok else None
        return
    except OSError:
        yield None
        return
    try:
        yield fd if _try_flock(fd) else None
    finally:
        os.close(fd)


def _recover(page: Path, journal: Path, journal_fd: int) -> str | None:
    """Settle a journal whose rewrite died: see ``sweep_stale_temps``."""
    try:
        data = json.loads(_read_all(journal_fd).decode("utf-8"))
        if data.get("kind") != _JOURNAL_KIND:
            raise ValueError(data.get("kind"))
        old, new = data["old"].encode("utf-8"), data["new"].encode("utf-8")
    except (ValueError, KeyError, AttributeError, UnicodeError):
        os.unlink(journal)  # cut short itself: the page is overwritten only once it is on disk
        return None
    try:
        fd = os.open(page, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return (f"{journal}: kept; it holds the text of {page.name} from a rewrite that was "
                "interrupted, and the page is gone. Delete it if you deleted the page.")
    try:
        current = _read_all(fd)
        if current not in (old, new):
            if not _is_cut_short(current, old, new):
                return (f"{journal}: kept; a rewrite of {page} was interrupted and the page "
                        "was changed since. The journal holds the text before and after that "
                        "rewrite: compare, then delete it.")
            _overwrite(fd, new)
            os.unlink(journal)
            return f"{page}: finished a rewrite that was interrupted while writing it"
    finally:
        os.close(fd)
    os.unlink(journal)
    return None


def _is_cut_short(current: bytes, old: bytes, new: bytes) -> bool:
    """``current`` is what overwriting ``old`` with ``new`` leaves when stopped after some
    ``k`` bytes: ``new[:k] + old[k:]`` (the tail of ``old`` stays until the final truncate)."""
    if len(current) > len(old):
        return new.startswith(current)
    if len(current) < len(old):
        return False
    k = len(current)
    while k and current[k - 1] == old[k - 1]:
        k -= 1
    return k <= len(new) and current[:k] == new[:k]
