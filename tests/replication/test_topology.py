"""The topology picture: SVG parsed as XML (nodes, arrows, colours, links), the two directions of a pair
drawn apart, a deterministic layout that stays on the canvas for up to 20 instances, and the same graph as
JSON in the API."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harborops.fleet.models import Instance
from harborops.replication import topology
from harborops.replication.models import Policy

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"


def _instance(name: str, n: int) -> Instance:
    return Instance.objects.create(name=name, url=f"https://127.0.0.{n}:8443", username="admin", password="x")


def _policy(inst: Instance, name: str, remote_url: str, health: str, *, direction: str = "push",
            enabled: bool = True) -> Policy:
    return Policy.objects.create(instance=inst, harbor_id=Policy.objects.count() + 1, name=name, direction=direction,
                                 remote_url=remote_url, remote_name=remote_url, trigger_type="event_based",
                                 enabled=enabled, health=health)


@pytest.fixture
def fleet(db: None) -> dict[str, Policy]:
    central, eu_a, eu_b, ap = (_instance(n, i) for i, n in enumerate(("central", "eu-a", "eu-b", "ap"), start=2))
    return {
        "a-to-b": _policy(eu_a, "a-to-b", eu_b.url + "/", "healthy"),  # trailing slash: still eu-b
        "b-to-a": _policy(eu_b, "b-to-a", eu_a.url, "healthy"),
        "to-ap": _policy(central, "to-ap", ap.url, "failing"),
        "bulk": _policy(central, "bulk", eu_a.url, "stuck"),
        "from-hub": _policy(ap, "from-hub", "https://hub.example.org", "lagging", direction="pull"),
        "off": _policy(central, "off", eu_b.url, "disabled", enabled=False),
    }


def _control(path: str) -> tuple[float, float]:
    m = re.match(r"M [-\d.]+ [-\d.]+ Q ([-\d.]+) ([-\d.]+) ", path)
    assert m, path
    return float(m[1]), float(m[2])


def test_the_svg_draws_every_instance_and_policy_coloured_and_linked(
        fleet: dict[str, Policy], client: Client, vera: User) -> None:
    client.force_login(vera)
    r = client.get("/replication/topology.svg")
    assert r["Content-Type"].startswith("image/svg+xml")
    svg = ET.fromstring(r.content)  # noqa: S314 (our own server's answer)
    nodes = {g.get("data-node"): g for g in svg.iter(f"{SVG}g") if g.get("data-node")}
    names = {k: "".join(t.itertext()) for k, g in nodes.items() for t in g.iter(f"{SVG}text")
             if t.get("class") == "node-label"}
    assert sorted(names.values()) == ["ap", "central", "eu-a", "eu-b", "hub.example.org"]
    assert sum(k.startswith("external:") for k in nodes) == 1
    edges = {a.get("data-policy"): a for a in svg.iter(f"{SVG}a") if a.get("class") == "edge"}
    assert len(edges) == len(fleet)
    for name, policy in fleet.items():
        a = edges[str(policy.pk)]
        assert a.get(XLINK) == a.get("href") == f"/replication/policies/{policy.pk}/"
        stroke = a.find(f"{SVG}path")
        assert stroke is not None
        assert stroke.get("stroke") == topology.HEALTH_STROKE[policy.health], name
        assert stroke.get("marker-end") == f"url(#topo-arrow-{policy.health})"
        assert a.get("data-health") == policy.health
        assert (stroke.get("stroke-dasharray") is not None) == (not policy.enabled)
    key = {p: f"instance:{Instance.objects.get(name=p).pk}" for p in ("central", "eu-a", "eu-b", "ap")}
    # arrows go the way the data flows: push from the policy's instance, pull towards it
    assert (edges[str(fleet["to-ap"].pk)].get("data-source"), edges[str(fleet["to-ap"].pk)].get("data-target")) \
        == (key["central"], key["ap"])
    assert edges[str(fleet["from-hub"].pk)].get("data-target") == key["ap"]
    assert edges[str(fleet["from-hub"].pk)].get("data-source") == "external:https://hub.example.org"
    # every health colour has its arrow head, and the legend names them
    markers = {m.get("id") for m in svg.iter(f"{SVG}marker")}
    assert markers >= {f"topo-arrow-{h}" for h in topology.HEALTH_STROKE}
    legend = "".join(next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "legend").itertext())
    assert all(label in legend for _h, label in topology.LEGEND)
    # the node of an instance links to its policies
    link = next(nodes[key["central"]].iter(f"{SVG}a")).get("href")
    assert link == f"/replication/?instance={Instance.objects.get(name='central').pk}"


def test_the_two_directions_of_a_pair_bend_to_opposite_sides(fleet: dict[str, Policy]) -> None:
    g = topology.build()
    pos = {n.key: (n.x, n.y) for n in g.nodes}
    ab = next(e for e in g.edges if e.name == "a-to-b")
    ba = next(e for e in g.edges if e.name == "b-to-a")
    (x1, y1), (x2, y2) = pos[ab.source], pos[ab.target]

    def side(e: topology.Edge) -> float:  # sign of the control point against the line a -> b
        cx, cy = _control(e.path)
        return (x2 - x1) * (cy - y1) - (y2 - y1) * (cx - x1)

    assert side(ab) * side(ba) < 0
    assert ab.path != ba.path and (ab.label_x, ab.label_y) != (ba.label_x, ba.label_y)


def test_the_layout_is_deterministic_and_readable_up_to_twenty_instances(db: None) -> None:
    insts = [_instance(f"harbor-{i:02d}", 2 + i) for i in range(20)]
    for i, inst in enumerate(insts):  # a ring, both ways, plus a hub from the first
        _policy(inst, f"next-{i}", insts[(i + 1) % 20].url, "healthy")
        _policy(insts[(i + 1) % 20], f"back-{i}", inst.url, "lagging")
        _policy(insts[0], f"hub-{i}", inst.url, "failing") if i else None
    first, second = topology.build(), topology.build()
    assert first.as_json() == second.as_json() and [e.path for e in first.edges] == [e.path for e in second.edges]
    assert not first.show_labels  # 59 arrows: names only in the tooltips
    assert [n.name for n in first.nodes] == sorted(n.name for n in first.nodes)
    for n in first.nodes:
        assert topology.NODE_R <= n.x <= first.width - topology.NODE_R
        assert topology.NODE_R <= n.y <= first.height - topology.NODE_R
    closest = min(math.dist((a.x, a.y), (b.x, b.y)) for i, a in enumerate(first.nodes) for b in first.nodes[i + 1:])
    assert closest > 3 * topology.NODE_R  # circles and their labels do not touch
    for e in first.edges:
        for x, y in zip(*(iter(map(float, re.findall(r"-?\d+\.\d", e.path))),) * 2, strict=False):
            assert -40 <= x <= first.width + 40 and -40 <= y <= first.height + 40


def test_the_fleet_page_and_the_topology_page_show_the_picture(
        fleet: dict[str, Policy], client: Client, vera: User) -> None:
    client.force_login(vera)
    page = client.get("/replication/").content.decode()
    assert 'id="topology-card"' in page and "<svg" in page and 'data-policy="' in page
    full = client.get("/replication/topology/").content.decode()
    assert full.count('class="edge"') == len(fleet) and "eu-a" in full


def test_the_api_gives_the_same_graph(fleet: dict[str, Policy], vera: User) -> None:
    api = APIClient()
    api.force_authenticate(vera)
    body = api.get("/api/replication/topology/").json()
    assert body == topology.build().as_json()
    edge = next(e for e in body["edges"] if e["name"] == "to-ap")
    assert edge == {**edge, "health": "failing", "color": topology.HEALTH_STROKE["failing"], "source_name": "central",
                    "target_name": "ap", "link": f"/replication/policies/{fleet['to-ap'].pk}/"}
    assert {n["kind"] for n in body["nodes"]} == {"instance", "external"}


def test_it_requires_login(client: Client, charlie: User, db: None) -> None:
    assert client.get("/replication/topology.svg").status_code == 302
    client.force_login(charlie)
    assert client.get("/replication/topology.svg").status_code == 403
