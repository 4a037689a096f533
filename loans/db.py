"""Set-based writes of many rows in one statement, for the services that write rows in bulk."""

from __future__ import annotations

from decimal import Decimal

from django.db import connections, models, router
from djmoney.money import Money


def rows_insert(model, rows: list) -> None:
    """``INSERT`` the rows as one prepared statement run for all rows, without reading their ids
    back. A row is ``{attname: value}`` (a field not named takes its default): no model
    instance to build (a money field's value is a new ``Money`` at each read); instances are
    taken too, their values through each field's ``pre_save`` (``auto_now_add``). Not
    ``bulk_create``, which compiles every value of every row through the query compiler (for a
    schedule's money columns more than the insert itself costs). Values go through each field's
    own preparation, as ``save()`` would; database constraints apply as usual."""
    if not rows:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    names = [f.attname for f in fields]
    defaults = {f.attname: f.get_default() for f in fields}
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ("
        + ", ".join(qn(f.column) for f in fields)
        + ") VALUES ("
        + ", ".join(["%s"] * len(fields))
        + ")"
    )

    def values(row) -> list:
        if isinstance(row, models.Model):  # pre_save: auto_now_add and the like, as save()
            return [f.pre_save(row, True) for f in fields]
        unknown = row.keys() - defaults.keys()
        if unknown:
            raise ValueError(f"{meta.label} has no field {', '.join(sorted(unknown))}")
        return [row[name] if name in row else defaults[name] for name in names]

    params = [
        [db_value(f, v, conn) for f, v in zip(fields, values(row), strict=True)] for row in rows
    ]
    with conn.cursor() as cursor:
        cursor.executemany(sql, params)


def rows_update(model, objs: list, fields: list[str]) -> None:
    """``UPDATE … SET fields WHERE id`` for each object, as one prepared statement run for all
    (``bulk_update`` builds a CASE per field and row, which costs more than it saves here).
    Values go through each field's own preparation, as ``save()`` would."""
    if not objs:
        return
    meta = model._meta
    columns = [meta.get_field(f) for f in fields]
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    sql = (
        f"UPDATE {qn(meta.db_table)} SET "
        + ", ".join(f"{qn(f.column)} = %s" for f in columns)
        + f" WHERE {qn(meta.pk.column)} = %s"
    )
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), conn) for f in columns] + [obj.pk]
        for obj in objs
    ]
    with conn.cursor() as cursor:
        cursor.executemany(sql, params)


def insert_select(model, qs, columns: dict[str, str]) -> int:
    """``INSERT INTO`` `model`'s table ``(columns) SELECT … FROM (qs) ON CONFLICT DO NOTHING``:
    `columns` maps each target column to the alias of `qs` that fills it. Rows that would break a
    unique constraint are skipped, so reruns and concurrent runs create each row once. Returns
    the number of rows created."""
    db = router.db_for_write(model)
    conn = connections[db]
    select_sql, params = qs.query.get_compiler(using=db).as_sql()
    qn = conn.ops.quote_name
    table = qn(model._meta.db_table)
    targets = ", ".join(qn(c) for c in columns)
    sources = ", ".join(f"src.{qn(a)}" for a in columns.values())
    sql = (
        f"INSERT INTO {table} ({targets}) SELECT {sources} FROM ({select_sql}) src "
        f"WHERE 1 = 1 ON CONFLICT DO NOTHING"
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def db_value(field, value, conn):
    """`value` as ``save()`` would send it for `field`. Plain ints, strings and None go as they
    are (every field's preparation returns them unchanged); a money amount as its decimal
    (what the money field's preparation does first); a choices member (a str subclass) as its
    plain value, as Django's compiler does."""
    kind = type(value)
    if kind is int or kind is str or value is None:
        return value
    if isinstance(value, Money):
        value = value.amount
    if type(value) is Decimal and isinstance(field, models.DecimalField):
        value = models.DecimalField.get_db_prep_save(field, value, conn)
    else:
        value = field.get_db_prep_save(value, conn)
    return str(value) if isinstance(value, str) and type(value) is not str else value
