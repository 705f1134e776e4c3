"""The replication topology: instances as nodes, policies as arrows coloured by health (server-side SVG,
drawn by templates/replication/htmx/topology_svg.html; the same graph as JSON in the API).

Layout is deterministic: fleet instances on a circle in name order (the first at the top, clockwise),
registries that are no fleet instance ("external") after them. An arrow goes the way the data flows
(push: from the policy's instance to its remote; pull: from the remote to the policy's instance). Arrows
between the same two nodes are curves bent to alternating sides by lane, always measured against the
node pair's own order, so the two directions of a two-way pair (and several policies one way) never
cover each other.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from harborops.fleet.models import Instance
from harborops.replication.models import Policy

WIDTH, HEIGHT = 760, 560
NODE_R = 24
LANE = 26  # px of bend per lane
LABELS_UP_TO = 14  # edge labels drawn when there are at most this many arrows (tooltips always)

HEALTH_STROKE = {"stuck": "#8e24aa", "failing": "#d93025", "lagging": "#e37400", "healthy": "#188038",
                 "never_run": "#80868b", "disabled": "#9aa0a6"}
LEGEND = (("healthy", "Healthy"), ("lagging", "Lagging"), ("failing", "Failing"), ("stuck", "Stuck"),
          ("never_run", "Never run"), ("disabled", "Disabled"))


@dataclass
class Node:
    key: str  # "instance:<pk>" or "external:<url>"
    name: str
    kind: str  # instance | external
    x: float
    y: float
    link: str
    instance_id: int | None = None
    label_y: float = 0.0
    label_anchor: str = "middle"
    label_x: float = 0.0


@dataclass
class Edge:
    policy_id: int
    name: str
    source: str  # node key the data comes from
    target: str  # node key it goes to
    health: str
    color: str
    direction: str
    trigger: str
    enabled: bool
    link: str
    source_name: str = ""
    target_name: str = ""
    path: str = ""
    label_x: float = 0.0
    label_y: float = 0.0
    title: str = ""


@dataclass
class Graph:
    width: int
    height: int
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    show_labels: bool = True
    legend: list[tuple[str, str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"width": self.width, "height": self.height,
                "nodes": [{k: getattr(n, k) for k in JSON_NODE} for n in self.nodes],
                "edges": [{k: getattr(e, k) for k in JSON_EDGE} for e in self.edges]}

    def edges_svg(self) -> SafeString:
        """The arrows' SVG markup. Written here, not in the template: at a thousand nodes the template
        engine spent ~0.1 ms per node and arrow on variable lookups (issue 15: 140 of the SVG's 230 ms)."""
        return mark_safe("".join(_edge_svg(e, self.show_labels) for e in self.edges))  # noqa: S308 (escaped)

    def nodes_svg(self) -> SafeString:
        return mark_safe("".join(_node_svg(n, i) for i, n in enumerate(self.nodes, start=1)))  # noqa: S308


# What a node and an arrow read: an instance's other columns are never drawn (its password would be
# decrypted for each of them when loaded).
NODE_FIELDS = ("pk", "name", "url")  # in this order
EDGE_FIELDS = ("pk", "instance", "name", "remote_url", "direction", "health", "health_reason", "trigger_type",
               "enabled")
JSON_NODE = ("key", "name", "kind", "x", "y", "link", "instance_id")
JSON_EDGE = ("policy_id", "name", "source", "target", "source_name", "target_name", "health", "color", "direction",
             "trigger", "enabled", "link")


def _edge_svg(e: Edge, show_labels: bool) -> str:
    link, path = escape(e.link), escape(e.path)
    width = "3" if e.health in ("stuck", "failing") else "2.2"
    dash = "" if e.enabled else ' stroke-dasharray="6 4"'
    label = (f'<text x="{e.label_x}" y="{e.label_y}" font-size="11" text-anchor="middle" fill="{escape(e.color)}" '
             f'stroke="#ffffff" stroke-width="3" paint-order="stroke">{escape(_truncated(e.name, 28))}</text>'
             if show_labels else "")
    return (f'\n  <a class="edge" href="{link}" xlink:href="{link}" data-policy="{e.policy_id}" '
            f'data-health="{escape(e.health)}" data-source="{escape(e.source)}" data-target="{escape(e.target)}">\n'
            f"    <title>{escape(e.title)}</title>\n"
            f'    <path d="{path}" fill="none" stroke="{escape(e.color)}" stroke-width="{width}"{dash} '
            f'marker-end="url(#topo-arrow-{escape(e.health)})"/>\n'
            f'    <path d="{path}" fill="none" stroke="transparent" stroke-width="12"/>\n'
            f"    {label}\n  </a>")


def _truncated(text: str, length: int) -> str:
    """The template filter truncatechars (Truncator), called only for what is too long: most names are not."""
    return Truncator(text).chars(length) if len(text) > length else text


def _node_svg(n: Node, number: int) -> str:
    external = n.kind == "external"
    link = escape(n.link)
    opening, closing = (f'<a href="{link}" xlink:href="{link}">', "</a>") if n.link else ("", "")
    fill, stroke = ("#f1f3f4", "#80868b") if external else ("#e8f0fe", "#1a73e8")
    dash = ' stroke-dasharray="4 3"' if external else ""
    title = f"{escape(n.name)} (registry outside the fleet)" if external else escape(n.name)
    return (f'\n  <g class="node node-{escape(n.kind)}" data-node="{escape(n.key)}">{opening}\n'
            f"    <title>{title}</title>\n"
            f'    <circle cx="{n.x}" cy="{n.y}" r="{NODE_R}" fill="{fill}" stroke="{stroke}" stroke-width="2"{dash}/>\n'
            f'    <text x="{n.x}" y="{n.y}" dy="4" font-size="11" text-anchor="middle" fill="#202124">'
            f"{'ext' if external else number}</text>\n"
            f'    <text class="node-label" x="{n.label_x}" y="{n.label_y}" font-size="13" '
            f'text-anchor="{escape(n.label_anchor)}" fill="#202124">{escape(_truncated(n.name, 32))}</text>\n'
            f"  {closing}</g>")


def _norm(url: str) -> str:
    return url.strip().rstrip("/").lower()


def _size(count: int) -> tuple[int, int, float]:
    """Canvas and circle radius: the default canvas up to ~14 nodes; beyond, the circle grows so that
    neighbours stay more than three node radii apart (labels included)."""
    r = max(min(WIDTH, HEIGHT) / 2 - 70, 3.4 * NODE_R * count / (2 * math.pi))
    return max(WIDTH, int(2 * r + 240)), max(HEIGHT, int(2 * r + 140)), r


def _positions(count: int, width: int, height: int, r: float) -> list[tuple[float, float]]:
    cx, cy = width / 2, height / 2
    if count == 1:
        return [(cx, cy)]
    return [(round(cx + r * math.sin(2 * math.pi * i / count), 1), round(cy - r * math.cos(2 * math.pi * i / count), 1))
            for i in range(count)]


def build(instances: Iterable[Instance] | None = None, policies: Iterable[Policy] | None = None) -> Graph:
    """The graph of the given (default: all) instances and the collected policies between them."""
    # (pk, name, url) of each node: a thousand model instances cost more than the rest of the graph
    rows = (Instance.objects.values_list(*NODE_FIELDS) if instances is None
            else [(i.pk, i.name, i.url) for i in instances])
    insts = sorted(rows, key=lambda i: (i[1], i[0]))
    if policies is None:
        policies = Policy.objects.only(*EDGE_FIELDS).order_by()  # sorted below; owners' names from `insts`
        if instances is not None:
            policies = policies.filter(instance__in=[pk for pk, _name, _url in insts])
    pols = list(policies)
    owners = {pk: name for pk, name, _url in insts}

    def owner(p: Policy) -> str:
        return owners.get(p.instance_id) or p.instance.name

    by_url = {_norm(url): pk for pk, _name, url in insts}
    externals = sorted({_norm(p.remote_url) for p in pols if p.remote_url and _norm(p.remote_url) not in by_url})
    keys = [f"instance:{pk}" for pk, _name, _url in insts] + [f"external:{u}" for u in externals]
    width, height, radius = _size(len(keys))
    pos = dict(zip(keys, _positions(len(keys), width, height, radius), strict=True))
    g = Graph(width, height, legend=[(h, label, HEALTH_STROKE[h]) for h, label in LEGEND])
    listing = reverse("replication:policy_list")
    for pk, name, _url in insts:
        k = f"instance:{pk}"
        g.nodes.append(Node(k, name, "instance", *pos[k], link=f"{listing}?instance={pk}", instance_id=pk))
    for u in externals:
        k = f"external:{u}"
        g.nodes.append(Node(k, u.split("://", 1)[-1], "external", *pos[k], link=""))
    for n in g.nodes:
        _place_label(n, width / 2, height / 2)
    for p in sorted(pols, key=lambda p: (owner(p), p.name, p.pk)):
        here = f"instance:{p.instance_id}"
        remote = _norm(p.remote_url)
        there = f"instance:{by_url[remote]}" if remote in by_url else f"external:{remote}" if p.remote_url else here
        src, dst = (there, here) if p.direction == "pull" else (here, there)
        g.edges.append(Edge(p.pk, p.name, src, dst, p.health, HEALTH_STROKE.get(p.health, "#80868b"), p.direction,
                            p.trigger_type, p.enabled, reverse("replication:policy_detail", args=[p.pk]),
                            title=f"{owner(p)}: {p.name} ({p.direction}, {p.trigger_type}) — "
                                  f"{p.get_health_display()}" + (f": {p.health_reason}" if p.health_reason else "")))
    names = {n.key: n.name for n in g.nodes}
    for e in g.edges:
        e.source_name, e.target_name = names[e.source], names[e.target]
    _route(g, pos)
    g.show_labels = len(g.edges) <= LABELS_UP_TO
    return g


def _place_label(n: Node, cx: float, cy: float) -> None:
    """Name outside the circle, away from the centre, so arrows in the middle stay clear."""
    dx, dy = n.x - cx, n.y - cy
    if abs(dx) < 1 and abs(dy) < 1:
        n.label_x, n.label_y = n.x, n.y + NODE_R + 16
        return
    d = math.hypot(dx, dy)
    n.label_x, n.label_y = round(n.x + dx / d * (NODE_R + 12), 1), round(n.y + dy / d * (NODE_R + 12) + 4, 1)
    n.label_anchor = "start" if dx > 20 else "end" if dx < -20 else "middle"
    if n.label_anchor == "middle":
        n.label_y = round(n.y + (NODE_R + 16 if dy > 0 else -(NODE_R + 6)), 1)


def _route(g: Graph, pos: dict[str, tuple[float, float]]) -> None:
    lanes: dict[tuple[str, str], int] = defaultdict(int)
    for e in g.edges:
        if e.source == e.target:  # a policy to its own instance: a small loop above the node
            x, y = pos[e.source]
            lane = lanes[(e.source, e.source)] = lanes[(e.source, e.source)] + 1
            h = NODE_R + 18 * lane
            e.path = (f"M {x - 10:.1f} {y - NODE_R + 2:.1f} C {x - 30:.1f} {y - h - 20:.1f} "
                      f"{x + 30:.1f} {y - h - 20:.1f} {x + 10:.1f} {y - NODE_R + 2:.1f}")
            e.label_x, e.label_y = x, y - h - 10
            continue
        a, b = sorted((e.source, e.target))
        lanes[(a, b)] += 1
        n = lanes[(a, b)]
        # lanes 1, 2, 3, ... bend +1, -1, +2, -2 ... against the pair's order (a -> b); so a->b and b->a of a
        # two-way pair get opposite sides, and more policies fan out
        side = (n + 1) // 2 * (1 if n % 2 else -1)
        (ax, ay), (bx, by) = pos[a], pos[b]
        length = math.hypot(bx - ax, by - ay) or 1.0
        nx, ny = -(by - ay) / length, (bx - ax) / length  # normal of a->b
        mx, my = (ax + bx) / 2 + nx * LANE * side * 2, (ay + by) / 2 + ny * LANE * side * 2  # control point
        (sx, sy), (tx, ty) = pos[e.source], pos[e.target]
        s = _toward(sx, sy, mx, my, NODE_R + 2)
        t = _toward(tx, ty, mx, my, NODE_R + 6)
        e.path = f"M {s[0]:.1f} {s[1]:.1f} Q {mx:.1f} {my:.1f} {t[0]:.1f} {t[1]:.1f}"
        # the curve's midpoint (t = 0.5 of the quadratic)
        e.label_x = round(0.25 * s[0] + 0.5 * mx + 0.25 * t[0], 1)
        e.label_y = round(0.25 * s[1] + 0.5 * my + 0.25 * t[1], 1)


def _toward(x: float, y: float, tx: float, ty: float, dist: float) -> tuple[float, float]:
    d = math.hypot(tx - x, ty - y) or 1.0
    return x + (tx - x) / d * dist, y + (ty - y) / d * dist
