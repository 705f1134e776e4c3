"""HA group checks (version skew; shared storage: /systeminfo/volumes, harbor.yml over real SSH, GC on one
member only) and the replication alert conditions, shown on the pages and in the API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils.timezone import now
from rest_framework.test import APIClient

from harborops.core import conditions as registry
from harborops.fleet.models import HAGroup, Instance
from harborops.installs.models import Install, Installer, InstallTarget
from harborops.maintenance.models import GCPolicy, InstanceGC
from harborops.replication import conditions, pairchecks
from harborops.replication.models import HAPair, Policy
from harborops.ssh.models import SSHHost
from tests.replication.conftest import SimFleet
from tests.support.sshd import SSHD, as_test_user

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(120)]


def _members(group: HAGroup, *versions: str) -> list[Instance]:
    return [Instance.objects.create(name=f"m{i}", url=f"https://127.0.0.{10 + i}", username="admin", password="x",
                                    version=v, ha_group=group) for i, v in enumerate(versions, start=1)]


@pytest.mark.parametrize(("versions", "severity", "title"), [
    (("v2.13.0-abc", "2.13.0"), "ok", "Same version"),
    (("2.13.0", "2.13.2"), "ok", "Same minor version"),
    (("2.8.4", "2.13.0"), "warning", "Different minor versions"),
    (("1.10.17", "2.13.0"), "critical", "Different major versions"),
    (("2.13.0", ""), "info", "Version unknown"),
])
def test_version_skew(versions: tuple[str, ...], severity: str, title: str) -> None:
    group = HAGroup.objects.create(name="g")
    check = pairchecks.version_skew(_members(group, *versions))
    assert (check.severity, check.title) == (severity, title)


def test_version_skew_names_the_policy_fields_only_one_side_has() -> None:
    group = HAGroup.objects.create(name="g")
    check = pairchecks.version_skew(_members(group, "2.8.0", "2.15.0"))
    assert "ReplicationPolicy.single_active_replication" in check.detail
    assert "Registry.ca_certificate" in check.detail and "Harbor replicates between them" in check.detail


def test_shared_storage_gc_on_both_members_is_flagged() -> None:
    group = HAGroup.objects.create(name="shared", mode=HAGroup.Mode.SHARED_STORAGE)
    a, b = _members(group, "2.13.0", "2.13.0")
    assert pairchecks.gc_check([a, b]).severity == "info"
    InstanceGC.objects.create(instance=a, schedule_type="Weekly", schedule_cron="0 0 0 * * 0")
    ok = pairchecks.gc_check([a, b])
    assert ok.severity == "ok" and "m1: Harbor schedule Weekly" in ok.detail
    GCPolicy.objects.create(name="nightly", cron="0 3 * * *", targets=GCPolicy.Targets.ALL)
    policy = pairchecks.gc_check([a, b])  # a harborops policy collects on the first member only
    assert policy.severity == "ok" and "m1: Harbor schedule Weekly" in policy.detail
    assert "harborops GC policy nightly" in policy.detail and "m2" not in policy.detail
    InstanceGC.objects.create(instance=b, schedule_type="Daily", schedule_cron="0 0 1 * * *")
    both = pairchecks.gc_check([a, b])
    assert both.severity == "warning" and "m2: Harbor schedule Daily" in both.detail
    GCPolicy.objects.update(enabled=False)
    InstanceGC.objects.filter(instance=b).update(schedule_type="None")
    assert pairchecks.gc_check([a, b]).severity == "ok"


def test_shared_storage_volumes_are_read_live(sims: SimFleet) -> None:
    group = HAGroup.objects.create(name="shared", mode=HAGroup.Mode.SHARED_STORAGE)
    a, b = sims.instance(1, ha_group=group), sims.instance(2, ha_group=group)
    sims.fleet[1].storage_total = sims.fleet[2].storage_total = 2 * 1024**4
    same = pairchecks.volumes_check([a, b])
    assert (same.severity, same.detail) == ("ok", "harbor-1 2048.0 GiB, harbor-2 2048.0 GiB")
    sims.fleet[2].storage_total = 500 * 1024**3  # b has its own disk: not shared
    diff = pairchecks.volumes_check([a, b])
    assert diff.severity == "critical" and "harbor-2 500.0 GiB" in diff.detail
    b.url = "http://127.0.0.1:9"  # the member's API does not answer: reported, not raised
    check = pairchecks.volumes_check([a, b])
    assert check.severity == "info" and check.title == "Storage total not read" and "harbor-2" in check.detail


HARBOR_YML = """hostname: {host}
http:
  port: 80
data_volume: {data}
{storage}
"""


def _installed(sshd: SSHD, inst: Instance, address: str, workdir: Path, storage: str, data: Path) -> None:
    harbor_dir = workdir / "installer" / "harbor"
    as_test_user("mkdir", "-p", str(harbor_dir), str(data))
    text = HARBOR_YML.format(host=address, data=data, storage=storage)
    as_test_user("sh", "-c", f"cat > {harbor_dir}/harbor.yml <<'EOF'\n{text}\nEOF")
    host = SSHHost.objects.create(name=f"h-{address}", address=address, port=sshd.port, username=sshd.user,
                                  private_key=sshd.private_key, host_key=sshd.host_public_key,
                                  host_key_accepted_by="pytest")
    installer, _ = Installer.objects.get_or_create(filename="harbor-offline-installer-v2.13.0.tgz", version="2.13.0")
    install = Install.objects.create(name=f"i-{inst.name}", installer=installer, install_dir=str(workdir / "installer"),
                                     data_volume=str(data), admin_password="x", db_password="y")
    InstallTarget.objects.create(install=install, host=host, hostname=address, instance=inst)


def test_storage_config_is_read_over_ssh_and_compared(sshd: SSHD) -> None:
    group = HAGroup.objects.create(name="shared", mode=HAGroup.Mode.SHARED_STORAGE)
    a, b = _members(group, "2.13.0", "2.13.0")
    home = Path(sshd.home)
    assert pairchecks.storage_config_check([a, b]).severity == "info"  # not installed by harborops
    shared = home / "nfs-data"
    _installed(sshd, a, "127.0.0.2", home / "a", "", shared)
    _installed(sshd, b, "127.0.0.3", home / "b", "", shared)
    check = pairchecks.storage_config_check([a, b])
    assert check.severity == "ok" and check.detail.count("filesystem on ") == 2, check.detail

    s3 = "storage_service:\n  s3:\n    bucket: {b}\n    region: eu-1\n    accesskey: AKIA-CANARY\n    secretkey: {s}"
    for inst, bucket, secret in ((a, "harbor-eu", "Sekret-One-1"), (b, "harbor-us", "Sekret-Two-2")):
        target = InstallTarget.objects.get(instance=inst)
        path = f"{target.install.harbor_dir}/harbor.yml"
        text = HARBOR_YML.format(host="x", data=shared, storage=s3.format(b=bucket, s=secret))
        as_test_user("sh", "-c", f"cat > {path} <<'EOF'\n{text}\nEOF")
    diff = pairchecks.storage_config_check([a, b])
    assert diff.severity == "critical" and "harbor-eu" in diff.detail and "harbor-us" in diff.detail
    assert not any(s in diff.detail for s in ("AKIA-CANARY", "Sekret-One-1", "Sekret-Two-2"))


def _policy(inst: Instance, name: str, health: str, **fields: Any) -> Policy:
    return Policy.objects.create(instance=inst, harbor_id=Policy.objects.count() + 1, name=name, direction="push",
                                 trigger_type=fields.pop("trigger_type", "scheduled"), health=health, **fields)


def test_conditions_are_registered_and_cover_policies_and_pairs(client: Client, vera: User) -> None:
    assert {"replication.policy_failing", "replication.execution_stuck", "replication.schedule_missed",
            "replication.lagging", "replication.pair_inconsistent", "replication.loop_risk",
            "replication.version_skew"} <= set(registry.titles())
    group = HAGroup.objects.create(name="eu", mode=HAGroup.Mode.TWO_WAY_REPLICATION)
    a, b = _members(group, "2.8.0", "2.13.0")
    _policy(a, "stuck-one", "stuck", stuck_count=1)
    failing = _policy(a, "failing-one", "failing", failure_rate_7d=0.25)
    _policy(a, "missed-one", "lagging", missed_runs=2, cron="0 0 * * * *")
    _policy(a, "slow-one", "lagging", last_success_at=now() - dt.timedelta(hours=30))
    _policy(a, "fine", "healthy")
    _policy(a, "off", "failing", enabled=False)
    _policy(a, "ab", "healthy", trigger_type="event_based", remote_url=b.url)
    _policy(b, "ba", "healthy", trigger_type="event_based", remote_url=a.url + "/", dest_namespace="mirror")
    HAPair.objects.create(group=group, projects=["library"], status=HAPair.Status.SET_UP, consistent=False,
                          missing_count=3, checked_at=now())
    found = {(o.condition, o.subject): o for o in registry.evaluate_all(now(), only=["replication"]).occurrences}
    keys = {k[0] for k in found}
    assert keys == set(conditions.TITLES)
    assert found[("replication.policy_failing", f"rpolicy:{failing.pk}")].severity == "critical"
    assert found[("replication.policy_failing", f"rpolicy:{failing.pk}")].link == f"/replication/policies/{failing.pk}/"
    assert "25%" in found[("replication.policy_failing", f"rpolicy:{failing.pk}")].summary
    assert not any("off" in o.summary for o in found.values())  # disabled policies do not alert
    assert found[("replication.loop_risk", f"hagroup:{group.pk}")].severity == "critical"  # renames: unbounded
    Policy.objects.filter(name="ba").update(dest_namespace="")  # same names: one bounce, Harbor skips it
    again = {(o.condition, o.subject): o for o in registry.evaluate_all(now(), only=["replication"]).occurrences}
    assert again[("replication.loop_risk", f"hagroup:{group.pk}")].severity == "info"
    Policy.objects.filter(name="ba").update(dest_namespace="mirror")
    assert found[("replication.version_skew", f"hagroup:{group.pk}")].instance_id == a.pk
    assert "3 artifact(s)" in found[("replication.pair_inconsistent", f"hagroup:{group.pk}")].summary

    client.force_login(vera)
    page = client.get("/replication/").content.decode()
    assert 'id="attention"' in page and "stuck-one: 1 execution(s) stuck" in page
    detail = client.get(f"/replication/pairs/{group.pk}/").content.decode()
    assert "different minor versions" in detail and "3 artifact(s) or tag(s) missing" in detail
    api = APIClient()
    api.force_authenticate(vera)
    body = api.get(f"/api/replication/pairs/{group.pk}/").json()
    assert body["mode"] == "two_way_replication"
    assert [c["key"] for c in body["checks"]] == ["version_skew"] and body["checks"][0]["severity"] == "warning"


def test_a_shared_storage_group_page_shows_its_checks(client: Client, vera: User) -> None:
    group = HAGroup.objects.create(name="shared", mode=HAGroup.Mode.SHARED_STORAGE)
    _members(group, "2.13.0", "2.13.0")
    client.force_login(vera)
    page = client.get(f"/replication/pairs/{group.pk}/").content.decode()
    assert "check-gc_single" in page and "Check storage now" in page and "pair-setup" not in page
    assert "not two-way" not in page
    listing = client.get("/replication/pairs/").content.decode()
    assert "Shared storage" in listing
    live = client.get(f"/replication/pairs/{group.pk}/?live=1").content.decode()
    assert "check-storage_volumes" in live and "check-storage_config" in live
