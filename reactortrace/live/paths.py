"""Where live sockets live: one private directory per user, one socket per process.

The directory is ``$XDG_RUNTIME_DIR/reactortrace`` when that is set, else
``/tmp/reactortrace-UID``. It is created with mode 0700 and refused if someone
else owns it or others can enter it. A traced process listens on
``DIR/PID.sock`` (mode 0600), so ``reactortrace attach PID`` finds it by pid.

Both ends check whom they talk to. A viewer talks only to a socket whose
directory belongs to the socket's owner and is closed to others' writes, owned
by the viewer's user (root may watch anyone's), and served by a process of that
user (``SO_PEERCRED``); a server takes only viewers of its own user or root.
"""

from __future__ import annotations

import os
import socket
import stat
import struct

from reactortrace.errors import ReactorTraceError

SOCKET_SUFFIX = ".sock"
OUTPUT_SUFFIX = ".out"
#: Beside a socket: the stacks faulthandler dumps while the GIL is held.
STACKS_SUFFIX = ".stacks"
#: sun_path holds 108 bytes on Linux, 104 on macOS (with the final NUL).
MAX_SOCKET_PATH = 100


def runtime_dir() -> str:
    """The per-user directory for live sockets (not created here)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        candidate = os.path.join(runtime, "reactortrace")
        if len(candidate) + 24 <= MAX_SOCKET_PATH:
            return candidate
    return os.path.join("/tmp", f"reactortrace-{os.getuid()}")


def private_dir(path: str | None = None) -> str:
    """Create (if needed) and check the private directory; return its path.

    Raises :class:`ReactorTraceError` if the directory is not ours or is open
    to others: a socket there could be reached, or replaced, by another user.
    """
    path = path or runtime_dir()
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ReactorTraceError(f"cannot create {path}: {exc.strerror or exc}") from None
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise ReactorTraceError(f"{path} is not a directory")
    if info.st_uid != os.getuid():
        raise ReactorTraceError(f"{path} belongs to another user")
    if info.st_mode & 0o077:
        raise ReactorTraceError(f"{path} is open to other users (mode {info.st_mode & 0o777:o})")
    return path


def socket_path(pid: int, directory: str | None = None) -> str:
    """The socket a process with ``pid`` (as this process sees it) listens on."""
    return os.path.join(directory or runtime_dir(), f"{_process_name(pid)}{SOCKET_SUFFIX}")


def _process_name(pid: int) -> str:
    """``PID-NS`` (see the module docstring), or ``PID`` where /proc cannot tell."""
    proc = "/proc/self" if pid == os.getpid() else f"/proc/{pid}"
    try:
        namespace = os.stat(f"{proc}/ns/pid").st_ino
        with open(f"{proc}/status", "rb") as status:
            for line in status:
                if line.startswith(b"NSpid:"):
                    return f"{int(line.split()[-1])}-{namespace}"  # the innermost pid
    except (OSError, ValueError):
        pass
    return str(pid)


def output_path(pid: int, directory: str | None = None) -> str:
    """Where a detached program's output goes."""
    return os.path.join(directory or runtime_dir(), f"{pid}{OUTPUT_SUFFIX}")


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists (ours or not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_ended(pid: int) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie nobody has reaped)."""
    if not pid_alive(pid):
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            state = stat_file.read().rpartition(b")")[2].split()[:1]
    except OSError:
        return False  # no /proc: alive as far as we can tell
    return state in ([b"Z"], [b"X"])


def socket_ident(path: str) -> tuple[int, int, int] | None:
    """Which file ``path`` is (device, inode, change time: inode numbers are
    reused at once on some file systems), or None if there is none."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_ctime_ns)


def remove_stale(path: str, owner: int, ident: tuple[int, int, int] | None) -> bool:
    """Remove the socket ``owner`` bound at ``path`` (and its stacks file)
    once ``owner`` has ended.

    Only that very socket (``ident``): one bound there since by a process
    that got the same pid is left alone. True once there is nothing left to do.
    """
    if socket_ident(path) != ident or ident is None:
        return True
    if not process_ended(owner):
        return False
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    try:  # and the stacks file beside it (see reactortrace.live.deadman)
        os.unlink(os.path.splitext(path)[0] + STACKS_SUFFIX)
    except OSError:
        pass
    return True


def resolve_target(target: str, directory: str | None = None) -> str:
    """The socket path for ``attach TARGET``: a pid or a socket path.

    Raises :class:`ReactorTraceError` with a one-line reason when there is
    nothing to attach to.
    """
    if target.isdigit():
        pid = int(target)
        if not pid_alive(pid):
            raise ReactorTraceError(f"no process with pid {pid}")
        path = socket_path(pid, directory)
        if not os.path.exists(path):
            raise ReactorTraceError(
                f"process {pid} is not listening (start it with 'reactortrace run --listen')"
            )
        return path
    if not os.path.exists(target):
        raise ReactorTraceError(f"no such socket: {target}")
    if not stat.S_ISSOCK(os.stat(target).st_mode):
        raise ReactorTraceError(f"{target} is not a socket")
    return target


def check_socket(path: str) -> int:
    """The user owning the live socket ``path``, once it is safe to talk to.

    Raises :class:`ReactorTraceError` if it is not a socket, if its directory
    belongs to someone else or others may write there (the socket could be
    swapped), or if it belongs to another user (unless we are root).
    """
    real = os.path.realpath(path)
    try:
        info = os.lstat(real)
        folder = os.lstat(os.path.dirname(real))
    except OSError as exc:
        raise ReactorTraceError(f"cannot look at {path}: {exc.strerror or exc}") from None
    if not stat.S_ISSOCK(info.st_mode):
        raise ReactorTraceError(f"{path} is not a socket")
    me = os.getuid()
    if me != 0 and info.st_uid != me:
        raise ReactorTraceError(f"{path} belongs to another user (uid {info.st_uid})")
    if folder.st_uid != info.st_uid:
        raise ReactorTraceError(
            f"{path} is in a directory of another user (uid {folder.st_uid}): not trusted"
        )
    if folder.st_mode & 0o022:
        raise ReactorTraceError(
            f"{path} is in a directory others may write to (mode {folder.st_mode & 0o777:o})"
        )
    return info.st_uid


def peer_uid(sock: socket.socket) -> int | None:
    """The user of the process at the other end of a Unix socket (None where
    the system cannot tell: no ``SO_PEERCRED``)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    credentials = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return int(uid)
