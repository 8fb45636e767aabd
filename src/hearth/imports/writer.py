"""Writing an import's rows in bulk (人员导入的写入): new persons and life events.

On PostgreSQL the rows go in by binary COPY, as tuples built straight from the cleaned values (no model
instances, no per-field `get_db_prep_save`), the way the population loader writes them; new persons take
their ids from the table's own identity sequence first, so that their events can name them. Elsewhere (SQLite,
in development and the tests) `bulk_create` of the same rows. Either way on the caller's connection and inside
its transaction: nothing is committed here, and a failure afterwards rolls the COPY back with the rest.

A row is {attname: value}; a column it does not name takes the model field's default, which is what
`Model(**row)` saved by `bulk_create` stores. A unique or other integrity violation raises Django's
`IntegrityError`, as `bulk_create` does.
"""

from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from enum import Enum
from typing import Any

from django.db import connection, models

from hearth.core.ids import new_public_id
from hearth.registry import identity, names
from hearth.registry.codes import DocumentType
from hearth.registry.population import Sealer, pinyin_of

BATCH = 1000  # rows per INSERT on the bulk_create path

_RESIDENT = DocumentType.RESIDENT_ID.value


def copy_supported() -> bool:
    return connection.vendor == "postgresql"


class PersonRows:
    """New persons' rows from an import's cleaned values: public id, sealed ID number, pinyin keys, timestamps.

    The values are the row's fields (name, sex, birth_date, dwelling_id, place_path and whatever else the sheet
    gave); the rest of the person takes the model's defaults (version 1, status active, no household).
    """

    def __init__(self, now: datetime):
        self.now = now
        self.sealer = Sealer()  # one cipher object and pre-keyed HMACs for the whole import

    def __call__(self, values: dict, number: str, unverified: bool) -> dict:
        public_id = new_public_id()
        if len(number) >= 6:
            cipher, key_id, index, tail6, tail4 = self.sealer.seal(number, public_id.bytes)
            sealed = {"id_cipher": cipher, "id_key": key_id, "id_index": index, "id_tail6": tail6,
                      "id_tail4": tail4}  # fmt: skip
        else:  # identity.seal leaves the tails of so short a number empty; never so from citizen_id
            sealed = identity.seal(_RESIDENT, number, public_id).as_fields()
        pinyin, initials = person_pinyin(values["name"])
        return {
            **values,
            **sealed,
            "public_id": public_id,
            "id_type": _RESIDENT,
            "id_unverified": unverified,
            "pinyin": pinyin,
            "initials": initials,
            "created_at": self.now,
            "updated_at": self.now,
        }


class Lazy(Collection):
    """`build(item)` for each of `items`, made while it is iterated: the COPY sends each row as it is built, so the
    server maintains the indexes of the first rows while this process is still building the next (on 2 cores, a
    person's row costs about as much to build here as to insert there)."""

    def __init__(self, items: Collection[Any], build: Callable[[Any], dict]):
        self.items, self.build = items, build

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[dict]:
        return map(self.build, self.items)

    def __contains__(self, row: object) -> bool:
        return any(row == r for r in self)


def person_pinyin(name: str) -> tuple[str, str]:
    """`names.pinyin_keys(name)`, from the population loader's cache of surname and given-name halves.

    `pinyin_keys` reads the first character alone and the rest on its own, which is what `pinyin_of` composes;
    a name that starts with an ASCII character takes another branch there, so it goes to `pinyin_keys` itself.
    A new name then costs a dictionary lookup or two, not a pypinyin call (about 70 µs).
    """
    if not name or name[0].isascii():
        return names.pinyin_keys(name)
    return pinyin_of(name[0], name[1:])


def insert(
    model: type[models.Model], rows: Collection[dict], *, ids: bool = False, copy: bool | None = None
) -> list[int]:
    """Insert `rows` of `model` (a list, or a `Lazy` built as it is sent); with `ids`, return the new primary keys in
    the rows' order.

    `copy`: binary COPY (PostgreSQL only), or bulk_create; by default COPY where the database has it.
    """
    if not rows:
        return []
    if copy is None:
        copy = copy_supported()
    if not copy:
        objects = [model(**row) for row in rows]
        model._default_manager.bulk_create(objects, batch_size=BATCH)
        return [o.pk for o in objects] if ids else []
    return _copy(model, rows, ids)


def update(
    model: type[models.Model], rows: list[dict], fields: list[str], *, copy: bool | None = None
) -> None:
    """Set `fields` (attnames) of the records whose primary keys are the rows' "id" to the rows' values.

    On PostgreSQL one UPDATE … FROM unnest(arrays) for all the rows: bulk_update's CASE WHEN id = … per row and
    field is evaluated for every row of its batch (3 s for 1,190 persons in the bench). Elsewhere bulk_update.
    """
    if not rows:
        return
    if copy is None:
        copy = copy_supported()
    meta = model._meta
    if not copy:
        objects = [model(**{"id": row["id"], **{f: row[f] for f in fields}}) for row in rows]
        model._default_manager.bulk_update(objects, fields, batch_size=BATCH)
        return
    quote = connection.ops.quote_name
    columns = [meta.pk, *(meta.get_field(f) for f in fields)]
    arrays = [[c.get_db_prep_save(row[c.attname], connection) for row in rows] for c in columns]
    names_ = [quote(c.column) for c in columns]
    unnest = ", ".join(f"%s::{c.db_type(connection)}[]" for c in columns)
    sets = ", ".join(f"{n} = v.{n}" for n in names_[1:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} AS t SET {sets} FROM unnest({unnest}) AS v({', '.join(names_)})"
            f" WHERE t.{names_[0]} = v.{names_[0]}",
            arrays,
        )


def _copy(model: type[models.Model], rows: Collection[dict], ids: bool) -> list[int]:
    from psycopg.types.string import BytesBinaryDumper

    meta = model._meta
    pk = meta.pk
    others = [f for f in meta.concrete_fields if f is not pk]
    fields = [pk, *others] if ids else others
    quote = connection.ops.quote_name
    table = meta.db_table
    # Each column's value: the row's, else the field's default (called per row where it is a callable, as
    # `Model()` does: a new public id, a new empty list).
    getters = []
    for f in others:
        if f.has_default() and callable(f.default):
            getters.append((f.attname, None, f.default))
        else:
            default = f.get_default()
            getters.append((f.attname, default.value if isinstance(default, Enum) else default, None))
    with connection.cursor() as cursor, connection.wrap_database_errors:
        new_ids: list[int] = []
        if ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk.column, len(rows)],
            )
            new_ids = [n for (n,) in cursor.fetchall()]
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
            " AND NOT attisdropped",
            [quote(table)],
        )
        oids = dict(cursor.fetchall())
        columns = ", ".join(quote(f.column) for f in fields)
        cursor.cursor.adapters.register_dumper(bytes, BytesBinaryDumper)  # see binary_copy_adapters
        with cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN (FORMAT BINARY)") as cp:
            cp.set_types([int(oids[f.column]) for f in fields])
            write = cp.write_row
            for i, row in enumerate(rows):
                values = [new_ids[i]] if ids else []
                for attname, default, factory in getters:
                    if attname in row:
                        values.append(row[attname])
                    else:
                        values.append(default if factory is None else factory())
                write(values)
    return new_ids
