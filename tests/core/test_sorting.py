"""List pages sort both ways by their column headers: ?sort=key ascending, ?sort=-key descending."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from harborops.audit.models import ActionLogEntry
from harborops.core.models import JobRun
from harborops.fleet.models import Instance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def rows(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)


@pytest.fixture
def vera_client(vera: User) -> Client:
    c = Client()
    c.force_login(vera)
    return c


def test_the_fleet_sorts_by_each_header_and_flips(vera_client: Client) -> None:
    for name, latency in (("bravo", 30), ("alpha", 90), ("charlie", 10)):
        Instance.objects.create(name=name, url=f"http://127.0.0.1:9/{name}", username="a", password="x",
                                latency_ms=latency)
    names = r'data-instance-name="([a-z]+)"|<a href="/fleet/\d+/">([a-z]+)</a>'

    def order(query: str) -> list[str]:
        html = vera_client.get(f"/fleet/?{query}").content.decode()
        return [a or b for a, b in rows(html, names) if (a or b) in ("alpha", "bravo", "charlie")][:3]

    assert order("") == ["alpha", "bravo", "charlie"]
    assert order("sort=-name") == ["charlie", "bravo", "alpha"]
    assert order("sort=latency") == ["charlie", "bravo", "alpha"]
    assert order("sort=-latency") == ["alpha", "bravo", "charlie"]
    assert order("sort=password") == ["alpha", "bravo", "charlie"]  # not an allowed key: the default
    html = vera_client.get("/fleet/?sort=name&status=unknown&page=2").content.decode()
    # the active header flips, others sort ascending; filters stay, the page number goes
    assert 'aria-sort="ascending" data-sort="name"><a class="sort active" href="?status=unknown&amp;sort=-name"' in html
    assert 'data-sort="latency"><a class="sort" href="?status=unknown&amp;sort=latency"' in html


def test_jobs_and_the_action_log_sort_both_ways(vera_client: Client) -> None:
    for kind in ("b.kind", "a.kind", "c.kind"):
        JobRun.objects.create(kind=kind)
    for action in ("m.two", "m.one", "m.three"):
        ActionLogEntry.objects.create(actor_name="x", action=action, object_type="t")

    def kinds(query: str) -> list[str]:
        html = vera_client.get(f"/jobs/?{query}").content.decode()
        return list(dict.fromkeys(rows(html[html.index("<tbody"):], r"([abc]\.kind)")))

    assert kinds("sort=kind") == ["a.kind", "b.kind", "c.kind"]
    assert kinds("sort=-kind") == ["c.kind", "b.kind", "a.kind"]
    assert kinds("") == ["c.kind", "a.kind", "b.kind"]  # newest first by default

    def actions(query: str) -> list[str]:
        html = vera_client.get(f"/audit/actions/?{query}").content.decode()
        return list(dict.fromkeys(rows(html[html.index("<tbody"):], r"(m\.(?:one|two|three))")))

    assert actions("sort=action")[:3] == ["m.one", "m.three", "m.two"]
    assert actions("sort=-action")[:3] == ["m.two", "m.three", "m.one"]


def test_ssh_hosts_and_team_mappings_sort_both_ways(vera_client: Client) -> None:
    from harborops.access.models import TeamMapping
    from harborops.ssh.models import SSHHost

    for name in ("host-b", "host-a", "host-c"):
        SSHHost.objects.create(name=name, address="127.0.0.1", username="x")
    for project in ("proj-b", "proj-c", "proj-a"):
        TeamMapping.objects.create(ldap_group_dn=f"cn={project},ou=groups,dc=example,dc=org", project_name=project)

    def order(url: str, pattern: str) -> list[str]:
        html = vera_client.get(url).content.decode()
        return list(dict.fromkeys(rows(html[html.index("<tbody"):], pattern)))

    assert order("/ssh/?sort=name", r"(host-[abc])") == ["host-a", "host-b", "host-c"]
    assert order("/ssh/?sort=-name", r"(host-[abc])") == ["host-c", "host-b", "host-a"]
    assert order("/access/?sort=project", r"(proj-[abc])") == ["proj-a", "proj-b", "proj-c"]
    assert order("/access/?sort=-project", r"(proj-[abc])") == ["proj-c", "proj-b", "proj-a"]
    assert 'data-sort="project"><a class="sort active" href="?sort=-project"' in vera_client.get(
        "/access/?sort=project").content.decode()
