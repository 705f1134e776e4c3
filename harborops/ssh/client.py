"""One SSH layer for every remote step (install, offline GC, CA distribution). No Django here.

paramiko, not asyncssh: every caller is a synchronous job handler in a Celery worker, paramiko's
blocking Channel/SFTP API fits that without an event loop per job (and without clashing with an
event loop a caller already runs), and its host-key check is explicit: we read the key the server
presented and compare it with the pinned one ourselves — there is no auto-accept path to misuse.

Rules this module enforces:

* Host keys are pinned. No pinned key: :class:`HostKeyUnknown` (carrying the fingerprint for an
  operator to accept). A different key: :class:`HostKeyChanged` naming old and new fingerprints.
* Every value that reaches a remote shell goes through :func:`quote` / :func:`command`; callers
  never format values into a command string themselves.
* The private key lives only in memory (parsed from the decrypted text, never written to disk).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import shlex
import socket
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import paramiko

LineSink = Callable[[str, str], None]  # (stream "stdout" | "stderr", line)
Cancelled = Callable[[], bool]

CHUNK = 256 * 1024
_PID_MARKER = "__harborops_pgid__"


class SSHError(Exception):
    """Anything that went wrong talking to a host; ``message`` is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class HostKeyUnknown(SSHError):
    """The host presented a key nobody accepted yet: an operator must compare and accept it."""

    def __init__(self, key_type: str, key_b64: str) -> None:
        self.key_type, self.key_b64 = key_type, key_b64
        self.fingerprint = fingerprint(key_b64)
        super().__init__(f"the host key ({key_type} {self.fingerprint}) is not accepted yet; "
                         "an operator must compare and accept it first")


class HostKeyChanged(SSHError):
    """The host presented a different key than the pinned one: refuse, never connect."""

    def __init__(self, old_fingerprint: str, key_type: str, key_b64: str) -> None:
        self.old_fingerprint = old_fingerprint
        self.key_type, self.key_b64 = key_type, key_b64
        self.new_fingerprint = fingerprint(key_b64)
        super().__init__(f"REFUSED: the host key changed. Pinned {old_fingerprint}, the host now presents "
                         f"{key_type} {self.new_fingerprint}. This can be a reinstalled host or a "
                         "man-in-the-middle; check it out of band, then accept the new key explicitly.")


class AuthFailed(SSHError):
    pass


class CommandTimeout(SSHError):
    pass


class CommandCancelled(SSHError):
    pass


class ChecksumMismatch(SSHError):
    pass


def fingerprint(key_b64: str) -> str:
    """OpenSSH's SHA256 fingerprint of a base64 public key blob (``ssh-keygen -lf`` format)."""
    digest = hashlib.sha256(base64.b64decode(key_b64)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def quote(value: object) -> str:
    """Quote one value for a POSIX shell (shlex.quote); the only way values reach a command."""
    return shlex.quote(str(value))


def command(*argv: object) -> str:
    """A command line with every argument quoted: ``command("tar", "-xzf", path, "-C", dest)``."""
    return " ".join(quote(a) for a in argv)


def script(template: str, *values: object) -> str:
    """A shell snippet whose ``{}`` placeholders are filled with quoted values (never raw)."""
    return template.format(*(quote(v) for v in values))


def load_private_key(text: str, passphrase: str | None = None) -> paramiko.PKey:
    """Parse an OpenSSH/PEM private key from memory (Ed25519, ECDSA or RSA)."""
    last: Exception | None = None
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(text), password=passphrase or None)
        except paramiko.PasswordRequiredException:
            raise SSHError("the private key is encrypted and no passphrase is stored") from None
        except (paramiko.SSHException, ValueError) as exc:
            last = exc
    raise SSHError(f"cannot read the private key: {last}")


def public_key_line(text: str, passphrase: str | None = None) -> str:
    key = load_private_key(text, passphrase)
    return f"{key.get_name()} {key.get_base64()}"


@dataclass
class Target:
    address: str
    port: int
    username: str
    private_key: str = field(repr=False)
    passphrase: str = field(default="", repr=False)
    pinned_key: str = ""  # "ssh-ed25519 AAAA..." or ""
    sudo: bool = False
    connect_timeout: float = 10.0


@dataclass
class Result:
    exit_status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


def _open_transport(address: str, port: int, timeout: float) -> paramiko.Transport:
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except TimeoutError:
        raise SSHError(f"{address}:{port}: no answer within {timeout:g}s") from None
    except ConnectionRefusedError:
        raise SSHError(f"{address}:{port} refused the connection") from None
    except OSError as exc:
        raise SSHError(f"cannot reach {address}:{port}: {exc}") from None
    transport = paramiko.Transport(sock)
    transport.banner_timeout = timeout
    transport.handshake_timeout = timeout
    try:
        transport.start_client(timeout=timeout)
    except (paramiko.SSHException, OSError, EOFError) as exc:
        transport.close()
        raise SSHError(f"SSH handshake with {address}:{port} failed: {exc}") from None
    return transport


def scan_host_key(address: str, port: int, *, timeout: float = 10.0) -> tuple[str, str]:
    """The host key the server presents, as (type, base64), without authenticating."""
    transport = _open_transport(address, port, timeout)
    try:
        key = transport.get_remote_server_key()
        return key.get_name(), key.get_base64()
    finally:
        transport.close()


class Connection:
    """An authenticated SSH connection to one host whose key matched the pinned key.

    ::

        with Connection(target) as ssh:
            status = ssh.stream(command("./install.sh", "--with-trivy"), sink, timeout=3600)
    """

    def __init__(self, target: Target) -> None:
        self.target = target
        self.transport = _open_transport(target.address, target.port, target.connect_timeout)
        try:
            self._verify_host_key()
            self._authenticate()
        except BaseException:
            self.transport.close()
            raise
        self._sftp: paramiko.SFTPClient | None = None

    def _verify_host_key(self) -> None:
        key = self.transport.get_remote_server_key()
        presented = f"{key.get_name()} {key.get_base64()}"
        pinned = self.target.pinned_key.strip()
        if not pinned:
            raise HostKeyUnknown(key.get_name(), key.get_base64())
        if pinned.split()[:2] != presented.split():
            raise HostKeyChanged(fingerprint(pinned.split()[1]), key.get_name(), key.get_base64())

    def _authenticate(self) -> None:
        pkey = load_private_key(self.target.private_key, self.target.passphrase)
        try:
            self.transport.auth_publickey(self.target.username, pkey)
        except paramiko.AuthenticationException:
            raise AuthFailed(f"{self.target.username}@{self.target.address}:{self.target.port} "
                             "refused the private key") from None
        except paramiko.SSHException as exc:
            raise SSHError(f"authentication failed: {exc}") from None

    # --- lifecycle ----------------------------------------------------------------------------------
    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
        self.transport.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- commands -----------------------------------------------------------------------------------
    def _wrap(self, cmd: str, *, sudo: bool) -> str:
        # Run in a new session (setsid) so a timeout or a cancel can end the whole process group,
        # and print its id first on stderr. The command itself is passed as one quoted argument.
        inner = cmd if not sudo else command("sudo", "-n", "--", "sh", "-c", cmd)
        body = f"echo {_PID_MARKER}$$ >&2; exec sh -c {quote(inner)}"
        return f"exec setsid -w sh -c {quote(body)}"

    def stream(self, cmd: str, sink: LineSink | None = None, *, timeout: float = 600.0,
               cancelled: Cancelled | None = None, sudo: bool | None = None,
               stdin: bytes | None = None) -> Result:
        """Run ``cmd`` (already quoted with :func:`command` / :func:`script`), pass each stdout and
        stderr line to ``sink`` as it arrives, and return the exit status and the full output.

        Raises CommandTimeout after ``timeout`` seconds and CommandCancelled when ``cancelled()``
        turns true; either way the remote process group is sent SIGTERM.
        """
        use_sudo = self.target.sudo if sudo is None else sudo
        channel = self.transport.open_session(timeout=self.target.connect_timeout)
        channel.settimeout(0.2)
        channel.exec_command(self._wrap(cmd, sudo=use_sudo))
        if stdin is not None:
            channel.sendall(stdin)
        channel.shutdown_write()
        buffers = {"stdout": b"", "stderr": b""}
        collected: dict[str, list[str]] = {"stdout": [], "stderr": []}
        pgid: list[str] = []
        deadline = time.monotonic() + timeout
        next_cancel_check = 0.0
        exited_at = 0.0

        def emit(stream: str, raw: bytes) -> None:
            text = raw.decode("utf-8", errors="replace").rstrip("\r")
            if stream == "stderr" and not pgid and text.startswith(_PID_MARKER):
                pgid.append(text[len(_PID_MARKER):])
                return
            collected[stream].append(text)
            if sink is not None:
                sink(stream, text)

        def feed(stream: str, data: bytes) -> None:
            buffers[stream] += data
            *lines, buffers[stream] = buffers[stream].split(b"\n")
            for line in lines:
                emit(stream, line)

        try:
            while True:
                progressed = False
                while channel.recv_ready():
                    feed("stdout", channel.recv(CHUNK))
                    progressed = True
                while channel.recv_stderr_ready():
                    feed("stderr", channel.recv_stderr(CHUNK))
                    progressed = True
                now = time.monotonic()
                if channel.exit_status_ready() and not channel.recv_ready() and not channel.recv_stderr_ready():
                    # sshd may send the exit status before the last output: wait for EOF, briefly
                    # (a daemon the command left behind may hold the pipes open forever).
                    exited_at = exited_at or now
                    if channel.eof_received or now - exited_at > 2.0:
                        break
                if now > deadline:
                    self._terminate(pgid)
                    raise CommandTimeout(f"the command did not finish within {timeout:g}s and was stopped")
                if cancelled is not None and now >= next_cancel_check:
                    next_cancel_check = now + 0.5
                    if cancelled():
                        self._terminate(pgid)
                        raise CommandCancelled("cancelled on request; the remote command was stopped")
                if not progressed:
                    channel.status_event.wait(0.05)
            status = channel.recv_exit_status()
        finally:
            channel.close()
        for stream, rest in buffers.items():
            if rest:
                emit(stream, rest)
        return Result(status, "\n".join(collected["stdout"]), "\n".join(collected["stderr"]))

    def _terminate(self, pgid: list[str]) -> None:
        if pgid and pgid[0].isdigit():
            with contextlib.suppress(SSHError):
                self.stream(command("kill", "-s", "TERM", "--", f"-{pgid[0]}"), timeout=15)

    def run(self, cmd: str, *, timeout: float = 60.0, sudo: bool | None = None) -> Result:
        """A short command whose output we only need as a value."""
        return self.stream(cmd, None, timeout=timeout, sudo=sudo)

    # --- files --------------------------------------------------------------------------------------
    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self._sftp = paramiko.SFTPClient.from_transport(self.transport)
            if self._sftp is None:
                raise SSHError("the host offers no SFTP subsystem")
        return self._sftp

    def remote_size(self, path: str) -> int | None:
        try:
            attrs = self.sftp.stat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SSHError(f"cannot stat {path}: {exc}") from None
        if attrs.st_mode is not None and not stat.S_ISREG(attrs.st_mode):
            raise SSHError(f"{path} exists and is not a regular file")
        return attrs.st_size

    def remote_sha256(self, path: str, *, limit: int | None = None, timeout: float = 600.0) -> str:
        if limit is None:
            result = self.run(command("sha256sum", "--", path), timeout=timeout)
        else:
            result = self.run(script("head -c {} -- {} | sha256sum", limit, path), timeout=timeout)
        if not result.ok or not result.stdout.split():
            raise SSHError(f"cannot checksum {path}: {result.stderr.strip() or 'sha256sum failed'}")
        return result.stdout.split()[0]

    def read_text(self, path: str) -> str | None:
        try:
            with self.sftp.open(path, "r") as handle:
                return handle.read().decode("utf-8")
        except FileNotFoundError:
            return None

    def write_text(self, path: str, text: str, *, mode: int = 0o600) -> None:
        tmp = f"{path}.harborops-tmp"
        with self.sftp.open(tmp, "w") as handle:
            handle.write(text.encode("utf-8"))
        self.sftp.chmod(tmp, mode)
        self.sftp.posix_rename(tmp, path)

    def makedirs(self, path: str) -> None:
        """``mkdir -p``; with sudo, the directory is then given to the login user, because SFTP
        (uploads, harbor.yml) writes as that user."""
        cmd = command("mkdir", "-p", "--", path)
        if self.target.sudo:
            cmd += " && " + command("chown", "--", self.target.username, path)
        result = self.run(cmd)
        if not result.ok:
            raise SSHError(f"cannot create {path}: {result.stderr.strip()}")

    def upload(self, local: Path, remote: str, *, sha256: str, progress: Callable[[int, int], None] | None = None,
               cancelled: Cancelled | None = None) -> UploadResult:
        """Upload ``local`` to ``remote`` and verify its SHA-256 on the host.

        1. ``remote`` exists with the right checksum: skip (0 bytes sent).
        2. ``remote.part`` exists and its bytes are a prefix of ``local``: resume after them.
        3. Otherwise send everything into ``remote.part``.
        4. Checksum ``remote.part`` on the host, then rename it to ``remote``.
        """
        size = local.stat().st_size
        if self.remote_size(remote) == size and self.remote_sha256(remote) == sha256:
            return UploadResult(sent=0, skipped=True, resumed_from=0)
        part = remote + ".part"
        offset = self.remote_size(part) or 0
        if offset and (offset > size or self.remote_sha256(part, limit=offset) != _local_sha256(local, offset)):
            offset = 0
        sent = 0
        with local.open("rb") as src, self.sftp.open(part, "ab" if offset else "wb") as dst:
            dst.set_pipelined(True)
            src.seek(offset)
            while chunk := src.read(CHUNK):
                if cancelled is not None and cancelled():
                    raise CommandCancelled("cancelled on request during the upload")
                dst.write(chunk)
                sent += len(chunk)
                if progress is not None:
                    progress(offset + sent, size)
        got = self.remote_sha256(part)
        if got != sha256:
            self.sftp.remove(part)
            raise ChecksumMismatch(f"checksum mismatch after upload of {remote}: expected sha256 {sha256}, "
                                   f"the host has {got}; the partial file was removed")
        self.sftp.posix_rename(part, remote)
        return UploadResult(sent=sent, skipped=False, resumed_from=offset)


@dataclass
class UploadResult:
    sent: int
    skipped: bool
    resumed_from: int


def _local_sha256(path: Path, limit: int | None = None) -> str:
    digest = hashlib.sha256()
    remaining = limit
    with path.open("rb") as handle:
        while True:
            want = CHUNK if remaining is None else min(CHUNK, remaining)
            if want <= 0:
                break
            chunk = handle.read(want)
            if not chunk:
                break
            digest.update(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    return digest.hexdigest()


def file_digests(path: Path, algorithms: Iterable[str] = ("sha256", "md5")) -> dict[str, str]:
    digests = {name: hashlib.new(name) for name in algorithms}
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            for d in digests.values():
                d.update(chunk)
    return {name: d.hexdigest() for name, d in digests.items()}
