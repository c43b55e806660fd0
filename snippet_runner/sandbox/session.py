"""A page's persistent shell: one bash under a pseudo-terminal, commands framed by markers.

How it works, and why:

* bash runs with a PTY as its stdin/stdout/stderr and controlling terminal (``setsid -c``), so
  ``docker run -it`` finds a terminal when a command is given ``stdin``, and stdout and stderr
  interleave exactly as a reader's terminal shows them.
* Commands do **not** travel through the terminal: they arrive on a private pipe, NUL-framed,
  and bash ``eval``s them. Nothing has to be typed, so there is no echo to strip, no line-length
  limit of the terminal's line discipline, and a command may contain any text.
* After each command bash prints an OSC escape sequence carrying a per-session nonce and ``$?``.
  It is written to the same terminal as the command's output, so everything before it belongs to
  the command; terminals ignore OSC sequences, so it can never be confused with real output.
* ``set -m`` (job control) gives every command its own process group and makes it the terminal's
  foreground group; on timeout ``tcgetpgrp`` names exactly the group to kill, and the shell —
  with its ``cd``, variables and background jobs — survives.
* The argv ``prefix`` lets the same code run on the host (empty prefix) or inside the sandbox's
  namespaces (``nsenter -t PID ...``).

Timeouts: the foreground process group is killed with SIGKILL and ``on_timeout`` runs (the
sandbox uses it to kill the containers the command started); the session stays usable. Only when
the time is spent in the shell itself (a ``while :; do :; done`` loop of builtins) is the shell
killed; the next command then transparently gets a fresh shell (state is lost, as after ``exit``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..config import SESSION_ENV
from ..errors import SandboxError
from ..model import RunResult
from .boundary import mapped_errors
from .procfs import processes
from .terminal import render

ROWS, COLS = 24, 80

_TIOCGPTN = 0x80045430
_TIOCSPTLCK = 0x40045431
"""Linux ioctls (asm-generic) to unlock a pseudo-terminal and ask its number."""

_PIPE_FD = 87
"""The fd number the shell moves its command pipe to; high so that ``exec 3>file`` in a snippet
cannot clobber it (bash itself only uses fds >= 10 for saved redirections, chosen when free)."""

_QUIET = 0.3
"""Seconds of silence after which an interactive command is taken to be waiting for input."""
_SILENT_START = 3.0
"""Seconds without any output after which ``stdin`` is typed anyway (line mode)."""
_SILENT_RAW = 10.0
"""The same when the command switched the terminal to raw mode (it will print a prompt)."""
_READ_SYSCALL = {"x86_64": 0, "aarch64": 63, "riscv64": 63, "ppc64le": 3, "s390x": 3}.get(
    os.uname().machine
)
"""``read``'s number in /proc/PID/syscall on this architecture."""
_KILL_GRACE = 2.0
"""Seconds to wait for the marker after killing a timed-out command before killing the shell."""
_PROMPT = re.compile(rb"[#$>%:?] ?$")
_JOB_DONE = re.compile(rb"^\[\d+\][+-]? +Done(?:\(\d+\))? +.*\r?\n", re.MULTILINE)
"""``[1]+  Done  sleep 1`` notices: a job-control shell prints them between commands; a reader's
interactive shell prints them at its next prompt, which transcripts don't show."""
_JOB_SIGNAL = re.compile(
    rb"bash: line \d+: +\d+ (\S[^\r\n]*?)(?: {2,}[^\r\n]*)?(\r?\n)", re.MULTILINE
)
"""``bash: line 9:  208 Killed   sleep 9``: how a job-control script reports a command that a
signal ended; an interactive shell says just ``Killed``."""

def normalise_output(raw: bytes) -> str:
    """Terminal bytes → text as a reader sees it: ``\\n`` line ends, escape codes removed,
    lines redrawn in place (a carriage return, the cursor moved up) shown as they end up on a
    terminal — ``docker pull``'s layer lines included (`terminal.render`)."""
    return render(raw.decode("utf-8", errors="replace"))


_BOOTSTRAP = r"""
set -m
exec {pipe}<&{fd} {fd}<&-
cd "$HOME" 2>/dev/null || cd /
while IFS= read -r -d '' -u {pipe} __sr_mode && IFS= read -r -d '' -u {pipe} __sr_cmd; do
    if [[ $__sr_mode == i ]]; then
        eval "$__sr_cmd" {pipe}<&-
    else
        eval "$__sr_cmd" </dev/null {pipe}<&-
    fi
    printf '\033]7799;%s;%d\007' {nonce} "$?"
done
"""


@dataclass
class _Shell:
    """One running bash: its process, terminal and command pipe."""

    proc: subprocess.Popen[bytes]
    """The process started (bash itself locally; ``nsenter`` in front of it in the sandbox)."""
    master: int
    """Master side of the PTY."""
    pipe: int
    """Write end of the command pipe."""
    marker: re.Pattern[bytes]
    """Matches the end-of-command marker and captures the exit status."""
    slave_path: str = ""
    """Where this process can open the terminal's slave side (to flush unread typed text)."""
    pgid: int = 0
    """bash's process group (= its pid and session id), as seen from this process."""
    pending: bytearray = field(default_factory=bytearray)
    """Bytes read but not yet consumed (output of background jobs between commands)."""


class PtySession:
    """A persistent bash under a PTY; implements the `backend.Session` protocol."""

    def __init__(
        self,
        prefix: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        on_timeout: Callable[[float], None] | None = None,
        start_timeout: float = 30.0,
        ptmx: str | None = None,
    ) -> None:
        """``prefix`` runs before ``setsid -c env -i ... bash`` (e.g. an ``nsenter`` argv);
        ``env`` is added to `config.SESSION_ENV` (``HOME`` is also the starting directory);
        ``on_timeout(started_at)`` is called after a timed-out command's process group was
        killed, with the ``time.time()`` at which the command started. ``ptmx`` (a path to
        the ``ptmx`` of another devpts instance, such as the sandbox's) allocates the terminal
        there, so that inside the sandbox ``tty`` names a device that exists."""
        self._prefix = list(prefix)
        self._ptmx = ptmx
        self._env = {**SESSION_ENV, "HOME": "/root", **(env or {})}
        self._on_timeout = on_timeout
        self._start_timeout = start_timeout
        self._closed = False
        self._busy = False
        # `close` may come from another thread (an interrupt handler) while `run` is using the
        # terminal: then only the processes are killed, and `run`'s own thread closes the file
        # descriptors. Closing them from both threads could close a number already reused by
        # another open (seen: shutil.rmtree's directory fd), so only one thread may.
        self._lock = threading.Lock()
        self._shell: _Shell | None = self._spawn()

    # -- life cycle ------------------------------------------------------------------------

    def _spawn(self) -> _Shell:
        nonce = secrets.token_hex(8)
        master, slave, slave_path = _open_terminal(self._ptmx)
        read_end, write_end = os.pipe()
        script = _BOOTSTRAP.format(pipe=_PIPE_FD, fd=read_end, nonce=nonce)
        env_args = [f"{k}={v}" for k, v in self._env.items()]
        argv = [*self._prefix, "setsid", "-c", "env", "-i", *env_args,
                "bash", "--noprofile", "--norc", "-c", script]
        try:
            proc = subprocess.Popen(
                argv, stdin=slave, stdout=slave, stderr=slave, pass_fds=[read_end],
                env=self._env,
            )
        except OSError as exc:
            for fd in (master, slave, read_end, write_end):
                os.close(fd)
            raise SandboxError(f"could not start a shell ({argv[0]}): {exc}") from exc
        os.close(slave)
        os.close(read_end)
        marker = re.compile(rb"\x1b\]7799;" + nonce.encode() + rb";(\d+)\x07")
        shell = _Shell(proc=proc, master=master, pipe=write_end, marker=marker,
                       slave_path=slave_path)
        ok, out, _ = self._exchange(shell, ":", interactive=False, timeout=self._start_timeout)
        if not ok:
            self._kill_shell(shell)
            raise SandboxError(
                "the page's shell did not start: "
                + (normalise_output(out).strip() or "no output")
            )
        shell.pgid = os.tcgetpgrp(master)
        return shell

    def close(self) -> None:
        """End the shell and every process of its terminal session; idempotent and safe to
        call from another thread while `run` is waiting for a command."""
        with self._lock:
            self._closed = True
            shell = self._shell
            if shell is None:
                return
            if self._busy:  # `run` notices the dead shell and releases it in its own thread
                self._kill_processes(shell)
                return
            self._shell = None
        self._kill_shell(shell)

    def _kill_shell(self, shell: _Shell) -> None:
        self._kill_processes(shell)
        for fd in (shell.pipe, shell.master):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(subprocess.TimeoutExpired):
            shell.proc.wait(timeout=5)

    def _kill_processes(self, shell: _Shell) -> None:
        if shell.pgid:
            members = _session_members(shell.pgid)
            for pid in members:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while members and time.monotonic() < deadline:  # "closed" means gone, not dying
                time.sleep(0.005)
                members = _session_members(shell.pgid)
        with contextlib.suppress(ProcessLookupError):
            shell.proc.kill()

    # -- running commands ------------------------------------------------------------------

    def run(self, command: str, *, timeout: float, stdin: str | None = None) -> RunResult:
        """Run one command line; see `backend.Session.run`."""
        with self._lock:
            if self._closed:
                raise SandboxError("this session was closed")
            self._busy = True
        try:
            with mapped_errors("run the command in the page's shell"):
                return self._run(command, timeout=timeout, stdin=stdin)
        finally:
            with self._lock:
                self._busy = False
                shell = self._shell if self._closed else None
                if shell is not None:  # closed meanwhile by another thread: release it here
                    self._shell = None
            if shell is not None:
                self._kill_shell(shell)

    def _run(self, command: str, *, timeout: float, stdin: str | None) -> RunResult:
        if self._shell is None or self._shell.proc.poll() is not None:
            if self._shell is not None:
                self._kill_shell(self._shell)
            self._shell = self._spawn()
        shell = self._shell
        started, t0 = time.time(), time.monotonic()
        ok, out, code = self._exchange(
            shell, command, interactive=stdin is not None, timeout=timeout, stdin=stdin
        )
        out = _JOB_SIGNAL.sub(rb"\1\2", _JOB_DONE.sub(b"", out))
        if ok:
            return RunResult(normalise_output(out), code, time.monotonic() - t0)
        if shell.proc.poll() is not None and code is not None:
            # The command ended the shell itself (``exit``); the next run starts a new one.
            self._kill_shell(shell)
            self._shell = None
            return RunResult(normalise_output(out), code, time.monotonic() - t0)
        # The "Killed" notice is about our own kill: it is not the command's output.
        out = _JOB_SIGNAL.sub(b"", out + self._abort(shell, started))
        return RunResult(normalise_output(out), None, time.monotonic() - t0, timed_out=True)

    def _abort(self, shell: _Shell, started: float) -> bytes:
        """Kill a timed-out command; returns the output it printed while dying."""
        with contextlib.suppress(OSError):
            fg = os.tcgetpgrp(shell.master)
            if fg != shell.pgid and fg > 0:
                os.killpg(fg, signal.SIGKILL)
        if self._on_timeout is not None:
            self._on_timeout(started)
        ok, out, _ = self._collect(shell, time.monotonic() + _KILL_GRACE)
        if not ok:  # the time went into the shell itself: replace it
            self._kill_shell(shell)
            self._shell = None
        else:
            self._restore_terminal(shell)
        return out

    def _exchange(
        self, shell: _Shell, command: str, *, interactive: bool, timeout: float,
        stdin: str | None = None,
    ) -> tuple[bool, bytes, int | None]:
        """Send one command, wait for its marker: (finished, output, exit status)."""
        if interactive:
            attrs = termios.tcgetattr(shell.master)
            attrs[3] |= termios.ECHO  # typed text shows, as on a reader's terminal
            termios.tcsetattr(shell.master, termios.TCSANOW, attrs)
        body = command.replace("\0", "").encode()  # NUL frames commands; bash has no use for it
        payload = (b"i" if interactive else b"n") + b"\0" + body + b"\0"
        try:
            os.write(shell.pipe, payload)
        except OSError:
            return False, bytes(shell.pending), shell.proc.poll()
        deadline = time.monotonic() + timeout
        typed = stdin.replace("\r\n", "\n").replace("\n", "\r") if stdin is not None else None
        if typed is not None and not typed.endswith(("\r", "\x04")):
            typed += "\r"
        result = self._collect(shell, deadline, typed)
        if result[0]:
            self._restore_terminal(shell)
        return result

    def _collect(
        self, shell: _Shell, deadline: float, typed: str | None = None
    ) -> tuple[bool, bytes, int | None]:
        """Read until the marker, the deadline or the end of the shell; type ``typed`` once
        the command waits for input (written without blocking, however little it reads)."""
        buf = shell.pending
        old = len(buf)  # output of background jobs since the last command
        scan = 0
        to_type: bytes | None = typed.encode() if typed is not None else None
        begun = last_data = time.monotonic()
        while True:
            match = shell.marker.search(buf, scan)
            if match:
                out = bytes(buf[: match.start()])
                shell.pending = bytearray(buf[match.end():])
                return True, out, int(match.group(1))
            scan = max(0, len(buf) - 64)  # a marker is shorter than 64 bytes
            now = time.monotonic()
            if now >= deadline:
                shell.pending = bytearray()
                return False, bytes(buf), None
            if typed is not None and self._waits_for_input(
                shell.master, bytes(buf[old:]), now - begun, now - last_data
            ):
                typed = None  # from now on, to_type drains as the terminal accepts it
            writing = [shell.master] if typed is None and to_type else []
            wait = min(deadline - now, 0.05 if typed is not None else 0.5)
            readable, writable, _ = select.select([shell.master], writing, [], wait)
            if writable and to_type:
                to_type = to_type[_write_some(shell.master, to_type):]
            if not readable or (chunk := _read_terminal(shell.master)) is None:
                continue
            if not chunk:
                shell.pending = bytearray()
                return False, bytes(buf), _wait_code(shell.proc)
            buf += chunk
            last_data = time.monotonic()

    @staticmethod
    def _waits_for_input(master: int, out: bytes, since_start: float, since_data: float
                         ) -> bool:
        """Heuristic for "the command now waits for what the reader types".

        With output: a prompt-looking tail, or output gone quiet. Without: a line-mode
        reader blocked in ``read`` on the terminal (``read``, ``cat``) is typed to at once;
        a program that put the terminal in raw mode (``docker run -it``) gets its text only
        after it printed something (the container's prompt), since typing earlier would be
        echoed out of order; `_SILENT_START` / `_SILENT_RAW` are the fallbacks.
        """
        if out:
            tail = normalise_output(out[-200:]).rstrip("\n").encode()
            if _PROMPT.search(tail) and since_data >= 0.05:
                return True
            return since_data >= _QUIET
        try:
            raw = not termios.tcgetattr(master)[3] & termios.ICANON
            group = os.tcgetpgrp(master)
        except OSError:
            return since_start >= _SILENT_START
        if raw:
            return since_start >= _SILENT_RAW
        return since_start >= _SILENT_START or (since_start >= 0.05 and _reads_tty(group))

    def _restore_terminal(self, shell: _Shell) -> None:
        """Back to the session's terminal modes (echo off, cooked): a killed ``docker -it``
        leaves the terminal raw, and an interactive command had echo switched on. Typed text
        nobody read is dropped, so it can't reach a later command."""
        with contextlib.suppress(OSError):
            slave = os.open(shell.slave_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            try:
                termios.tcflush(slave, termios.TCIFLUSH)
            finally:
                os.close(slave)
        with contextlib.suppress(OSError):
            attrs = termios.tcgetattr(shell.master)
            attrs[3] &= ~(termios.ECHO | termios.ECHONL)
            attrs[3] |= termios.ICANON | termios.ISIG
            attrs[1] |= termios.OPOST | termios.ONLCR
            attrs[0] |= termios.ICRNL
            termios.tcsetattr(shell.master, termios.TCSANOW, attrs)


def _read_terminal(master: int) -> bytes | None:
    """What the terminal has for us: None when nothing after all, ``b""`` once the shell is
    gone (EIO: every slave fd is closed)."""
    try:
        return os.read(master, 65536)
    except BlockingIOError:
        return None
    except OSError as exc:
        if exc.errno != errno.EIO:
            raise
        return b""


def _write_some(fd: int, data: bytes) -> int:
    """Write what the terminal takes now; the count written (0 when it is full)."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
    try:
        return os.write(fd, data[:1024])
    except BlockingIOError:
        return 0
    finally:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags)


_REMOTE_TERMINALS = frozenset({b"docker", b"ssh", b"kubectl", b"podman", b"nerdctl"})
"""Clients that pass typed text on to a terminal elsewhere (a container's): what they read early
is echoed there before the remote shell even printed its prompt, so they wait for the prompt."""


def _reads_tty(group: int) -> bool:
    """Is some process of process group ``group`` blocked in ``read`` on a terminal (and none
    of them a `_REMOTE_TERMINALS` client)?"""
    if _READ_SYSCALL is None:
        return False
    reading = False
    for pid, name, fields in processes():
        if int(fields[2]) != group:
            continue
        if name in _REMOTE_TERMINALS:
            return False
        with contextlib.suppress(OSError, ValueError, IndexError):
            reading = reading or _task_reads_tty(pid)
    return reading


def _task_reads_tty(pid: int) -> bool:
    """Is a thread of ``pid`` in ``read`` on a terminal?"""
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/syscall") as f:
            call = f.read().split()
        if len(call) > 1 and call[0] == str(_READ_SYSCALL):
            target = os.readlink(f"/proc/{pid}/fd/{int(call[1], 16)}")
            if target.startswith(("/dev/pts/", "/dev/tty")):
                return True
    return False


def _open_terminal(ptmx: str | None) -> tuple[int, int, str]:
    """A new terminal for a shell (see `_open_pty`): 80x24, echo off, since nothing typed
    shows unless a command is given ``stdin``."""
    try:
        master, slave, slave_path = _open_pty(ptmx)
    except OSError as exc:
        raise SandboxError(f"could not open a terminal for the page's shell: {exc}") from exc
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~(termios.ECHO | termios.ECHONL)
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    return master, slave, slave_path


def _open_pty(ptmx: str | None) -> tuple[int, int, str]:
    """(master, slave, a path to open the slave by), from the given devpts instance's
    ``ptmx`` if any (the sandbox's, so that ``tty`` inside names an existing device)."""
    if ptmx is None:
        master, slave = os.openpty()
        return master, slave, os.ttyname(slave)
    master = os.open(ptmx, os.O_RDWR | os.O_NOCTTY)
    try:
        fcntl.ioctl(master, _TIOCSPTLCK, struct.pack("i", 0))
        number = struct.unpack("I", fcntl.ioctl(master, _TIOCGPTN, b"\0" * 4))[0]
        path = f"{os.path.dirname(ptmx)}/{number}"
        slave = os.open(path, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        os.close(master)
        raise
    return master, slave, path


def _wait_code(proc: subprocess.Popen[bytes]) -> int | None:
    try:
        return proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return None


def _session_members(sid: int) -> list[int]:
    """Pids (host view) of every live process whose session id is ``sid``, background jobs
    too."""
    return [pid for pid, _, fields in processes() if int(fields[3]) == sid and fields[0] != b"Z"]
