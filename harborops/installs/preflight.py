"""Preflight: read the host for real (CPUs, memory, disk, Docker, Compose, OpenSSL, ports) and
judge each value pass / warn / fail. Thresholds come from HARBOROPS_INSTALL_THRESHOLDS (the
documented minimum : recommended, 2:4 CPUs, 4:8 GB, 40:160 GB) or the caller."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings

from harborops.ssh.client import Connection, command, script

Resolver = Callable[[str], list[str]]
PASS, WARN, FAIL = "pass", "warn", "fail"
GB = 1024**3
FORBIDDEN_HOSTNAMES = {"127.0.0.1", "reg.mydomain.com", "localhost"}


@dataclass(frozen=True)
class Thresholds:
    cpus: tuple[float, float] = (2, 4)
    memory_gb: tuple[float, float] = (4, 8)
    disk_gb: tuple[float, float] = (40, 160)

    @classmethod
    def parse(cls, text: str) -> Thresholds:
        """``cpus=2:4,memory_gb=4:8,disk_gb=40:160`` (minimum:recommended)."""
        values: dict[str, tuple[float, float]] = {}
        for item in text.split(","):
            if not item.strip():
                continue
            key, _, pair = item.partition("=")
            low, _, high = pair.partition(":")
            if key.strip() not in ("cpus", "memory_gb", "disk_gb"):
                raise ValueError(f"unknown threshold {key.strip()!r}")
            values[key.strip()] = (float(low), float(high or low))
        return cls(**values)

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls.parse(settings.INSTALL_THRESHOLDS)


@dataclass
class Check:
    name: str
    status: str
    value: str
    message: str


def system_resolver(hostname: str) -> list[str]:
    return sorted({str(i[4][0]) for i in socket.getaddrinfo(hostname, None, type=socket.SOCK_STREAM)})


def _grade(name: str, value: float, limits: tuple[float, float], unit: str) -> Check:
    low, high = limits
    shown = f"{value:g} {unit}".strip()
    if value < low:
        return Check(name, FAIL, shown, f"{shown} is below the minimum of {low:g} {unit}")
    if value < high:
        return Check(name, WARN, shown, f"{shown}: above the minimum {low:g}, below the recommended {high:g} {unit}")
    return Check(name, PASS, shown, f"{shown} (recommended {high:g} {unit})")


def _version(text: str) -> tuple[int, ...]:
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(g or 0) for g in match.groups()) if match else ()


def run_preflight(ssh: Connection, *, hostname: str, data_volume: str, ports: list[int],
                  thresholds: Thresholds | None = None, resolver: Resolver | None = None) -> list[Check]:
    limits = thresholds or Thresholds.from_settings()
    checks: list[Check] = []

    cpus = ssh.run("nproc")
    checks.append(_grade("cpus", float(cpus.stdout.strip()), limits.cpus, "CPUs") if cpus.ok and
                  cpus.stdout.strip().isdigit() else Check("cpus", FAIL, "", f"nproc failed: {cpus.stderr.strip()}"))

    mem = ssh.run("LC_ALL=C free -b")
    total = next((line.split()[1] for line in mem.stdout.splitlines() if line.startswith("Mem:")), "")
    checks.append(_grade("memory", round(int(total) / GB, 1), limits.memory_gb, "GB") if total.isdigit()
                  else Check("memory", FAIL, "", f"free failed: {mem.stderr.strip()}"))

    # The data volume may not exist yet: measure the nearest existing parent.
    disk = ssh.run(script('p={}; while [ ! -e "$p" ]; do p=$(dirname "$p"); done; LC_ALL=C df -Pk -- "$p"',
                          data_volume))
    rows = disk.stdout.splitlines()
    avail = rows[-1].split()[3] if disk.ok and len(rows) >= 2 and len(rows[-1].split()) >= 4 else ""
    checks.append(_grade("disk", round(int(avail) * 1024 / GB, 1), limits.disk_gb, "GB free")
                  if avail.isdigit() else Check("disk", FAIL, "", f"df failed: {disk.stderr.strip()}"))

    checks.append(_docker(ssh))
    checks.append(_compose(ssh))

    ssl = ssh.run(command("openssl", "version"))
    checks.append(Check("openssl", PASS, ssl.stdout.strip(), ssl.stdout.strip()) if ssl.ok
                  else Check("openssl", FAIL, "", "OpenSSL is not installed (needed for certificates)"))

    checks.append(_ports(ssh, ports))
    checks.append(_hostname(hostname, resolver or system_resolver))
    return checks


def _docker(ssh: Connection) -> Check:
    result = ssh.run(command("docker", "version", "--format", "{{.Server.Version}}"))
    err = (result.stderr or result.stdout).strip()
    if result.exit_status == 127 or "not found" in err:
        return Check("docker", FAIL, "", "Docker is not installed (need Docker Engine 20.10.10+)")
    if not result.ok:
        client = ssh.run(command("docker", "--version")).stdout.strip()
        return Check("docker", FAIL, client, f"the Docker daemon is not running or not reachable: {err}")
    version = result.stdout.strip()
    found = _version(version)
    if found >= (20, 10, 10):
        return Check("docker", PASS, version, f"Docker Engine {version}")
    if found >= (17, 6):
        return Check("docker", WARN, version, f"Docker Engine {version}: the docs ask for 20.10.10+")
    return Check("docker", FAIL, version, f"Docker Engine {version} is too old (install.sh rejects < 17.06)")


def _compose(ssh: Connection) -> Check:
    plugin = ssh.run(command("docker", "compose", "version", "--short"))
    if plugin.ok and plugin.stdout.strip():
        return Check("compose", PASS, plugin.stdout.strip(), f"docker compose plugin {plugin.stdout.strip()}")
    legacy = ssh.run(command("docker-compose", "--version"))
    if legacy.ok:
        found = _version(legacy.stdout)
        if found >= (1, 18, 0):
            return Check("compose", PASS, legacy.stdout.strip(), f"docker-compose {'.'.join(map(str, found))}")
        return Check("compose", FAIL, legacy.stdout.strip(), "docker-compose is older than 1.18.0")
    return Check("compose", FAIL, "", "neither the docker compose plugin nor docker-compose is installed")


def _ports(ssh: Connection, ports: list[int]) -> Check:
    listening = ssh.run("ss -Htln")
    if not listening.ok:
        return Check("ports", WARN, "", f"cannot list listening ports (ss): {listening.stderr.strip()}")
    used = set()
    for line in listening.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[3].rsplit(":", 1)[-1].isdigit():
            used.add(int(fields[3].rsplit(":", 1)[-1]))
    busy = sorted(p for p in ports if p in used)
    shown = ", ".join(map(str, ports))
    if busy:
        return Check("ports", FAIL, shown, f"already in use on the host: {', '.join(map(str, busy))}")
    return Check("ports", PASS, shown, f"free: {shown}")


def _hostname(hostname: str, resolver: Resolver) -> Check:
    if hostname.lower() in FORBIDDEN_HOSTNAMES:
        return Check("hostname", FAIL, hostname, f"Harbor refuses {hostname!r} as hostname")
    try:
        ipaddress.ip_address(hostname)
        return Check("hostname", PASS, hostname, "an IP address")
    except ValueError:
        pass
    try:
        addresses = resolver(hostname)
    except OSError as exc:
        return Check("hostname", FAIL, hostname, f"{hostname} does not resolve: {exc}")
    if not addresses:
        return Check("hostname", FAIL, hostname, f"{hostname} does not resolve")
    return Check("hostname", PASS, hostname, f"resolves to {', '.join(addresses)}")


def as_dicts(checks: list[Check]) -> list[dict[str, Any]]:
    return [asdict(c) for c in checks]
