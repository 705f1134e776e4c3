"""The steps of a Harbor install on one host. Each checks before it acts, so running it again
repeats no side effect it already had; the job records each step as it finishes.

1. preflight  – CPUs, memory, disk, Docker, Compose, OpenSSL, ports, hostname: pass/warn/fail.
2. installer  – upload over SFTP (skip/resume, SHA-256 verified on the host) or fetch on the host
                (curl, checksum verified); extract once.
3. config     – harbor.yml rendered from the bundle's harbor.yml.tmpl; written only when it changed;
                the certificate and key go next to it (0600).
4. prepare    – ./prepare [--with-trivy], streamed.
5. install    – ./install.sh [--with-trivy], streamed.
6. verify     – /api/v2.0/health says healthy for every component (the body, not the status code),
                and `docker compose ps` shows every container running and healthy.
7. register   – the new Harbor joins the fleet with its admin credentials.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from harborops.core.actor import Actor
from harborops.core.jobs import JobLog
from harborops.fleet.models import Instance
from harborops.harbor import errors as harbor_errors
from harborops.installs import harbor_yml, preflight
from harborops.installs.models import Install, Installer, InstallTarget
from harborops.ssh.client import Connection, SSHError, command, script

BASE_CONTAINERS = {"harbor-log", "registry", "registryctl", "harbor-db", "harbor-core", "harbor-portal",
                   "harbor-jobservice", "redis", "nginx"}


class StepFailed(Exception):
    pass


@dataclass
class Context:
    install: Install
    target: InstallTarget
    ssh: Connection
    log: JobLog
    actor: Actor
    resolver: preflight.Resolver | None = None
    thresholds: preflight.Thresholds | None = None

    @property
    def prefix(self) -> str:
        return f"[{self.target.host.name}]"

    def say(self, text: str) -> None:
        self.log.info(f"{self.prefix} {text}")

    def stream(self, cmd: str, *, timeout: float | None = None) -> int:
        def sink(stream: str, line: str) -> None:
            self.log.write(f"{self.prefix} {line}", stream)

        result = self.ssh.stream(cmd, sink, timeout=timeout or settings.INSTALL_COMMAND_TIMEOUT,
                                 cancelled=self._cancelled)
        return result.exit_status

    def _cancelled(self) -> bool:
        from harborops.core.models import JobRun

        return JobRun.objects.filter(pk=self.log.job.pk, cancel_requested=True).exists()


def _flags(install: Install) -> list[str]:
    return ["--with-trivy"] if install.with_trivy else []


def step_preflight(ctx: Context) -> str:
    install = ctx.install
    ports = [install.http_port] + ([install.https_port] if install.https_enabled else [])
    checks = preflight.run_preflight(ctx.ssh, hostname=ctx.target.hostname, data_volume=install.data_volume,
                                     ports=ports, thresholds=ctx.thresholds, resolver=ctx.resolver)
    InstallTarget.objects.filter(pk=ctx.target.pk).update(preflight=preflight.as_dicts(checks))
    for c in checks:
        line = f"{ctx.prefix} preflight {c.status.upper():4} {c.name}: {c.message}"
        (ctx.log.error if c.status == preflight.FAIL else ctx.log.warning if c.status == preflight.WARN
         else ctx.log.info)(line)
    failed = [c for c in checks if c.status == preflight.FAIL]
    if failed:
        raise StepFailed("preflight failed: " + "; ".join(f"{c.name}: {c.message}" for c in failed))
    warned = sum(c.status == preflight.WARN for c in checks)
    return f"{len(checks)} checks passed" + (f", {warned} with warnings" if warned else "")


def step_installer(ctx: Context) -> str:
    install, installer = ctx.install, ctx.install.installer
    ctx.ssh.makedirs(install.install_dir)
    remote = f"{install.install_dir.rstrip('/')}/{installer.filename}"
    if installer.source == Installer.Source.UPLOAD:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if time.monotonic() - last[0] >= 2 or done == total:
                last[0] = time.monotonic()
                ctx.say(f"uploaded {done // (1024 * 1024)} of {total // (1024 * 1024)} MiB")

        result = ctx.ssh.upload(Path(installer.path), remote, sha256=installer.sha256, progress=progress,
                                cancelled=ctx._cancelled)
        if result.skipped:
            ctx.say(f"{installer.filename} is already on the host (sha256 verified); 0 bytes sent")
        else:
            ctx.say(f"sent {result.sent} bytes" + (f" (resumed at {result.resumed_from})" if result.resumed_from
                                                   else "") + "; sha256 verified on the host")
        sent = result.sent
    else:
        sent = 0
        _fetch(ctx, installer, remote)
    marker = f"{install.harbor_dir}/.harborops-extracted"
    digest = installer.sha256 or installer.md5
    if (ctx.ssh.read_text(marker) or "").strip() == digest:
        ctx.say("already extracted")
    else:
        ctx.say(f"extracting {installer.filename}")
        if ctx.stream(command("tar", "-xzf", remote, "-C", install.install_dir)) != 0:
            raise StepFailed(f"tar could not extract {installer.filename}")
        ctx.ssh.write_text(marker, digest + "\n", mode=0o644)
    for name in ("install.sh", "prepare", "harbor.yml.tmpl"):
        if ctx.ssh.remote_size(f"{install.harbor_dir}/{name}") is None:
            raise StepFailed(f"the bundle has no harbor/{name}: not a Harbor installer")
    return f"installer ready ({sent} bytes sent)"


def _fetch(ctx: Context, installer: Installer, remote: str) -> None:
    algo, expected = ("sha256", installer.sha256) if installer.sha256 else ("md5", installer.md5)
    tool = f"{algo}sum"

    def matches(path: str) -> bool:
        result = ctx.ssh.run(command(tool, "--", path), timeout=600)
        return result.ok and result.stdout.split()[:1] == [expected]

    if ctx.ssh.remote_size(remote) is not None and matches(remote):
        ctx.say(f"{installer.filename} is already on the host ({algo} verified)")
        return
    ctx.say(f"fetching {installer.url} on the host")
    part = remote + ".part"
    if ctx.stream(command("curl", "-fsSL", "--retry", "3", "-C", "-", "-o", part, "--", installer.url)) != 0:
        raise StepFailed(f"the host could not fetch {installer.url}")
    if not matches(part):
        ctx.ssh.run(command("rm", "-f", "--", part))
        raise StepFailed(f"checksum mismatch for the fetched {installer.filename} (expected {algo} {expected})")
    ctx.ssh.run(command("mv", "-f", "--", part, remote))
    ctx.say(f"fetched; {algo} verified")


def step_config(ctx: Context) -> str:
    install = ctx.install
    hdir = install.harbor_dir
    template = ctx.ssh.read_text(f"{hdir}/harbor.yml.tmpl")
    if template is None:
        raise StepFailed(f"{hdir}/harbor.yml.tmpl is missing")
    cert_path = key_path = ""
    if install.https_enabled:
        cert_dir = f"{install.install_dir.rstrip('/')}/cert"
        ctx.ssh.makedirs(cert_dir)
        cert_path, key_path = f"{cert_dir}/server.crt", f"{cert_dir}/server.key"
        ctx.ssh.write_text(cert_path, install.tls_certificate, mode=0o644)
        ctx.ssh.write_text(key_path, install.tls_private_key, mode=0o600)
    values = harbor_yml.Values(
        hostname=ctx.target.hostname, http_port=install.http_port, https_enabled=install.https_enabled,
        https_port=install.https_port, certificate_path=cert_path, private_key_path=key_path,
        admin_password=install.admin_password, db_password=install.db_password, data_volume=install.data_volume)
    rendered = harbor_yml.render(template, values)
    secrets = [install.admin_password, install.db_password]
    diff = harbor_yml.diff(template, rendered, secrets)
    InstallTarget.objects.filter(pk=ctx.target.pk).update(config_diff=diff)
    current = ctx.ssh.read_text(f"{hdir}/harbor.yml")
    if current == rendered:
        return "harbor.yml unchanged"
    for line in diff.splitlines():
        ctx.log.info(f"{ctx.prefix} {line}")
    ctx.ssh.write_text(f"{hdir}/harbor.yml", rendered, mode=0o600)
    digest = hashlib.sha256(harbor_yml.redacted(rendered, secrets).encode()).hexdigest()[:12]
    return f"harbor.yml written ({digest})"


def step_prepare(ctx: Context) -> str:
    status = ctx.stream(script("cd {} && ./prepare", ctx.install.harbor_dir) + "".join(
        " " + f for f in _flags(ctx.install)))
    if status != 0:
        raise StepFailed(f"./prepare exited with {status}")
    return "prepare done"


def step_install(ctx: Context) -> str:
    status = ctx.stream(script("cd {} && ./install.sh", ctx.install.harbor_dir) + "".join(
        " " + f for f in _flags(ctx.install)))
    if status != 0:
        raise StepFailed(f"./install.sh exited with {status}")
    return "install.sh done"


def _probe_instance(ctx: Context) -> Instance:
    return Instance(url=ctx.target.url, username="admin", password=ctx.install.admin_password,
                    ca_bundle=ctx.install.ca_bundle)


def step_verify(ctx: Context) -> str:
    deadline = time.monotonic() + settings.INSTALL_VERIFY_TIMEOUT
    problem = ""
    while True:
        problem = _health_problem(ctx)
        if not problem:
            break
        if time.monotonic() > deadline:
            raise StepFailed(f"Harbor at {ctx.target.url} is not healthy after "
                             f"{settings.INSTALL_VERIFY_TIMEOUT}s: {problem}")
        ctx.log.check_cancelled()
        ctx.say(f"waiting: {problem}")
        time.sleep(2)
    ps = ctx.ssh.run(script("cd {} && docker compose ps --format json", ctx.install.harbor_dir), timeout=60)
    if not ps.ok:
        raise StepFailed(f"docker compose ps failed: {ps.stderr.strip()}")
    containers = _parse_ps(ps.stdout)
    expected = set(BASE_CONTAINERS) | ({"trivy-adapter"} if ctx.install.with_trivy else set())
    missing = sorted(expected - set(containers))
    unhealthy = sorted(n for n, (state, health) in containers.items()
                       if state != "running" or health not in ("", "healthy"))
    if missing or unhealthy:
        raise StepFailed("docker compose ps: " + "; ".join(
            ([f"missing {', '.join(missing)}"] if missing else []) +
            ([f"not healthy: {', '.join(unhealthy)}"] if unhealthy else [])))
    ctx.say(f"{len(containers)} containers running and healthy")
    return f"healthy at {ctx.target.url}"


def _health_problem(ctx: Context) -> str:
    try:
        with _probe_instance(ctx).client(timeout=10) as client:
            health = client.health()
    except harbor_errors.HarborError as exc:
        return f"no healthy answer yet ({exc})"
    bad = [f"{c.name}={c.status}" for c in health.components if c.status != "healthy"]
    if not health.healthy or bad:
        return f"health says {health.status or 'nothing'}" + (f" ({', '.join(bad)})" if bad else "")
    return ""


def _parse_ps(text: str) -> dict[str, tuple[str, str]]:
    text = text.strip()
    rows = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines() if line]
    return {str(r.get("Name", "")): (str(r.get("State", "")).lower(), str(r.get("Health", "")).lower())
            for r in rows}


def step_register(ctx: Context) -> str:
    from harborops.fleet.services import inventory

    target = ctx.target
    existing = Instance.objects.filter(url=target.url).first()
    if existing is not None:
        InstallTarget.objects.filter(pk=target.pk).update(instance=existing)
        return f"already in the fleet as {existing.name}"
    name = ctx.install.name if ctx.install.targets.count() == 1 else f"{ctx.install.name}-{target.host.name}"
    instance = inventory.create_instance(
        actor=ctx.actor, name=name, url=target.url, username="admin", password=ctx.install.admin_password,
        ca_bundle=ctx.install.ca_bundle, labels={"installed-by": "harborops", "ssh-host": target.host.name},
        notes=f"installed by harborops install #{ctx.install.pk} ({ctx.install.installer.filename})")
    InstallTarget.objects.filter(pk=target.pk).update(instance=instance)
    target.instance = instance
    return f"registered as {instance.name}"


STEP_FUNCTIONS: dict[str, Callable[[Context], str]] = {
    "preflight": step_preflight,
    "installer": step_installer,
    "config": step_config,
    "prepare": step_prepare,
    "install": step_install,
    "verify": step_verify,
    "register": step_register,
}

__all__ = ("STEP_FUNCTIONS", "Context", "SSHError", "StepFailed")
