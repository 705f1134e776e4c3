"""Instances harborops manages over SSH (an install target of a finished install): which hosts
serve an instance, and the file operations a rotation needs on them.

Every value reaching the remote shell goes through the SSH layer's quoting; file contents go
through stdin (never a command line), so a private key is never in a command, a process list or
a log. Commands run under sudo when the SSH host says so.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
from dataclasses import dataclass, field
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from harborops.fleet.models import Instance
from harborops.installs.models import Install, InstallTarget
from harborops.ssh import client
from harborops.ssh.client import command, script

# What a list of targets never shows: secrets (decrypted for each row loaded, core/fields.py) and large columns.
LISTING_DEFERRED = ("instance__password", "instance__ca_bundle", "instance__notes", "instance__statistics",
                    "install__tls_private_key", "install__admin_password", "install__db_password",
                    "host__private_key", "host__key_passphrase")
INTERNAL_TLS_DEFAULT_DIR = "/etc/harbor/tls/internal"  # make/harbor.yml.tmpl internal_tls.dir


def managed_targets(*, listing: bool = False) -> list[InstallTarget]:
    """Every host of every finished install (what the file observation and rotation work on). ``listing``: for
    a page, without the secret columns (each is decrypted on load: five per target) nor the large ones."""
    qs = InstallTarget.objects.filter(install__status=Install.Status.SUCCEEDED).select_related(
        "install", "host", "instance__ha_group")
    return list((qs.defer(*LISTING_DEFERRED) if listing else qs).order_by("install__name", "position", "pk"))


def members(instance: Instance) -> list[InstallTarget]:
    """The managed hosts serving ``instance``, in rotation order: with an HA group, every member of
    the group that harborops installed (group order: instance name); else the instance's own host(s)."""
    qs = InstallTarget.objects.filter(install__status=Install.Status.SUCCEEDED).select_related(
        "install", "host", "instance")
    if instance.ha_group_id is not None:
        qs = qs.filter(instance__ha_group_id=instance.ha_group_id)
    else:
        qs = qs.filter(instance=instance)
    return list(qs.order_by("instance__name", "position", "pk"))


def managed_instance_ids() -> set[int]:
    return set(InstallTarget.objects.filter(install__status=Install.Status.SUCCEEDED)
               .exclude(instance=None).values_list("instance_id", flat=True))


def cat(ssh: client.Connection, path: str) -> str | None:
    """A remote file's text (through sudo when the host uses it); None when it does not exist."""
    result = ssh.run(script("if [ -f {} ]; then cat -- {}; else echo __harborops_missing__ >&2; exit 3; fi",
                            path, path), timeout=30)
    if result.exit_status == 3 and "__harborops_missing__" in result.stderr:
        return None
    if not result.ok:
        raise client.SSHError(f"cannot read {path}: {result.stderr.strip() or f'exit {result.exit_status}'}")
    return result.stdout + "\n"


_WRITE = "umask {umask} && cat > {tmp} && chmod {mode} -- {tmp} && mv -f -- {tmp} {path}"


def write(ssh: client.Connection, path: str, text: str, *, mode: str) -> None:
    """Atomic write through stdin (the content never appears in a command)."""
    umask = "077" if mode == "0600" else "022"
    cmd = _WRITE.format(umask=umask, mode=mode, tmp=client.quote(f"{path}.harborops-tmp"), path=client.quote(path))
    result = ssh.stream(cmd, stdin=text.encode(), timeout=60)
    if not result.ok:
        raise client.SSHError(f"cannot write {path}: {result.stderr.strip() or f'exit {result.exit_status}'}")


@dataclass
class HarborConfig:
    """What a rotation needs from a host's harbor.yml."""

    path: str
    text: str
    certificate: str
    private_key: str
    https_port: int
    hostname: str
    data: dict[str, Any] = field(default_factory=dict)


def read_config(ssh: client.Connection, install: Install) -> HarborConfig:
    path = posixpath.join(install.harbor_dir, "harbor.yml")
    text = cat(ssh, path)
    if text is None:
        raise client.SSHError(f"{path} does not exist: is Harbor installed in {install.harbor_dir}?")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise client.SSHError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise client.SSHError(f"{path} is not a YAML mapping")
    https = data.get("https")
    if not isinstance(https, dict):
        return HarborConfig(path, text, "", "", 0, str(data.get("hostname") or ""), data)
    return HarborConfig(path, text, str(https.get("certificate") or ""), str(https.get("private_key") or ""),
                        int(https.get("port") or 443), str(data.get("hostname") or ""), data)


def repoint(text: str, certificate: str, private_key: str) -> str:
    """harbor.yml with ``https.certificate``/``private_key`` set, comments kept (ruamel round trip)."""
    ry = YAML()
    ry.preserve_quotes = True
    ry.width = 4096
    ry.indent(mapping=2, sequence=4, offset=2)
    data = ry.load(text)
    https = data.get("https") if isinstance(data, CommentedMap) else None
    if not isinstance(https, CommentedMap):
        raise ValueError("harbor.yml has no https section")
    https["certificate"] = certificate
    https["private_key"] = private_key
    out = io.StringIO()
    ry.dump(data, out)
    return out.getvalue()


@dataclass
class Backup:
    """Copies of the files a rotation changes; ``saved`` maps each original path to its copy, or to
    "" when the path did not exist before (restoring removes it)."""

    directory: str
    saved: dict[str, str] = field(default_factory=dict)


def backup(ssh: client.Connection, install: Install, paths: list[str]) -> Backup:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    directory = posixpath.join(install.install_dir.rstrip("/"), "cert", f"backup-{stamp}")
    made = ssh.run(script("umask 077 && mkdir -p -- {}", directory), timeout=30)
    if not made.ok:
        raise client.SSHError(f"cannot create {directory}: {made.stderr.strip()}")
    result = Backup(directory)
    for i, path in enumerate(dict.fromkeys(p for p in paths if p)):
        copy = posixpath.join(directory, f"{i}-{posixpath.basename(path)}")
        done = ssh.run(script("if [ -f {} ]; then cp -p -- {} {} && echo saved; fi", path, path, copy), timeout=30)
        if not done.ok:
            raise client.SSHError(f"cannot back up {path}: {done.stderr.strip()}")
        result.saved[path] = copy if "saved" in done.stdout.split() else ""
    return result


def restore(ssh: client.Connection, saved: Backup) -> None:
    for path, copy in saved.saved.items():
        cmd = command("cp", "-p", "--", copy, path) if copy else command("rm", "-f", "--", path)
        done = ssh.run(cmd, timeout=30)
        if not done.ok:
            raise client.SSHError(f"cannot restore {path}: {done.stderr.strip()}")


def public_key_of_key_file(ssh: client.Connection, path: str) -> str:
    """The public half of a private key file, computed on the host (the key itself never leaves it)."""
    result = ssh.run(command("openssl", "pkey", "-in", path, "-pubout"), timeout=30)
    if not result.ok or "BEGIN PUBLIC KEY" not in result.stdout:
        first = next((ln for ln in result.stderr.splitlines() if ln.strip()), f"exit {result.exit_status}")
        raise client.SSHError(f"cannot read the key in {path}: {first[:200]}")
    return result.stdout.strip()


def list_crt(ssh: client.Connection, directory: str) -> list[str]:
    result = ssh.run(script('for f in {}/*.crt; do [ -f "$f" ] && echo "$f"; done; true', directory), timeout=30)
    return [ln for ln in result.stdout.splitlines() if ln.strip()]
