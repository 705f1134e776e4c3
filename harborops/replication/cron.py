"""Harbor's 6-field cron (seconds first, robfig/cron as Harbor's scheduler parses it; UTC): the fire
times a scheduled replication policy should have had, to spot runs that did not happen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

RANGES = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _field(text: str, lo: int, hi: int) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if rng in ("*", "?"):
            first, last = lo, hi
        elif "-" in rng:
            a, b = rng.split("-", 1)
            first, last = int(a), int(b)
        else:
            first = last = int(rng)
            if step_text:
                last = hi
        if first < lo or last > hi or step < 1:
            raise ValueError(f"cron field out of range: {part}")
        out.update(range(first, last + 1, step))
    return out


def parse(cron: str) -> list[set[int]]:
    fields = cron.split()
    if len(fields) != 6:
        raise ValueError(f"not a 6-field cron: {cron!r}")
    return [_field(f, lo, hi) for f, (lo, hi) in zip(fields, RANGES, strict=True)]


def fire_times(cron: str, after: datetime, until: datetime, *, limit: int = 2000) -> list[datetime]:
    """Fire times in (after, until], at most `limit` (a per-second cron over a week would be huge)."""
    sec, mins, hours, dom, months, dow = parse(cron)
    dow = {d % 7 for d in dow}
    fields = cron.split()
    restricted_dom, restricted_dow = fields[3] not in ("*", "?"), fields[5] not in ("*", "?")
    out: list[datetime] = []
    t = after.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    end = until.astimezone(UTC)
    while t <= end and len(out) < limit:
        in_dom, in_dow = t.day in dom, (t.isoweekday() % 7) in dow
        day_ok = (in_dom or in_dow) if (restricted_dom and restricted_dow) else (in_dom and in_dow)
        if t.month not in months or not day_ok:
            t = (t + timedelta(days=1)).replace(hour=0, minute=0, second=0)
        elif t.hour not in hours:
            t = (t + timedelta(hours=1)).replace(minute=0, second=0)
        elif t.minute not in mins:
            t = (t + timedelta(minutes=1)).replace(second=0)
        else:
            if t.second in sec:
                out.append(t)
            t += timedelta(seconds=1)
    return out
