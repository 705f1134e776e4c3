"""Streamed exports (CSV, JSON Lines) of any search: rows flow from a server-side cursor to the
socket in chunks, so a million-row export holds one chunk in memory, never the result."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.timezone import now

from harborops.events.query import HARBOR, EventFilter, iter_rows

FIELDS = ("time", "source", "instance", "user", "operation", "resource_type", "resource", "project", "detail",
          "id")
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
LINES_PER_CHUNK = 500
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def record(row: dict[str, Any]) -> dict[str, Any]:
    return {"time": row["ts"].isoformat(), "source": "harbor" if row["src"] == HARBOR else "harborops",
            "instance": row["inst"], "user": row["who"], "operation": row["op"], "resource_type": row["rtype"],
            "resource": row["res"], "project": row["proj"], "detail": row["detail"] or "", "id": row["rid"]}


def _cell(value: Any) -> Any:
    # Spreadsheet formula injection: a resource named "=HYPERLINK(...)" must stay text.
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(FIELDS)
    for n, row in enumerate(rows, 1):
        rec = record(row)
        writer.writerow([_cell(rec[k]) for k in FIELDS])
        if n % LINES_PER_CHUNK == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def jsonl_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    lines: list[str] = []
    for row in rows:
        lines.append(json.dumps(record(row), ensure_ascii=False))
        if len(lines) >= LINES_PER_CHUNK:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"


def export_response(f: EventFilter, fmt: str) -> StreamingHttpResponse:
    rows = iter_rows(f)
    chunks = csv_chunks(rows) if fmt == "csv" else jsonl_chunks(rows)
    response = StreamingHttpResponse(chunks, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="harbor-events-{now():%Y%m%d-%H%M%S}.{fmt}"'
    response["X-Accel-Buffering"] = "no"  # let a reverse proxy pass chunks on as they come
    return response
