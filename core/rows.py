"""Saving fields of many rows in one statement, for bulk work (triage's bulk actions).

Django's bulk_update builds a CASE WHEN expression per field and row: correct, but building it costs several
milliseconds a row in Python, which for a few hundred cases outweighed everything else a bulk action does. This
writes the same in one ``UPDATE … FROM (VALUES …)``, each value prepared and cast by its own field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import connections, router
from django.db.models import Field, Model


def rows_update(rows: Sequence[Model], fields: Sequence[str]) -> int:
    """Save ``fields`` of each of ``rows`` (instances of one model, already saved) in one statement; how
    many rows it updated. Nothing is run for no rows or no fields."""
    if not rows or not fields:
        return 0
    model = type(rows[0])
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    pk = meta.pk
    assert pk is not None  # noqa: S101 - every concrete model has one
    columns = [cast("Field[Any, Any]", meta.get_field(name)) for name in fields]
    casts = [f"%s::{pk.db_type(connection)}"] + [f"%s::{field.db_type(connection)}" for field in columns]
    row = f"({', '.join(casts)})"
    params: list[Any] = []
    for instance in rows:
        params.append(pk.get_db_prep_save(instance.pk, connection))
        for field in columns:
            params.append(field.get_db_prep_save(getattr(instance, field.attname), connection))
    names = ", ".join([quote("row_pk"), *(quote(str(field.column)) for field in columns)])
    sets = ", ".join(f"{quote(str(field.column))} = v.{quote(str(field.column))}" for field in columns)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {sets} "  # noqa: S608 - names from the model, values as parameters
        f"FROM (VALUES {', '.join([row] * len(rows))}) AS v({names}) "
        f"WHERE {quote(meta.db_table)}.{quote(str(pk.column))} = v.{quote('row_pk')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
