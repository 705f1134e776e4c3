"""Set many rows' columns in one statement: ``UPDATE … FROM (VALUES …)``.

Django's ``bulk_update`` writes ``SET col = CASE WHEN id=1 THEN … WHEN id=2 THEN … END`` per
column: PostgreSQL evaluates that CASE for every row it updates, so the cost grows with the
square of the batch (docs/benchmarks.md, "record_probes"). One join against a VALUES list costs
one hash lookup per row instead. PostgreSQL and SQLite ≥ 3.33 (``UPDATE … FROM``) run the same
SQL; other databases, and older SQLite, fall back to ``bulk_update``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ("supports_update_from", "update_from_values")

PG_MAX_PARAMS = 65_535  # the wire protocol's limit on bind parameters per statement


def supports_update_from(connection: BaseDatabaseWrapper) -> bool:
    if connection.vendor == "postgresql":
        return True
    return connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 33, 0)


def _max_params(connection: BaseDatabaseWrapper) -> int:
    if connection.vendor == "postgresql":
        return PG_MAX_PARAMS
    connection.ensure_connection()
    raw = connection.connection
    try:
        return int(raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    except AttributeError:  # Python < 3.11
        return 999


def update_from_values(objs: Sequence[models.Model], fields: Sequence[str], *, using: str | None = None) -> int:
    """Write ``fields`` of every object in ``objs`` (one model) to its row by primary key, in as few
    statements as the database's parameter limit allows. Returns the number of rows updated."""
    if not objs:
        return 0
    model = type(objs[0])
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    if not supports_update_from(connection):
        return int(model._default_manager.using(alias).bulk_update(objs, fields=list(fields)))
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    columns: list[Any] = [pk] + [meta.get_field(name) for name in fields]
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    pg = connection.vendor == "postgresql"
    # PostgreSQL types a VALUES list from its first row, and NULL or text there would not become
    # jsonb / timestamptz: cast every placeholder to the column's own type.
    marks = [f"%s::{f.cast_db_type(connection)}" if pg else "%s" for f in columns]
    row_sql = "(" + ", ".join(marks) + ")"
    assignments = ", ".join(f"{qn(f.column)} = v.column{n}" for n, f in enumerate(columns[1:], start=2))
    per_batch = max(1, _max_params(connection) // len(columns))
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_batch):
            batch = objs[start : start + per_batch]
            params: list[Any] = []
            for obj in batch:
                params.extend(f.get_db_prep_save(getattr(obj, f.attname), connection=connection) for f in columns)
            values = ", ".join([row_sql] * len(batch))
            # Quoted names from the model's own metadata; every value is a bound parameter.
            sql = f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v WHERE {table}.{qn(pk.column)} = v.column1"  # noqa: S608, E501
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated
