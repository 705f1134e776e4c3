"""The SSH layer against a real OpenSSH sshd, as an unprivileged user (no database needed)."""

from __future__ import annotations

import hashlib
import os
import pwd
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harborops.ssh import client
from harborops.ssh.client import command, quote, script
from tests.support.sshd import FAKE_HOSTS, REAL_HOST, SSHD, as_test_user

pytestmark = [pytest.mark.embedded]

# Hostile values: each would run `touch canary-N` if it ever reached a shell unquoted. The payload
# is a harmless canary, and the commands run as the unprivileged test user.
HOSTILE = [
    "; touch canary-1",
    "$(touch canary-2)",
    "`touch canary-3`",
    "'; touch canary-4; '",
    '"; touch canary-5; "',
    "line\ntouch canary-6",
    "*",
    "x && touch canary-7",
    "| touch canary-8",
    "$HOME ${PATH} ~",
    "-n",
    "\\$(touch canary-9)\\",
    "a  b\tc ",
    "> canary-10",
    "$(touch canary-11)'\"`touch canary-12`\"'",
    "ünïcødé ✓",
]


def _canaries(*dirs: Path) -> list[str]:
    return sorted(str(p) for d in dirs for p in d.rglob("canary-*"))


def test_it_runs_a_command_and_streams_lines_in_order(target: Callable[..., client.Target]):
    lines: list[tuple[str, str]] = []
    with client.Connection(target()) as ssh:
        result = ssh.stream("for i in 1 2 3; do echo out-$i; echo err-$i >&2; done; exit 3",
                            lambda stream, line: lines.append((stream, line)))
    assert result.exit_status == 3 and not result.ok
    assert [t for s, t in lines if s == "stdout"] == ["out-1", "out-2", "out-3"]
    assert [t for s, t in lines if s == "stderr"] == ["err-1", "err-2", "err-3"]
    assert result.stdout == "out-1\nout-2\nout-3"


def test_it_refuses_an_unknown_host_key_and_names_its_fingerprint(sshd: SSHD, target: Callable[..., client.Target]):
    with pytest.raises(client.HostKeyUnknown) as err:
        client.Connection(target(pinned_key=""))
    assert err.value.fingerprint == sshd.host_key_fingerprint()
    assert sshd.host_key_fingerprint() in str(err.value)


def test_it_refuses_a_changed_host_key_naming_old_and_new(sshd: SSHD, target: Callable[..., client.Target]):
    with pytest.raises(client.HostKeyChanged) as err:
        client.Connection(target(pinned_key=sshd.other_host_public_key))
    old = client.fingerprint(sshd.other_host_public_key.split()[1])
    assert err.value.old_fingerprint == old
    assert err.value.new_fingerprint == sshd.host_key_fingerprint()
    assert old in err.value.message and sshd.host_key_fingerprint() in err.value.message
    assert "REFUSED" in err.value.message


def test_it_scans_the_host_key_without_logging_in(sshd: SSHD):
    key_type, key_b64 = client.scan_host_key(REAL_HOST, sshd.port)
    assert f"{key_type} {key_b64}" == sshd.host_public_key


def test_it_reports_a_rejected_private_key(target: Callable[..., client.Target], tmp_path: Path):
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    with pytest.raises(client.AuthFailed, match="refused the private key"):
        client.Connection(target(private_key=(tmp_path / "k").read_text()))


def test_it_reports_a_refused_port(target: Callable[..., client.Target]):
    from tests.support.processes import free_port

    with pytest.raises(client.SSHError, match="refused"):
        client.Connection(target(port=free_port(FAKE_HOSTS[1])))


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_arrive_verbatim_and_never_execute(value: str, target: Callable[..., client.Target],
                                                         scratch: Path, sshd: SSHD):
    with client.Connection(target()) as ssh:
        as_args = ssh.run(script("cd {} && printf '%s' {}", scratch, value))
        as_argv = ssh.run(command("printf", "%s|", value, value))
        # A value in a file name: created, listed and removed by name, nothing else touched.
        ssh.run(script("cd {} && : > {} && ls -A", scratch, "f" + value.replace("/", "_")))
    assert as_args.ok and as_args.stdout == value.rstrip("\n") if "\n" not in value else as_args.ok
    if "\n" in value:
        assert as_args.stdout.split("\n") == value.split("\n")
    assert as_argv.stdout.replace("\n", "\\n") == f"{value}|{value}|".replace("\n", "\\n")
    names = [p.name for p in scratch.iterdir()]
    assert names == ["f" + value.replace("/", "_")]
    assert _canaries(scratch, sshd.home) == []


def test_quote_is_shell_quoting():
    assert quote("a b") == "'a b'"
    assert command("echo", "$(x)", "'") == "echo '$(x)' ''\"'\"''"
    assert script("cd {} && ls {}", "/tmp/x y", "*") == "cd '/tmp/x y' && ls '*'"


def test_a_timeout_stops_the_remote_command(target: Callable[..., client.Target], scratch: Path):
    with client.Connection(target()) as ssh, pytest.raises(client.CommandTimeout, match="within 1s"):
        ssh.stream(script("sleep 3; touch {}", str(scratch / "should-not-exist")), timeout=1)
    time.sleep(3.5)
    assert not (scratch / "should-not-exist").exists()


def test_cancelling_stops_the_remote_command(target: Callable[..., client.Target], scratch: Path):
    started = time.monotonic()
    seen: list[str] = []
    with client.Connection(target()) as ssh, pytest.raises(client.CommandCancelled):
        ssh.stream(script("echo started; sleep 3; touch {}", str(scratch / "should-not-exist")),
                   lambda s, line: seen.append(line), cancelled=lambda: time.monotonic() - started > 0.5)
    assert seen == ["started"]
    time.sleep(3.5)
    assert not (scratch / "should-not-exist").exists()


def _blob(tmp_path: Path, size: int = 3 * client.CHUNK + 123) -> tuple[Path, str]:
    path = tmp_path / "blob.bin"
    data = bytes((i * 7919) % 251 for i in range(size))
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def test_upload_verifies_then_skips_a_file_already_there(target: Callable[..., client.Target], scratch: Path,
                                                         tmp_path: Path):
    local, digest = _blob(tmp_path)
    remote = str(scratch / "blob.bin")
    with client.Connection(target()) as ssh:
        first = ssh.upload(local, remote, sha256=digest)
        second = ssh.upload(local, remote, sha256=digest)
    assert first.sent == local.stat().st_size and not first.skipped
    assert second.sent == 0 and second.skipped
    assert hashlib.sha256(Path(remote).read_bytes()).hexdigest() == digest
    assert not Path(remote + ".part").exists()


def test_upload_resumes_a_partial_file(target: Callable[..., client.Target], scratch: Path, tmp_path: Path,
                                      sshd: SSHD):
    local, digest = _blob(tmp_path)
    remote = str(scratch / "blob.bin")
    Path(remote + ".part").write_bytes(local.read_bytes()[:300000])
    user = pwd.getpwnam(sshd.user)
    os.chown(remote + ".part", user.pw_uid, user.pw_gid)
    with client.Connection(target()) as ssh:
        result = ssh.upload(local, remote, sha256=digest)
    assert result.resumed_from == 300000
    assert result.sent == local.stat().st_size - 300000
    assert hashlib.sha256(Path(remote).read_bytes()).hexdigest() == digest


def test_upload_restarts_when_the_partial_file_differs(target: Callable[..., client.Target], scratch: Path,
                                                        tmp_path: Path):
    local, digest = _blob(tmp_path)
    remote = str(scratch / "blob.bin")
    as_test_user("sh", "-c", f"head -c 1000 /dev/zero > {quote(remote + '.part')}")  # same size, other bytes
    with client.Connection(target()) as ssh:
        result = ssh.upload(local, remote, sha256=digest)
    assert result.resumed_from == 0 and result.sent == local.stat().st_size
    assert hashlib.sha256(Path(remote).read_bytes()).hexdigest() == digest


def test_upload_refuses_a_checksum_mismatch(target: Callable[..., client.Target], scratch: Path, tmp_path: Path):
    local, _ = _blob(tmp_path)
    remote = str(scratch / "blob.bin")
    with client.Connection(target()) as ssh, pytest.raises(client.ChecksumMismatch, match="checksum mismatch"):
        ssh.upload(local, remote, sha256="0" * 64)
    assert not Path(remote).exists() and not Path(remote + ".part").exists()


def test_upload_to_a_hostile_file_name(target: Callable[..., client.Target], scratch: Path, tmp_path: Path,
                                      sshd: SSHD):
    local, digest = _blob(tmp_path, 1000)
    name = "$(touch canary-20); `touch canary-21` 'x'.bin"
    with client.Connection(target()) as ssh:
        ssh.upload(local, str(scratch / name), sha256=digest)
        ssh.upload(local, str(scratch / name), sha256=digest)
    assert (scratch / name).read_bytes() == local.read_bytes()
    assert _canaries(scratch, sshd.home) == []


def test_files_read_and_write_atomically(target: Callable[..., client.Target], scratch: Path):
    with client.Connection(target()) as ssh:
        assert ssh.read_text(str(scratch / "missing")) is None
        ssh.write_text(str(scratch / "harbor.yml"), "hostname: x\n")
        assert ssh.read_text(str(scratch / "harbor.yml")) == "hostname: x\n"
    assert oct((scratch / "harbor.yml").stat().st_mode & 0o777) == "0o600"
