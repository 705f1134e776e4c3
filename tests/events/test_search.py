"""The unified search: filters over both sources, keyset pagination across the UNION (ties
included), the activity chart data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from harborops.events.query import Cursor, EventFilter, activity, search
from tests.events.factories import actions, harbor_events, make_instance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def walk(f: EventFilter, limit: int) -> list[tuple[datetime, str, int]]:
    seen: list[tuple[datetime, str, int]] = []
    cursor = None
    for _ in range(10_000):
        page = search(f, cursor=cursor, limit=limit)
        seen.extend((r["ts"], r["src"], r["rid"]) for r in page.rows)
        if not page.next_cursor:
            return seen
        cursor = Cursor.decode(page.next_cursor)
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("limit", [1, 7, 50])
def test_keyset_pages_cover_both_sources_exactly_once_in_order(limit: int) -> None:
    a, b = make_instance("harbor-a"), make_instance("harbor-b")
    # Equal timestamps across instances and across sources: the tie-break (source, id) must hold.
    harbor_events(a, 40, start=T0, step=timedelta(seconds=2))
    harbor_events(b, 30, start=T0, step=timedelta(seconds=2), first_id=1)
    actions(25, start=T0, step=timedelta(seconds=4))
    seen = walk(EventFilter(), limit)
    assert len(seen) == len(set(seen)) == 95
    assert seen == sorted(seen, reverse=True)
    assert {s for _, s, _ in seen} == {"h", "a"}
    # At one instant, Harbor rows come before harborops rows, each newest id first.
    at_t0 = [(s, i) for t, s, i in seen if t == T0]
    assert [s for s, _ in at_t0] == ["h", "h", "a"]


def test_pagination_is_stable_while_new_events_arrive() -> None:
    a = make_instance("harbor-a")
    harbor_events(a, 30, start=T0)
    first = search(EventFilter(), limit=10)
    harbor_events(a, 5, start=T0 + timedelta(hours=1), first_id=100)  # newer rows arrive meanwhile
    second = search(EventFilter(), cursor=Cursor.decode(first.next_cursor or ""), limit=10)
    assert second.rows[0]["rid"] < first.rows[-1]["rid"]
    assert [r["ts"] for r in second.rows] == [T0 + timedelta(seconds=s) for s in range(19, 9, -1)]


def test_filters_apply_to_both_sources() -> None:
    prod, dev = make_instance("prod-1", env="prod"), make_instance("dev-1", env="dev")
    harbor_events(prod, 20, start=T0, project="payments", user="bob")
    harbor_events(dev, 20, start=T0, project="web", user="carol")
    actions(3, start=T0, actor="bob", object_repr="payments")
    actions(2, start=T0, actor="dave", object_repr="web/frontend")

    def count(**kw: object) -> int:
        return len(walk(EventFilter(**kw), 100))  # type: ignore[arg-type]

    assert count() == 45
    assert count(user="bob") == 23
    assert count(project="payments") == 23
    assert count(project="web") == 22
    assert count(operation="delete") == 10
    assert count(resource_prefix="payments/app-1") == 7
    assert count(resource_contains="app-2:v") == 12
    assert count(label="env=prod") == 20
    assert count(instances=[dev.pk]) == 20
    assert count(label="env=nowhere") == 0
    assert count(since=T0 + timedelta(seconds=10), until=T0 + timedelta(seconds=12)) == 4
    assert count(source="harbor") == 40 and count(source="harborops") == 5
    assert count(user="bob", source="harborops") == 3
    assert count(resource_type="mapping") == 5


def test_activity_counts_events_per_day_by_operation() -> None:
    a = make_instance("harbor-a")
    harbor_events(a, 8, start=T0, step=timedelta(hours=12))
    actions(2, start=T0)
    points = activity(EventFilter(since=T0 - timedelta(days=1)))
    per_op: dict[str, int] = {}
    for _day, op, n in points:
        per_op[op] = per_op.get(op, 0) + n
    assert per_op == {"create": 2, "delete": 2, "pull": 2, "update": 2, "harborops": 2}
    assert len({d for d, _, _ in points}) == 5  # 12:00 on day 1 to 00:00 on day 5


def test_a_tampered_cursor_is_refused() -> None:
    assert Cursor.decode("not-a-cursor") is None
    c = Cursor(T0, "h", 5)
    assert Cursor.decode(c.encode()) == c
