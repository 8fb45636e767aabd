"""django-import-export on the same model, for the import figure's comparison (issue 6, "Performance").

The issue measured django-import-export at ~500 rows/s by default and ~1,400 in bulk mode; the bench states
our import's rate against both, in the same run, on a 10,000-row sample of the same generated file.
import-export gets the easy job: clean rows (no mess, nothing to detect or normalise beyond parsing the ID),
but it must still produce valid persons: the ID sealed into the encrypted column and blind indexes, the
pinyin keys, the place path copied from the dwelling. A re-import finds persons by `id_index` and updates.

Each run is rolled back, so the bench registry is unchanged. The `import_export` app need not be installed:
a `ModelResource` works without it (bench/settings.py adds it anyway, as a project using the library would).
"""

import time
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

import tablib
from django.db import transaction
from import_export import fields, resources, widgets

from hearth.core import citizen_id
from hearth.imports.messy import SheetPerson
from hearth.places.models import Dwelling
from hearth.registry import identity, names
from hearth.registry.codes import DocumentType
from hearth.registry.models import Person

COLUMNS = ("name", "id_number", "sex", "birth_date", "phone", "dwelling")
SAMPLE_ROWS = 10_000
BATCH_SIZE = 1000
# Set in before_save_instance rather than read from the file; a bulk update must name them as well.
_DERIVED = ("pinyin", "initials", "place_path", "id_type", "id_cipher", "id_key", "id_tail6", "id_tail4")
_UPDATED = ("name", "sex", "birth_date", "phone", "dwelling", *_DERIVED)


class Timing(NamedTuple):
    seconds: float  # resource.import_data alone
    created: int  # persons that existed inside the transaction, before it was rolled back
    updated: int

    @property
    def rows_per_second(self) -> float:
        return (self.created + self.updated) / self.seconds if self.seconds else 0.0


class _DwellingWidget(widgets.ForeignKeyWidget):
    """The dwelling by primary key, with its place in the same query (the place path is copied from it)."""

    def get_queryset(self, value, row, *args, **kwargs):
        return Dwelling.objects.select_related("place")


class PersonResource(resources.ModelResource):
    """Person rows: name, id_number, sex (M/F), birth_date (ISO or a date), phone, dwelling (primary key)."""

    # Not a model field: sealed in before_save_instance; its blind index is the import id.
    id_number = fields.Field(column_name="id_number")
    birth_date = fields.Field(
        attribute="birth_date", column_name="birth_date", widget=widgets.DateWidget("%Y-%m-%d")
    )
    dwelling = fields.Field(attribute="dwelling", column_name="dwelling", widget=_DwellingWidget(Dwelling))

    class Meta:
        model = Person
        fields = ("id_index", "name", "id_number", "sex", "birth_date", "phone", "dwelling")
        import_id_fields = ("id_index",)

    def get_queryset(self):
        return Person.objects.for_system()  # a system job: the whole registry, spelled out

    def before_import(self, dataset, **kwargs):
        # The import id must be a column of the file; it is filled per row from the ID number.
        if "id_index" not in (dataset.headers or []):
            dataset.append_col([""] * dataset.height, header="id_index")

    def before_import_row(self, row, **kwargs):
        number = citizen_id.parse(str(row["id_number"])).number
        row["id_number"] = number
        row["id_index"] = identity.index_of(DocumentType.RESIDENT_ID, number)

    def before_save_instance(self, instance, row, **kwargs):
        instance.id_type = DocumentType.RESIDENT_ID
        sealed = identity.seal(DocumentType.RESIDENT_ID, row["id_number"], instance.public_id)
        for name, value in sealed.as_fields().items():
            setattr(instance, name, value)
        instance.pinyin, instance.initials = names.pinyin_keys(instance.name)
        instance.place_path = instance.dwelling.place.path

    def get_bulk_update_fields(self):
        # The default lists the resource's fields, id_number among them, which is no model field.
        return list(_UPDATED)


class BulkPersonResource(PersonResource):
    """The same resource in import-export's bulk mode."""

    class Meta:
        use_bulk = True
        batch_size = BATCH_SIZE


def clean_rows(people: Sequence[SheetPerson], dwelling_ids: Sequence[int]) -> list[dict]:
    """The people of a generated sheet as clean rows, given dwellings in turn (round robin)."""
    return [
        {
            "name": p.name,
            "id_number": p.id_number,
            "sex": p.sex,
            "birth_date": p.birth_date,
            "phone": p.phone,
            "dwelling": dwelling_ids[i % len(dwelling_ids)],
        }
        for i, p in enumerate(people)
    ]


def build_dataset(rows: Sequence[dict]) -> tablib.Dataset:
    """The rows as the tablib Dataset import-export reads (dates as ISO text, as a file would hold them)."""
    dataset = tablib.Dataset(headers=list(COLUMNS))
    for row in rows:
        birth = row["birth_date"]
        dataset.append(
            [
                row["name"],
                row["id_number"],
                row["sex"],
                birth.isoformat() if isinstance(birth, date) else birth,
                row.get("phone", ""),
                row["dwelling"],
            ]
        )
    return dataset


def run(rows: Sequence[dict], *, bulk: bool) -> Timing:
    """Import `rows` with django-import-export (default or bulk mode); time `import_data`; roll it back.

    Any row error raises (raise_errors): a comparison against rows that silently failed would mean nothing.
    """
    resource = BulkPersonResource() if bulk else PersonResource()
    dataset = build_dataset(rows)
    persons = Person.objects.for_system()
    with transaction.atomic():
        before = persons.count()
        started = time.perf_counter()
        result = resource.import_data(dataset, dry_run=False, raise_errors=True)
        seconds = time.perf_counter() - started
        created = persons.count() - before
        transaction.set_rollback(True)
    return Timing(seconds=seconds, created=created, updated=result.totals["update"])
