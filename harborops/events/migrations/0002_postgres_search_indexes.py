"""PostgreSQL-only indexes for resource search (SQLite uses the plain B-tree of 0001).

* ``resource varchar_pattern_ops``: ``LIKE 'proj/app%'`` (resource prefix) under any collation.
* ``gin (resource gin_trgm_ops)``: ``LIKE '%nginx%'`` (resource substring) without a full scan.
  pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it. A 16 MB
  pending list (default 4 MB) lets ingest batches append cheaply and merge into the index in
  bigger, rarer steps: the GIN index is the costliest part of an insert (docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS events_resource_prefix ON events_harborevent (resource varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS events_resource_trgm ON events_harborevent USING gin (resource gin_trgm_ops) "
    "WITH (gin_pending_list_limit = 16384)",
]
BACKWARD = ["DROP INDEX IF EXISTS events_resource_trgm", "DROP INDEX IF EXISTS events_resource_prefix"]


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
