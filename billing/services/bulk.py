"""Many rows in few statements, for the month's build (issue 22's bench: a month of
charges and claims at 5,000 clients under 10 s).

Django's ``bulk_create`` and ``bulk_update`` spend most of their time in Python for tens
of thousands of rows (each value resolved as an expression, a CASE per row and column);
on PostgreSQL these write the same rows with psycopg2's ``execute_values`` (a multi-row
VALUES list per page). SQLite (the test database) takes Django's own path. The rows are
tuples in the order of ``columns`` (database column names, which are the attnames of
the models written here)."""

import csv
import io
import json
from uuid import UUID

from django.db import connection

PAGE = 5_000


def _adapt(value):
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


def insert(model, columns: tuple[str, ...], rows: list[tuple], *, conflict: str = "") -> list[int]:
    """INSERT ``rows``; with ``conflict`` a row whose ``conflict`` column clashes is
    skipped. Returns the ids of the rows inserted."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        if conflict:
            made = model.objects.bulk_create(objs, ignore_conflicts=True, batch_size=1000)
            keys = [getattr(o, conflict) for o in made]
            return list(
                model.objects.filter(**{f"{conflict}__in": keys}).values_list("pk", flat=True)
            )
        return [o.pk for o in model.objects.bulk_create(objs, batch_size=1000)]
    from psycopg2.extras import execute_values

    table = model._meta.db_table
    # Table and column names are the model's own, never input.
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES %s"  # noqa: S608
    if conflict:
        sql += f" ON CONFLICT ({conflict}) DO NOTHING"
    sql += " RETURNING id"
    ids = []
    with connection.cursor() as cursor:
        for i in range(0, len(rows), PAGE):
            page = [tuple(_adapt(v) for v in row) for row in rows[i : i + PAGE]]
            ids += [
                r[0] for r in execute_values(cursor.cursor, sql, page, page_size=PAGE, fetch=True)
            ]
    return ids


# PostgreSQL types of the VALUES list's columns in an UPDATE (its literals are untyped).
_TYPES = {
    "id": "bigint",
    "status": "varchar",
    "hold_reasons": "jsonb",
    "diagnoses": "jsonb",
    "coverage_id": "bigint",
    "authorization_id": "bigint",
    "principal_diagnosis": "varchar",
    "number": "varchar",
    "total": "numeric",
    "amount": "numeric",
    "period_end": "date",
    "updated_at": "timestamptz",
}


def update(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """UPDATE each row (its first value the id) to the other values."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objs = []
        for row in rows:
            obj = model(pk=row[0])
            for column, value in zip(columns[1:], row[1:], strict=True):
                setattr(obj, column, value)
            objs.append(obj)
        model.objects.bulk_update(objs, list(columns[1:]), batch_size=500)
        return
    from psycopg2.extras import execute_values

    table = model._meta.db_table
    sets = ", ".join(f"{c} = v.{c}::{_TYPES[c]}" for c in columns[1:])
    sql = (
        f"UPDATE {table} AS t SET {sets} FROM (VALUES %s) AS v ({', '.join(columns)}) "  # noqa: S608
        "WHERE t.id = v.id::bigint"
    )
    with connection.cursor() as cursor:
        for i in range(0, len(rows), PAGE):
            page = [tuple(_adapt(v) for v in row) for row in rows[i : i + PAGE]]
            execute_values(cursor.cursor, sql, page, page_size=PAGE)


def copy(model, columns: tuple[str, ...], rows: list[tuple]) -> int:
    """COPY ``rows`` in (PostgreSQL; one stream, no per-row statement). Only for rows
    that cannot clash with a unique key (the caller holds its lock and left out what
    exists): a clash fails the whole COPY, and the caller's transaction with it.

    The CSV is written by the standard library's C writer, every value but a number
    quoted; a nullable column reads its empty value as NULL (FORCE_NULL: none of them
    is text, so an empty string is never meant)."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        return len(insert(model, columns, rows))
    nullable = {f.column for f in model._meta.concrete_fields if f.null}
    force_null = [c for c in columns if c in nullable]
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerows(rows)
    buffer.seek(0)
    options = "FORMAT csv" + (f", FORCE_NULL ({', '.join(force_null)})" if force_null else "")
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN WITH ({options})",
            buffer,
        )
    return len(rows)
