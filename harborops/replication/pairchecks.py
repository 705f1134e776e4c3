"""Checks of an HA group's members beyond replication itself: version skew (both modes) and, for shared
storage, that both members point at the same storage and that only one runs GC.

What Harbor says about versions: its compatibility list names the `harbor` replication adapter (since 1.8)
with no version matrix, and the adapter adapts to the remote (src/pkg/reg/adapter/harbor/adaper.go
factory.Create @v2.3.0 .. @v2.15.0: a remote answering an API version gets the v2 client, otherwise the v1
client for 1.x). So Harbor replicates between any 2.x members. The rule applied here is stricter, because
the members of an HA group answer the same hostname behind one load balancer: clients must not see the API
change with the member that answers. Same minor version: ok (a patch difference is noted); another minor of
2.x: warning, naming the replication policy fields only one side has (harbor/capabilities.py); another
major: critical.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML

from harborops.fleet.models import HAGroup, Instance
from harborops.harbor import errors as harbor_errors
from harborops.harbor.capabilities import FEATURES, parse_version
from harborops.replication import hagroups
from harborops.replication.services import client_for

SECRET_KEYS = ("key", "secret", "password", "token", "credential")  # storage_service values never compared/shown


@dataclass
class PairCheck:
    key: str
    severity: str  # ok | info | warning | critical
    title: str
    detail: str = ""

    @property
    def color(self) -> str:
        return {"ok": "success", "info": "unknown", "warning": "warning", "critical": "failure"}[self.severity]


def version_skew(members: list[Instance]) -> PairCheck:
    known = {i.name: i.version for i in members if i.version}
    if len(known) < len(members):
        missing = ", ".join(i.name for i in members if not i.version)
        return PairCheck("version_skew", "info", "Version unknown", f"not swept yet: {missing}")
    try:
        parsed = {name: parse_version(v) for name, v in known.items()}
    except ValueError as exc:
        return PairCheck("version_skew", "info", "Version not understood", str(exc))
    majors = {v.triple[0] for v in parsed.values()}
    minors = {v.minor_key for v in parsed.values()}
    listing = ", ".join(f"{n} {known[n]}" for n in sorted(known))
    if len(majors) > 1:
        return PairCheck("version_skew", "critical", "Different major versions", listing)
    if len(minors) > 1:
        fields = sorted({f.what for f in FEATURES.values() if len({f.present(v) for v in parsed.values()}) > 1
                         and ("Replication" in f.what or "Registry" in f.what)})
        extra = f"; only some members have: {', '.join(fields)}" if fields else ""
        return PairCheck("version_skew", "warning", "Different minor versions",
                         f"{listing}. Harbor replicates between them, but one hostname answers with two APIs{extra}")
    if len({v.triple for v in parsed.values()}) > 1:
        return PairCheck("version_skew", "ok", "Same minor version", f"{listing} (patch levels differ)")
    return PairCheck("version_skew", "ok", "Same version", listing)


# --- shared storage ----------------------------------------------------------------------------------
def volumes_check(members: list[Instance]) -> PairCheck:
    """GET /systeminfo/volumes on each member now: shared storage shows the same total everywhere."""
    totals: dict[str, int] = {}
    errors = []
    for inst in members:
        try:
            with client_for(inst) as c:
                totals[inst.name] = sum(s.total for s in c.volumes().storage)
        except harbor_errors.HarborError as exc:
            errors.append(f"{inst.name}: {exc.message}")
    if errors:
        return PairCheck("storage_volumes", "info", "Storage total not read", "; ".join(errors))
    listing = ", ".join(f"{n} {_gib(t)}" for n, t in sorted(totals.items()))
    if len(set(totals.values())) > 1:
        return PairCheck("storage_volumes", "critical", "Different storage totals",
                         f"{listing}: the members do not see the same volume")
    return PairCheck("storage_volumes", "ok", "Same storage total", listing)


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def _install_target(inst: Instance) -> Any:
    from harborops.installs.models import InstallTarget

    return InstallTarget.objects.select_related("install", "host").filter(instance=inst).order_by("-pk").first()


def _storage_summary(text: str) -> dict[str, Any]:
    data = YAML(typ="safe").load(text) or {}
    service = data.get("storage_service") or {}
    kind = next((k for k in service if k not in ("ca_bundle", "redirect")), "filesystem") if service else "filesystem"
    settings = {k: v for k, v in (service.get(kind) or {}).items()
                if not any(s in str(k).lower() for s in SECRET_KEYS)} if isinstance(service.get(kind), dict) else {}
    return {"data_volume": str(data.get("data_volume") or ""), "storage": kind, "settings": settings}


def storage_config_check(members: list[Instance]) -> PairCheck:
    """harbor.yml of members installed by harborops, read over SSH: the same storage_service (type and
    non-secret settings); for filesystem storage the filesystem under data_volume (`df -P`) must be the
    same (an NFS export, say)."""
    seen: dict[str, dict[str, Any]] = {}
    skipped, errors = [], []
    for inst in members:
        target = _install_target(inst)
        if target is None:
            skipped.append(inst.name)
            continue
        try:
            with target.host.connect() as ssh:
                text = ssh.read_text(f"{target.install.harbor_dir}/harbor.yml")
                if text is None:
                    errors.append(f"{inst.name}: no harbor.yml in {target.install.harbor_dir}")
                    continue
                summary = _storage_summary(text)
                if summary["storage"] == "filesystem" and summary["data_volume"]:
                    res = ssh.run(f"df -P {shlex.quote(summary['data_volume'])}", timeout=30)
                    lines = res.stdout.strip().splitlines()
                    summary["filesystem"] = lines[-1].split()[0] if res.ok and len(lines) > 1 else "?"
                seen[inst.name] = summary
        except Exception as exc:  # SSH refused, host key, YAML: one member's problem is reported, not raised
            errors.append(f"{inst.name}: {type(exc).__name__}: {exc}")
    if errors:
        return PairCheck("storage_config", "warning", "Storage configuration not read", "; ".join(errors))
    if len(seen) < 2:
        return PairCheck("storage_config", "info", "Storage configuration not compared",
                         f"installed by harborops (read over SSH): {', '.join(sorted(seen)) or 'none'}; "
                         f"not: {', '.join(skipped)}")
    keys = {n: (s["storage"], sorted(s["settings"].items()), s.get("filesystem")) for n, s in seen.items()}
    listing = "; ".join(f"{n}: {s['storage']}" + (f" on {s['filesystem']} ({s['data_volume']})"
                                                  if s.get("filesystem") else f" {s['settings']}")
                        for n, s in sorted(seen.items()))
    if len(set(map(repr, keys.values()))) > 1:
        return PairCheck("storage_config", "critical", "Members use different storage", listing)
    return PairCheck("storage_config", "ok", "Same storage configuration", listing)


def gc_check(members: list[Instance], runs: dict[int, list[str]] | None = None) -> PairCheck:
    """With shared storage one member's GC collects for both: only one should run it. Counted: Harbor's
    own GC schedule on a member (as the maintenance check last read it) and harborops GC policies with a
    cron that collect on it (maintenance runs one member of a shared-storage group: `shared_storage_split`).
    ``runs``: what hagroups.gc_runs found (read here when not given)."""
    found = runs if runs is not None else hagroups.gc_runs(members)
    runs_by_name = {i.name: found.get(i.pk, []) for i in members}
    running = {n: r for n, r in runs_by_name.items() if r}
    listing = "; ".join(f"{n}: {', '.join(r)}" for n, r in sorted(running.items()))
    if len(running) > 1:
        return PairCheck("gc_single", "warning", "GC runs on more than one member", listing)
    if not running:
        return PairCheck("gc_single", "info", "No scheduled GC on any member", "")
    return PairCheck("gc_single", "ok", "GC runs on one member", listing)


def checks(group: HAGroup, *, live: bool = True, data: hagroups.GroupData | None = None) -> list[PairCheck]:
    """The checks of the group's mode. `live` reads Harbor (volumes) and SSH (harbor.yml); pages pass it
    only when asked (the "Check storage now" button), conditions never. ``data``: the groups read in bulk
    (hagroups.load), read here for this group when not given."""
    data = data if data is not None else hagroups.load([group])
    members = data.enabled_members(group)
    out = [version_skew(members)]
    if group.mode == HAGroup.Mode.SHARED_STORAGE:
        if live:
            out += [volumes_check(members), storage_config_check(members)]
        out.append(gc_check(members, data.gc_runs))
    return out
