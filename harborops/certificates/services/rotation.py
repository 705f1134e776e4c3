"""Rotate the server certificate of an instance harborops manages over SSH.

Per member host (an HA group's members one at a time; the next starts only after the previous one
serves the new certificate):

1. read ``harbor.yml``: where ``https.certificate`` / ``https.private_key`` point, the https port;
2. back up harbor.yml and the certificate and key files (``<install_dir>/cert/backup-<UTC time>/``);
3. upload the new certificate (with its CA) and key to ``<install_dir>/cert/server.crt|key``
   through stdin (key 0600; it is never in a command, never logged), and point harbor.yml at them
   if it pointed elsewhere;
4. ``./prepare`` (``--with-trivy`` when the install has Trivy), then ``docker compose down`` and
   ``docker compose up -d`` (Harbor's own renewal procedure);
5. verify: a TLS handshake to the host's https port must present the new fingerprint and expiry.

When any step after the backup fails: the backup is put back, ``./prepare`` and the containers
are run again, and the old certificate must be served again; the member reports "restored" (or
"restore failed" with why). The job stops there: the other members keep their certificate.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import now

from harborops.audit.services import record
from harborops.certificates import tls
from harborops.certificates.models import Deployment, Endpoint, IssuedCertificate
from harborops.certificates.services import ca as ca_services
from harborops.certificates.services import managed
from harborops.core.actor import Actor
from harborops.core.models import JobRun
from harborops.fleet.models import Instance
from harborops.fleet.services.inventory import system_resolver
from harborops.installs.models import Install, InstallTarget
from harborops.ssh import client
from harborops.ssh.client import script

Say = Callable[[str, str], None]  # (level, text)
Cancelled = Callable[[], bool]


class RotationFailed(Exception):
    pass


def _leaf(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificates(pem.encode())[0]


def _scrubber(secret: str) -> Callable[[str], str]:
    """Blank any line of remote output that carries a piece of the key (no tool should print it;
    if one did, it stops here)."""
    pieces = [ln.strip() for ln in secret.splitlines() if len(ln.strip()) >= 16 and "-----" not in ln]

    def scrub(text: str) -> str:
        return "[line withheld: it held private key material]" if any(p in text for p in pieces) else text

    return scrub


@dataclass
class MemberResult:
    host: str
    instance: str
    status: str  # succeeded | restored | restore_failed | failed | skipped
    message: str
    old_fingerprint: str = ""
    new_fingerprint: str = ""
    backup: str = ""
    at: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def served_fingerprint(host: str, port: int, server_name: str = "") -> tuple[str, dt.datetime | None]:
    from harborops.certificates.services import scan

    address = tls._resolve(host, port, scan.RESOLVER or system_resolver)
    ders = tls.read_chain(address, port, server_name or host, timeout=5.0)
    if not ders:
        return "", None
    cert = x509.load_der_x509_certificate(ders[0])
    return tls.fingerprint(cert), cert.not_valid_after_utc


def wait_for_served(host: str, port: int, fingerprint: str, not_after: dt.datetime | None, *,
                    timeout: float, cancelled: Cancelled | None = None) -> tuple[bool, str]:
    """Until ``timeout``: does host:port present ``fingerprint`` (and ``not_after``)?"""
    deadline = time.monotonic() + timeout
    seen = "nothing yet"
    while True:
        try:
            got, expiry = served_fingerprint(host, port)
            seen = f"{got[:23]}…" if got else "no certificate"
            if got == fingerprint and (not_after is None or expiry == not_after):
                return True, f"{host}:{port} serves {fingerprint[:23]}… (expires {expiry:%Y-%m-%d %H:%M} UTC)"
        except OSError as exc:
            seen = f"no TLS answer ({exc})"
        if time.monotonic() > deadline or (cancelled is not None and cancelled()):
            return False, f"{host}:{port} does not serve {fingerprint[:23]}… after {timeout:g}s: it serves {seen}"
        time.sleep(1.0)


class _Host:
    """One member's remote steps, with the job's log and cancel check."""

    def __init__(self, target: InstallTarget, ssh: client.Connection, say: Say, cancelled: Cancelled | None,
                 scrub: Callable[[str], str]) -> None:
        self.target, self.install, self.ssh = target, target.install, ssh
        self.prefix = f"[{target.host.name}]"
        self._say, self.cancelled, self.scrub = say, cancelled, scrub

    def say(self, text: str, level: str = "info") -> None:
        self._say(level, f"{self.prefix} {self.scrub(text)}")

    def run(self, what: str, cmd: str) -> None:
        self.say(f"$ {what}")

        def sink(stream: str, line: str) -> None:
            self._say("stderr" if stream == "stderr" else "stdout", f"{self.prefix} {self.scrub(line)}")

        result = self.ssh.stream(cmd, sink, timeout=settings.INSTALL_COMMAND_TIMEOUT, cancelled=self.cancelled)
        if result.exit_status != 0:
            raise RotationFailed(f"{what} exited with {result.exit_status}")

    def restart(self) -> None:
        hdir = self.install.harbor_dir
        flags = " --with-trivy" if self.install.with_trivy else ""
        self.run("./prepare" + flags, script("cd {} && ./prepare", hdir) + flags)
        self.run("docker compose down", script("cd {} && docker compose down", hdir))
        self.run("docker compose up -d", script("cd {} && docker compose up -d", hdir))


def rotate_member(target: InstallTarget, issued: IssuedCertificate, *, say: Say,
                  cancelled: Cancelled | None = None) -> MemberResult:
    install = target.install
    result = MemberResult(host=target.host.name, instance=target.instance.name if target.instance else "",
                          status="failed", message="", new_fingerprint=issued.fingerprint)
    scrub = _scrubber(issued.private_key)
    timeout = float(settings.CERT_ROTATE_VERIFY_TIMEOUT)
    cert_dir = posixpath.join(install.install_dir.rstrip("/"), "cert")
    new_cert, new_key = posixpath.join(cert_dir, "server.crt"), posixpath.join(cert_dir, "server.key")
    try:
        with target.host.connect() as ssh:
            h = _Host(target, ssh, say, cancelled, scrub)
            conf = managed.read_config(ssh, install)
            if not conf.certificate or not conf.private_key:
                raise RotationFailed(f"{conf.path} has no https section with certificate and private_key: "
                                     "enable https on this Harbor first")
            port, host = conf.https_port, target.hostname
            old = managed.cat(ssh, conf.certificate)
            result.old_fingerprint = tls.fingerprint(_leaf(old)) if old and "BEGIN CERTIFICATE" in old else ""
            h.say(f"harbor.yml: https.certificate={conf.certificate} https.private_key={conf.private_key} "
                  f"port {port}; the file holds {result.old_fingerprint[:23] or 'no certificate'}…")
            saved = managed.backup(ssh, install, [conf.path, conf.certificate, conf.private_key, new_cert, new_key])
            result.backup = saved.directory
            h.say(f"backed up {', '.join(p for p, c in saved.saved.items() if c)} to {saved.directory}")
            try:
                ssh.makedirs(cert_dir)
                managed.write(ssh, new_cert, issued.chain_pem(), mode="0644")
                managed.write(ssh, new_key, issued.private_key, mode="0600")
                h.say(f"uploaded {new_cert} ({issued.fingerprint[:23]}…) and its key {new_key} (0600)")
                if (conf.certificate, conf.private_key) != (new_cert, new_key):
                    managed.write(ssh, conf.path, managed.repoint(conf.text, new_cert, new_key), mode="0600")
                    h.say(f"harbor.yml now points at {new_cert} and {new_key}")
                h.restart()
                ok, message = wait_for_served(host, port, issued.fingerprint, _leaf(issued.certificate)
                                              .not_valid_after_utc, timeout=timeout, cancelled=cancelled)
                if not ok:
                    raise RotationFailed(message)
                h.say(f"verified: {message}")
                result.status, result.message = "succeeded", message
            except (RotationFailed, client.SSHError) as exc:
                problem = str(exc)
                h.say(f"rotation failed: {problem}; restoring the previous files from {saved.directory}", "error")
                result.message = _restore(h, saved, host, port, result.old_fingerprint, timeout, problem)
                result.status = "restored" if result.message.startswith("restored") else "restore_failed"
                h.say(result.message, "warning" if result.status == "restored" else "error")
    except (RotationFailed, client.SSHError) as exc:
        result.message = str(exc)
        say("error", f"[{target.host.name}] {scrub(result.message)}")
    result.at = now().isoformat()
    return result


def _restore(h: _Host, saved: managed.Backup, host: str, port: int, old: str, timeout: float, problem: str) -> str:
    try:
        managed.restore(h.ssh, saved)
        h.restart()
    except (RotationFailed, client.SSHError) as exc:
        return f"restore failed after \"{problem}\": {exc}; the backup is in {saved.directory}"
    if not old:
        return f"restored the previous files after \"{problem}\" (there was no certificate to verify)"
    ok, message = wait_for_served(host, port, old, None, timeout=timeout)
    if not ok:
        return f"restore failed after \"{problem}\": {message}; the backup is in {saved.directory}"
    return f"restored the previous certificate after \"{problem}\": {message}"


# --- starting rotations (audited) ----------------------------------------------------------------------


def _check_members(instance: Instance) -> list[InstallTarget]:
    found = managed.members(instance)
    if not found:
        raise ValidationError({"instance": f"{instance.name} is not managed over SSH: harborops did not install it, "
                                           "so it cannot rotate its certificate"})
    off = [t.host.name for t in found if not t.install.https_enabled]
    if off:
        raise ValidationError({"instance": f"https is not enabled on {', '.join(off)}"})
    return found


def start_rotation(*, actor: Actor, instance: Instance, issued: IssuedCertificate,
                   renewal_of: IssuedCertificate | None = None) -> Deployment:
    from harborops.certificates.tasks import ROTATE
    from harborops.core.jobs import start_job

    found = _check_members(instance)
    busy = Deployment.objects.filter(
        status__in=(Deployment.Status.PENDING, Deployment.Status.RUNNING),
        job__status__in=(JobRun.Status.PENDING, JobRun.Status.RUNNING),
        instance__in=[t.instance_id for t in found if t.instance_id]).first()
    if busy is not None:
        raise ValidationError({"instance": f"rotation #{busy.pk} of {busy.instance_name} is still running"})
    if issued.not_after <= now():
        raise ValidationError({"issued": f"{issued} has expired"})
    missing = [t.hostname for t in found if not _covers(issued, t.hostname)]
    if missing and not instance.ha_group_id:
        raise ValidationError({"issued": f"{issued} does not name {', '.join(missing)} in its SANs"})
    members = [{"host": t.host.name, "target": t.pk, "instance": t.instance.name if t.instance else "",
                "status": "pending", "message": ""} for t in found]
    with transaction.atomic():
        deployment = Deployment.objects.create(instance=instance, instance_name=instance.name, issued=issued,
                                               renewal_of=renewal_of, members=members, created_by=actor.name)
        job = start_job(ROTATE, actor=actor, target=deployment)
        Deployment.objects.filter(pk=deployment.pk).update(job=job)
        deployment.job = job
        record(actor=actor, action="certificates.rotate", obj=deployment, before=None,
               after={"instance": instance.name, "issued": issued.fingerprint, "hosts": [t.host.name for t in found],
                      "renewal_of": renewal_of.fingerprint if renewal_of else "", "job": job.pk})
    return deployment


def _covers(issued: IssuedCertificate, name: str) -> bool:
    return name in issued.ip_addresses or any(tls._dns_match(d, name) for d in issued.dns_names)


def current_issued(instance: Instance) -> IssuedCertificate | None:
    """The managed-CA certificate the instance serves (last scan), else the last one deployed to it."""
    endpoint = Endpoint.objects.filter(instance=instance).select_related("leaf").first()
    if endpoint is not None and endpoint.leaf is not None:
        served = IssuedCertificate.objects.filter(fingerprint=endpoint.leaf.fingerprint).select_related("ca").first()
        if served is not None:
            return served
    last = Deployment.objects.filter(instance=instance, status=Deployment.Status.SUCCEEDED).select_related(
        "issued__ca").first()
    return last.issued if last is not None else None


def renew(*, actor: Actor, instance: Instance) -> Deployment:
    """"Renew from the managed CA": a new certificate with the same SANs, key type and lifetime from
    the same CA, then the rotation job."""
    _check_members(instance)
    current = current_issued(instance)
    if current is None:
        raise ValidationError({"instance": f"{instance.name} does not serve a certificate issued by a managed CA: "
                                           "issue one from a CA and rotate to it"})
    days = max(1, round((current.not_after - current.not_before).total_seconds() / 86400))
    days = min(days, max(current.ca.days_left, 1))
    issued = ca_services.issue_certificate(current.ca, actor=actor, hostname=current.hostname,
                                           sans=[*current.dns_names, *current.ip_addresses], days=days,
                                           key_type=current.key_type)
    return start_rotation(actor=actor, instance=instance, issued=issued, renewal_of=current)


def record_install_certificate(install: Install, issued: IssuedCertificate) -> None:
    """The install keeps the certificate it now serves (a later re-run of its config step writes this one)."""
    install.tls_certificate = issued.chain_pem()
    install.tls_private_key = issued.private_key
    install.save(update_fields=["tls_certificate", "tls_private_key"])
