"""``manage.py fleet`` and ``manage.py demo``."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command

from harborops.audit.models import ActionLogEntry
from harborops.fleet import demo
from harborops.fleet.models import HAGroup, Instance
from harborops.harbor_sim import Fleet, SimServer
from tests.fleet.conftest import ADMIN_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@pytest.fixture
def served() -> Iterator[SimServer]:
    with SimServer(Fleet.create(2, ["2.10.0", "2.15.0"])) as server:
        yield server


def run(*args: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch | None = None) -> str:
    out = io.StringIO()
    if monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command("fleet", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_add_list_sweep_and_remove(served: SimServer, monkeypatch: pytest.MonkeyPatch):
    out = run("add", "eu-1", served.instance_url(1), "--username", "admin", "--password-stdin", "--label", "env=prod",
              stdin=ADMIN_PASSWORD + "\n", monkeypatch=monkeypatch)
    assert "connection works: Harbor v2.10.0" in out and "added eu-1" in out
    assert Instance.objects.get(name="eu-1").password == ADMIN_PASSWORD
    assert ActionLogEntry.objects.get(action="fleet.instance.create").actor_name == "manage.py fleet"
    with pytest.raises(CommandError, match=r"connection test failed \(auth\)"):
        run("add", "eu-2", served.instance_url(2), "--username", "admin", "--password-stdin",
            stdin="wrong\n", monkeypatch=monkeypatch)
    assert not Instance.objects.filter(name="eu-2").exists()
    with pytest.raises(CommandError, match="never as an argument"):
        run("add", "eu-2", served.instance_url(2), "--username", "admin", monkeypatch=monkeypatch)
    out = run("sweep")
    assert "eu-1" in out and "Up" in out and "1 instances swept (1 up)" in out
    listed = json.loads(run("list", "--json", "--label", "env=prod"))
    assert [(r["name"], r["status"], r["version"][:7]) for r in listed] == [("eu-1", "up", "v2.10.0")]
    assert ADMIN_PASSWORD not in run("list")
    with pytest.raises(CommandError, match="no such instance: nope"):
        run("remove", "eu-1", "nope")
    assert Instance.objects.filter(name="eu-1").exists()
    assert "removed eu-1" in run("remove", "eu-1")


def test_import_from_a_file_all_or_nothing(tmp_path, served: SimServer):
    good = tmp_path / "fleet.yaml"
    good.write_text(f"- {{name: a, url: '{served.instance_url(1)}', username: admin, password: {ADMIN_PASSWORD}}}\n"
                    f"- {{name: b, url: '{served.instance_url(2)}', username: admin, password: {ADMIN_PASSWORD}}}\n")
    assert "2 would be created" in run("import", str(good), "--dry-run") and not Instance.objects.exists()
    assert "2 created" in run("import", str(good))
    bad = tmp_path / "bad.csv"
    bad.write_text("name,url,username,password\nc,https://c.test,admin,pw\nd,nope,admin,pw\n")
    with pytest.raises(CommandError, match="1 row"):
        run("import", str(bad))
    assert sorted(Instance.objects.values_list("name", flat=True)) == ["a", "b"]


def test_the_demo_registers_a_mixed_fleet_that_sweeps_into_every_state():
    server = SimServer(demo.build(), port=0).start()
    try:
        from harborops.core.actor import Actor
        from harborops.fleet.services import sweep

        instances = demo.register(server, Actor.system("test"))
        demo.register(server, Actor.system("test"))  # idempotent
        assert Instance.objects.count() == len(demo.DEMO) >= 12
        sweep.sweep_ids([i.pk for i in instances], timeout=5.0)
        status = dict(Instance.objects.values_list("name", "status"))
        assert status["demo-edge-2"] == "down" and status["demo-us-staging"] == "degraded"
        assert status["demo-ap-prod"] == "up" and Instance.objects.get(name="demo-ap-prod").latency_ms >= 1500
        assert sum(1 for s in status.values() if s == "up") == len(demo.DEMO) - 2
        assert len(set(Instance.objects.values_list("version", flat=True))) >= 8
        group = HAGroup.objects.get(name=demo.HA_GROUP)
        assert sorted(group.instances.values_list("name", flat=True)) == ["demo-eu-prod-a", "demo-eu-prod-b"]
    finally:
        server.stop()
    out = io.StringIO()
    call_command("demo", "--remove", stdout=out)
    assert "removed 12 demo instances" in out.getvalue() and not Instance.objects.exists()


def test_the_demo_command_serves_registers_and_sweeps():
    out = io.StringIO()
    call_command("demo", "--port", "0", "--exit-after-setup", stdout=out)
    text = out.getvalue()
    assert "demo fleet: 12 simulated Harbors" in text and "first sweep: 12 instances swept" in text
    assert Instance.objects.filter(status="up").count() == 10
