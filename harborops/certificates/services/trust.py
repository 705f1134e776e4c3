"""CA trust on the pulling hosts: write a registry's CA where the host's runtime reads it, and check it.

Where each runtime looks (the directory is ``<host>`` for port 443, ``<host>:<port>`` otherwise):

* docker      ``/etc/docker/certs.d/<dir>/ca.crt`` — read at each connection, no daemon restart;
* containerd  ``/etc/containerd/certs.d/<dir>/hosts.toml`` + ``ca.crt`` — read per pull (``config_path``);
* podman/CRI-O ``/etc/containers/certs.d/<dir>/ca.crt`` — read per pull.

A push, per (host, registry):
1. write ``ca.crt`` into a temporary file beside the target (content through stdin, never a command
   line), back up an existing *different* file as ``ca.crt.bak-<UTC time>``, then rename over it
   (atomic); mode 0644; with ``use_sudo`` the shell runs under sudo, so the owner is root;
2. compare the file's SHA-256 on the host with ours;
3. from the host itself, ``openssl s_client -CAfile <file> -verify_return_error -servername <name>
   -verify_hostname <name>`` against the registry: the runtime will trust it exactly when this does.
Every value reaching the remote shell goes through the SSH layer's quoting (``script``/``command``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import posixpath
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import now

from harborops.audit.services import record
from harborops.certificates.models import Endpoint, PullingHost, TrustState
from harborops.core.actor import Actor
from harborops.ssh import client
from harborops.ssh.client import command, script
from harborops.ssh.models import SSHHost

Say = Callable[[str, str], None]  # (level, text)
S = TrustState.State


def directory_name(host: str, port: int) -> str:
    """``certs.d`` directory of a registry: docker, containerd and podman all drop 443 and keep any other port."""
    return host if port == 443 else f"{host}:{port}"


@dataclass(frozen=True)
class Paths:
    directory: str     # where harborops writes (prefix included)
    ca_file: str
    hosts_toml: str    # containerd only, else ""
    runtime_ca: str    # the path the runtime reads (prefix excluded)


def paths(pulling: PullingHost, endpoint: Endpoint) -> Paths:
    name = directory_name(endpoint.name_to_verify, endpoint.port)
    runtime_dir = posixpath.join(pulling.base, name)
    prefix = pulling.path_prefix.rstrip("/")
    directory = prefix + runtime_dir
    hosts = posixpath.join(directory, "hosts.toml") if pulling.runtime == PullingHost.Runtime.CONTAINERD else ""
    return Paths(directory, posixpath.join(directory, "ca.crt"), hosts, posixpath.join(runtime_dir, "ca.crt"))


def hosts_toml(endpoint: Endpoint, runtime_ca: str) -> str:
    """containerd's per-registry host config (docs/hosts.md of containerd): the server and its CA."""
    server = f"https://{directory_name(endpoint.name_to_verify, endpoint.port)}"
    return f'server = "{server}"\n\n[host."{server}"]\n  capabilities = ["pull", "resolve"]\n  ca = "{runtime_ca}"\n'


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _remote_sha256(ssh: client.Connection, path: str) -> str:
    # Through stdin: sha256sum escapes unusual file names in its output, stdin is always "-".
    result = ssh.run(script("sha256sum < {}", path), timeout=30)
    if not result.ok or not result.stdout.split():
        raise client.SSHError(f"cannot checksum {path}: {result.stderr.strip() or 'sha256sum failed'}")
    return result.stdout.split()[0]


_WRITE = ("umask 022 && mkdir -p -- {dir} && cat > {tmp} && chmod 0644 -- {tmp} && "
          "if [ -f {path} ] && ! cmp -s -- {path} {tmp}; then cp -p -- {path} {backup} && echo backup {backup}; fi "
          "&& mv -f -- {tmp} {path}")


def _write(ssh: client.Connection, directory: str, path: str, text: str) -> str:
    """Atomic write through stdin; returns the backup path ("" when there was nothing different)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    values = {"dir": directory, "tmp": f"{path}.harborops-tmp", "path": path, "backup": f"{path}.bak-{stamp}"}
    cmd = _WRITE.format(**{k: client.quote(v) for k, v in values.items()})
    result = ssh.stream(cmd, stdin=text.encode(), timeout=60)
    if not result.ok:
        raise client.SSHError(f"cannot write {path}: {result.stderr.strip() or f'exit {result.exit_status}'}")
    return values["backup"] if "backup " in result.stdout else ""


def verify_from_host(ssh: client.Connection, endpoint: Endpoint, ca_file: str, *,
                     timeout: float = 30) -> tuple[bool, str]:
    """The host's own openssl, with only this CA file, against the registry (hostname checked too)."""
    name = endpoint.name_to_verify
    cmd = command("openssl", "s_client", "-connect", f"{endpoint.host}:{endpoint.port}", "-servername", name,
                  "-verify_hostname", name, "-CAfile", ca_file, "-verify_return_error", "-brief")
    result = ssh.stream(cmd, timeout=timeout)
    output = f"{result.stdout}\n{result.stderr}"
    if result.ok and "Verification: OK" in output:
        return True, f"openssl s_client on the host verified {name} with {ca_file}"
    detail = next((ln.strip() for ln in output.splitlines() if "verify error" in ln.lower() or "error" in ln.lower()),
                  f"exit {result.exit_status}")
    return False, f"openssl s_client on the host failed for {name}: {detail}"


def _connect_problem(exc: Exception) -> str:
    return exc.message if isinstance(exc, client.SSHError) else f"{type(exc).__name__}: {exc}"


def _unreachable_registry(message: str) -> bool:
    text = message.lower()
    return any(w in text for w in ("connect:", "connection refused", "errno", "no route", "timed out",
                                   "getaddrinfo", "name or service"))


def _save(pulling: PullingHost, endpoint: Endpoint, state: str, message: str, path: str) -> TrustState:
    cell, _ = TrustState.objects.update_or_create(
        pulling_host=pulling, endpoint=endpoint,
        defaults={"state": state, "message": message[:2000], "path": path, "checked_at": now()})
    return cell


def push(pulling: PullingHost, endpoint: Endpoint, *, say: Say) -> TrustState:
    """Write the endpoint's trust CA on the host, verify by hash and by a handshake from the host."""
    ca = endpoint.trust_ca
    if ca is None:
        return _save(pulling, endpoint, S.MISSING, "no trust CA is chosen for this registry", "")
    p = paths(pulling, endpoint)
    try:
        with pulling.host.connect() as ssh:
            backup = _write(ssh, p.directory, p.ca_file, ca.certificate)
            say("info", f"{pulling.host.name}: wrote {p.ca_file} ({ca.name}, {ca.fingerprint[:23]}…)"
                        + (f"; the different file before it is kept as {backup}" if backup else ""))
            if p.hosts_toml:
                _write(ssh, p.directory, p.hosts_toml, hosts_toml(endpoint, p.runtime_ca))
                say("info", f"{pulling.host.name}: wrote {p.hosts_toml}")
            got = _remote_sha256(ssh, p.ca_file)
            if got != _sha256(ca.certificate):
                return _save(pulling, endpoint, S.STALE, f"{p.ca_file} has sha256 {got} after the write, "
                                                         f"expected {_sha256(ca.certificate)}", p.ca_file)
            say("info", f"{pulling.host.name}: {p.ca_file} sha256 matches")
            ok, message = verify_from_host(ssh, endpoint, p.ca_file)
    except Exception as exc:  # SSHError and anything the host throws at us: this cell fails, not the job
        message = _connect_problem(exc)
        say("error", f"{pulling.host.name}: {message}")
        return _save(pulling, endpoint, S.UNREACHABLE, message, p.ca_file)
    say("info" if ok else "error", f"{pulling.host.name}: {message}")
    if ok and pulling.runtime == PullingHost.Runtime.DOCKER:
        say("info", f"{pulling.host.name}: docker reads certs.d at each connection: no daemon restart needed")
    state = S.OK if ok else S.UNREACHABLE if _unreachable_registry(message) else S.VERIFY_FAILED
    return _save(pulling, endpoint, state, message, p.ca_file)


# Is the CA file there (and its hash), and is a CA in a sibling directory of another port? The host
# part of the glob is quoted; the unquoted ":*" after it is the shell's glob.
_LOOK = ("if [ -f {} ]; then echo present; sha256sum < {}; fi; "
         'for d in {}/{} {}/{}:*; do [ -f "$d/ca.crt" ] && echo "found $d"; done; true')


def check(pulling: PullingHost, endpoint: Endpoint) -> TrustState:
    """Read-only: is the right CA in the right directory, and does the host's handshake verify?"""
    ca = endpoint.trust_ca
    p = paths(pulling, endpoint)
    if ca is None:
        return _save(pulling, endpoint, S.MISSING, "no trust CA is chosen for this registry", "")
    base = pulling.path_prefix.rstrip("/") + pulling.base
    try:
        with pulling.host.connect() as ssh:
            name = endpoint.name_to_verify
            look = ssh.run(script(_LOOK, p.ca_file, p.ca_file, base, name, base, name), timeout=30)
            lines = look.stdout.splitlines()
            if "present" not in lines:
                others = [ln.removeprefix("found ") for ln in lines if ln.startswith("found ")]
                if others:
                    return _save(pulling, endpoint, S.WRONG_DIRECTORY,
                                 f"no {p.ca_file}, but a CA in {', '.join(others)}: the registry listens on "
                                 f"port {endpoint.port}, so the directory must be "
                                 f"{directory_name(endpoint.name_to_verify, endpoint.port)}", p.ca_file)
                return _save(pulling, endpoint, S.MISSING, f"{p.ca_file} does not exist", p.ca_file)
            digest = next((ln.split()[0] for ln in lines if ln.endswith("  -")), "")
            if digest != _sha256(ca.certificate):
                return _save(pulling, endpoint, S.STALE, f"{p.ca_file} holds another CA (sha256 {digest[:16]}…), "
                                                         f"not {ca.name}", p.ca_file)
            ok, message = verify_from_host(ssh, endpoint, p.ca_file)
    except Exception as exc:  # the host is down, its key changed, ...: this cell only
        return _save(pulling, endpoint, S.UNREACHABLE, _connect_problem(exc), p.ca_file)
    state = S.OK if ok else S.UNREACHABLE if _unreachable_registry(message) else S.VERIFY_FAILED
    return _save(pulling, endpoint, state, message, p.ca_file)


def trust_endpoints() -> list[Endpoint]:
    return list(Endpoint.objects.filter(enabled=True).exclude(trust_ca=None).select_related("trust_ca")
                .order_by("label", "pk"))


def check_all(*, say: Say | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    endpoints = trust_endpoints()
    for pulling in PullingHost.objects.select_related("host").order_by("host__name", "runtime"):
        for endpoint in endpoints:
            cell = check(pulling, endpoint)
            counts[cell.state] = counts.get(cell.state, 0) + 1
            if say is not None:
                say("info" if cell.state == S.OK else "warning",
                    f"{pulling} × {endpoint.label}: {cell.state}: {cell.message}")
    with transaction.atomic():
        TrustState.objects.exclude(endpoint__in=endpoints).delete()
    return counts


# --- pulling hosts (audited) ---------------------------------------------------------------------------


def _pulling_view(pulling: PullingHost) -> dict[str, str]:
    return {"host": pulling.host.name, "runtime": pulling.runtime, "path_prefix": pulling.path_prefix}


def create_pulling_host(*, actor: Actor, host: SSHHost, runtime: str, path_prefix: str = "") -> PullingHost:
    prefix = path_prefix.strip().rstrip("/")
    if prefix and not prefix.startswith("/"):
        raise ValidationError({"path_prefix": "an absolute path, e.g. /srv/fakeroot (blank = the root)"})
    if runtime not in PullingHost.Runtime.values:
        raise ValidationError({"runtime": f"one of {', '.join(PullingHost.Runtime.values)}"})
    if PullingHost.objects.filter(host=host, runtime=runtime).exists():
        raise ValidationError({"runtime": f"{host.name} already has {runtime}"})
    pulling = PullingHost(host=host, runtime=runtime, path_prefix=prefix)
    with transaction.atomic():
        pulling.save()
        record(actor=actor, action="certificates.pulling_host.create", obj=pulling, before=None,
               after=_pulling_view(pulling))
    return pulling


def delete_pulling_host(pulling: PullingHost, *, actor: Actor) -> None:
    with transaction.atomic():
        record(actor=actor, action="certificates.pulling_host.delete", obj=pulling, before=_pulling_view(pulling),
               after=None)
        pulling.delete()


@dataclass
class Matrix:
    hosts: list[PullingHost]
    endpoints: list[Endpoint]
    rows: list[tuple[PullingHost, list[tuple[Endpoint, TrustState | None]]]]
    counts: dict[str, int]


def matrix() -> Matrix:
    hosts = list(PullingHost.objects.select_related("host").order_by("host__name", "runtime"))
    endpoints = trust_endpoints()
    cells = {(c.pulling_host_id, c.endpoint_id): c for c in TrustState.objects.all()}
    rows = [(h, [(e, cells.get((h.pk, e.pk))) for e in endpoints]) for h in hosts]
    counts: dict[str, int] = {}
    for _, row in rows:
        for _, cell in row:
            key = cell.state if cell else "unchecked"
            counts[key] = counts.get(key, 0) + 1
    return Matrix(hosts, endpoints, rows, counts)
