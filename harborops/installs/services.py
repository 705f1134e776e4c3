"""Install jobs: create (audited, passwords generated and encrypted), start, retry from a step."""

from __future__ import annotations

import secrets
import string
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import now

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.jobs import start_job
from harborops.core.models import JobRun
from harborops.installs.models import STEPS, Install, Installer, InstallTarget
from harborops.ssh.models import SSHHost
from harborops.ssh.uses import HostUse

JOB_KIND = "installs.run"


def generate_password(length: int = 24) -> str:
    """Harbor wants upper, lower and digits in the admin password; no shell or YAML specials needed."""
    alphabet = string.ascii_letters + string.digits
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value):
            return value


def audit_view(install: Install) -> dict[str, Any]:
    return {"name": install.name, "installer": install.installer.filename, "install_dir": install.install_dir,
            "http_port": install.http_port, "https_enabled": install.https_enabled,
            "https_port": install.https_port, "data_volume": install.data_volume, "with_trivy": install.with_trivy,
            "hosts": [f"{t.host.name} ({t.hostname})" for t in install.targets.select_related("host")],
            "tls_private_key": "set" if install.tls_private_key else "none",
            "admin_password_state": "generated" if install.admin_password else "none"}


def create_install(*, actor: Actor, name: str, installer: Installer, hosts: list[tuple[SSHHost, str]],
                   install_dir: str = "/opt/harbor-installer", http_port: int = 80, https_enabled: bool = False,
                   https_port: int = 443, tls_certificate: str = "", tls_private_key: str = "", ca_bundle: str = "",
                   data_volume: str = "/data", with_trivy: bool = False, admin_password: str = "") -> Install:
    """``hosts``: (SSH host, harbor.yml hostname) pairs; two make an HA pair installed by one job."""
    if not hosts:
        raise ValidationError({"hosts": "choose at least one host"})
    if https_enabled and not (tls_certificate.strip() and tls_private_key.strip()):
        raise ValidationError({"tls_certificate": "https needs a certificate and its private key"})
    for label, path in (("install_dir", install_dir), ("data_volume", data_volume)):
        if not path.startswith("/") or "\n" in path:
            raise ValidationError({label: "an absolute path on the host"})
    install = Install(name=name, installer=installer, install_dir=install_dir.rstrip("/") or "/", http_port=http_port,
                      https_enabled=https_enabled, https_port=https_port, tls_certificate=tls_certificate,
                      tls_private_key=tls_private_key, ca_bundle=ca_bundle, data_volume=data_volume,
                      with_trivy=with_trivy, admin_password=admin_password or generate_password(),
                      db_password=generate_password(), created_by=actor.name)
    install.full_clean()
    with transaction.atomic():
        install.save()
        for position, (host, hostname) in enumerate(hosts):
            if not host.host_key:
                raise ValidationError({"hosts": f"{host.name}: accept its host key first"})
            InstallTarget.objects.create(install=install, host=host, hostname=hostname.strip(), position=position)
        record(actor=actor, action="installs.install.create", obj=install, before=None, after=audit_view(install))
    return install


def start_install(install: Install, *, actor: Actor, from_step: str = "") -> JobRun:
    """Start (or re-run) the install job. Steps already done are skipped, so a re-run after a
    failure continues at the failed step; ``from_step`` re-runs that step and every later one."""
    if install.last_job_id and install.last_job and not install.last_job.is_finished:
        raise ValidationError({"install": f"job #{install.last_job_id} of this install is still running"})
    if from_step and from_step not in STEPS:
        raise ValidationError({"from_step": f"unknown step {from_step!r}"})
    with transaction.atomic():
        if from_step:
            later = STEPS[STEPS.index(from_step):]
            for target in install.targets.all():
                target.steps = {k: v for k, v in target.steps.items() if k not in later}
                target.save(update_fields=["steps"])
        job = start_job(JOB_KIND, actor=actor, target=install, params={"install": install.pk, "from_step": from_step})
        Install.objects.filter(pk=install.pk).update(last_job=job, status=Install.Status.RUNNING)
        install.last_job, install.status = job, Install.Status.RUNNING
        record(actor=actor, action="installs.install.start", obj=install, before=None,
               after={"job": job.pk, "from_step": from_step or None,
                      "hosts": [t.host.name for t in install.targets.select_related("host")]})
    return job


def mark_step(target: InstallTarget, step: str, status: str, detail: str = "") -> None:
    target.steps = {**target.steps, step: {"status": status, "at": now().isoformat(), "detail": detail[:2000]}}
    InstallTarget.objects.filter(pk=target.pk).update(steps=target.steps)


def delete_install(install: Install, *, actor: Actor) -> None:
    if install.last_job is not None and not install.last_job.is_finished:
        raise ValidationError({"install": "a running install cannot be deleted"})
    with transaction.atomic():
        record(actor=actor, action="installs.install.delete", obj=install, before=audit_view(install), after=None)
        install.delete()


def host_use(host: SSHHost) -> HostUse | None:
    """For the SSH layer (registered in InstallsConfig.ready()): the installs a host is a target of."""
    names = sorted({t.install.name for t in InstallTarget.objects.filter(host=host).select_related("install")})
    return HostUse("a target of the install(s)", tuple(names)) if names else None
