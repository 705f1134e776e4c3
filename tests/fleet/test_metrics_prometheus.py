"""deploy/: the rules file and its unit tests under the real promtool, a real Prometheus scraping a live
harborops' /metrics with the bearer token (per-instance series through PromQL, the rules loaded and
evaluated), and the Grafana dashboard querying only metrics /metrics exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from django.test import Client
from django.utils.timezone import now

from harborops.core.models import PeriodicRun
from harborops.fleet.models import HealthSnapshot, Instance, SweepRun
from tests.support.processes import REPO, free_port, stop, wait_for

DEPLOY = REPO / "deploy"
RULES = DEPLOY / "prometheus" / "harborops-rules.yml"
DASHBOARD = DEPLOY / "grafana" / "harborops-dashboard.json"
TOKEN = "prom-scrape-token-123"


def tool(name: str) -> str:
    path = shutil.which(name) or f"/usr/bin/{name}"
    assert Path(path).exists(), f"{name} is missing: scripts/ensure-debs.sh prometheus (scripts/test.sh installs it)"
    return path


@pytest.mark.embedded
def test_promtool_checks_the_rules_and_their_unit_tests_pass():
    check = subprocess.run([tool("promtool"), "check", "rules", str(RULES)], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert re.search(r"SUCCESS: \d+ rules found", check.stdout)
    unit = subprocess.run([tool("promtool"), "test", "rules", "harborops-rules.test.yml"], cwd=RULES.parent,
                          capture_output=True, text=True, timeout=60)
    assert unit.returncode == 0 and "SUCCESS" in unit.stdout, unit.stdout + unit.stderr


@pytest.mark.embedded
def test_the_example_scrape_config_is_valid(tmp_path: Path):
    shutil.copy(RULES, tmp_path / RULES.name)
    (tmp_path / "token").write_text(TOKEN)
    config = (DEPLOY / "prometheus" / "prometheus.example.yml").read_text()
    assert "honor_labels: true" in config
    (tmp_path / "prometheus.yml").write_text(config.replace("/etc/prometheus/harborops-metrics-token",
                                                            str(tmp_path / "token")))
    check = subprocess.run([tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


def exported_names(text: str) -> set[str]:
    names = set(re.findall(r"^# TYPE (\w+) (\w+)", text, re.M))
    out = {n for n, _ in names}
    out |= {f"{n}_total" for n, kind in names if kind == "counter"}
    out |= {f"{n}_{s}" for n, kind in names if kind == "histogram" for s in ("bucket", "sum", "count")}
    return out


def queried_metrics(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', '""', expr)  # label values and legends out of the way
    words = set(re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=[{\[)\s=<>!*/+-]|$)", expr))
    return {w for w in words if w.startswith("harborops_")}


@pytest.mark.django_db
@pytest.mark.embedded
def test_grafana_dashboard_parses_and_queries_only_exported_metrics():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 30
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 20
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            exprs.append(re.sub(r"label_values\((\w+),.*", r"\1", var["definition"]))
    used = set().union(*map(queried_metrics, exprs))
    assert {"harborops_instance_up", "harborops_instance_probe_success", "harborops_instance_audit_ingest_lag_seconds",
            "harborops_instance_storage_used_bytes", "harborops_instance_jobservice_queue_length"} <= used
    exported = exported_names(Client().get("/metrics").content.decode())
    assert used - exported == set(), f"the dashboard queries metrics /metrics does not export: {used - exported}"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


@pytest.mark.embedded
def test_the_rules_only_use_exported_metrics(db):
    rules = RULES.read_text()
    used = set().union(*map(queried_metrics, re.findall(r"expr: (.+)", rules)))
    assert used - exported_names(Client().get("/metrics").content.decode()) == set()


@pytest.fixture
def prometheus(live_server, tmp_path: Path, settings) -> Iterator[str]:
    settings.METRICS_TOKEN = TOKEN
    target = urlparse(live_server.url)
    shutil.copy(RULES, tmp_path / RULES.name)
    (tmp_path / "token").write_text(TOKEN)
    (tmp_path / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 2s, scrape_timeout: 2s, evaluation_interval: 1s}}
rule_files: [{RULES.name}]
scrape_configs:
  - job_name: harborops
    honor_labels: true
    metrics_path: /metrics
    authorization: {{type: Bearer, credentials_file: {tmp_path / 'token'}}}
    static_configs: [{{targets: ["127.0.0.1:{target.port}"]}}]
""")
    port = free_port()
    proc = subprocess.Popen([tool("prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=(tmp_path / "prometheus.log").open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()[-3000:]
        try:
            return httpx.get(f"{base}/-/ready", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(ready, timeout=60, interval=0.2, what="Prometheus to be ready")
        yield base
    finally:
        stop(proc)
        print((tmp_path / "prometheus.log").read_text()[-3000:])


def query(base: str, promql: str) -> list[dict]:
    body = httpx.get(f"{base}/api/v1/query", params={"query": promql}, timeout=10).json()
    assert body["status"] == "success", body
    return body["data"]["result"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.embedded
def test_a_real_prometheus_scrapes_per_instance_series_with_the_token(prometheus: str, settings):
    settings.METRICS_INSTANCE_LABELS = ["team"]
    at = now()
    eu = Instance.objects.create(name="eu-1", url="http://sim/1", username="admin", password="x",
                                 status=Instance.Status.UP, labels={"team": "payments"}, version="v2.13.1-abc",
                                 latency_ms=120, storage_total=1000, storage_free=100, last_swept_at=at)
    HealthSnapshot.objects.create(instance=eu, taken_at=at, status="up",
                                  components=[{"name": "core", "status": "healthy"}],
                                  job_queues=[{"job_type": "REPLICATION", "count": 4, "latency": 2}])
    Instance.objects.create(name="us-1", url="http://sim/2", username="admin", password="x",
                            status=Instance.Status.DOWN, labels={"team": "web"}, last_swept_at=at)
    SweepRun.objects.create(started_at=at, finished_at=at)
    PeriodicRun.note("reaper", "0 re-queued")

    def scraped() -> list[dict]:
        found = query(prometheus, "harborops_instance_up")
        return found if len(found) == 2 else []

    try:
        series = wait_for(scraped, timeout=90, interval=0.5, what="Prometheus to scrape both instances")
    except AssertionError as exc:
        targets = httpx.get(f"{prometheus}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        raise AssertionError(f"{exc}; scrape errors: {[t.get('lastError') for t in targets]}") from None
    got = {(s["metric"]["instance"], s["metric"]["team"], s["metric"]["job"], s["value"][1]) for s in series}
    assert got == {("eu-1", "payments", "harborops", "1"), ("us-1", "web", "harborops", "0")}
    used = query(prometheus, 'harborops_instance_storage_used_bytes{instance="eu-1"}')
    assert [s["value"][1] for s in used] == ["900"]
    assert [s["metric"]["version"] for s in query(prometheus, "harborops_instance_info")] == ["v2.13.1"]
    assert [s["value"][1] for s in query(
        prometheus, 'harborops_instance_jobservice_queue_length{instance="eu-1", queue="REPLICATION"}')] == ["4"]
    assert query(prometheus, 'sum by (team) (harborops_instance_up == 0)')[0]["metric"] == {"team": "web"}

    # The shipped rules run on these series: the down instance's alert is pending (for: 1m), the storage one too.
    def alerts() -> set[tuple[str, str]]:
        found = httpx.get(f"{prometheus}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
        return {(a["labels"]["alertname"], a["labels"].get("instance", "")) for a in found}

    wait_for(lambda: {("HarborInstanceDown", "us-1"), ("HarborStorageHigh", "eu-1")} <= alerts(), timeout=90,
             interval=0.5, what="the shipped rules to evaluate")
    assert ("HarborInstanceDown", "eu-1") not in alerts()


@pytest.mark.django_db(transaction=True)
@pytest.mark.embedded
def test_prometheus_without_the_token_is_refused(live_server, settings):
    settings.METRICS_TOKEN = TOKEN
    assert httpx.get(f"{live_server.url}/metrics", timeout=10).status_code == 401
    ok = httpx.get(f"{live_server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert ok.status_code == 200 and "harborops_instance_up" in ok.text
