"""The django-import-export comparison (bench/import_export_compare.py) imports valid persons and leaves none."""

import pytest
from django.conf import settings

pytest.importorskip("import_export")

from bench.import_export_compare import (
    BulkPersonResource,
    PersonResource,
    build_dataset,
    clean_rows,
    run,
)
from hearth.imports.messy import sample_people
from hearth.registry import identity, names
from hearth.registry.codes import DocumentType
from hearth.registry.models import Person


def _rows(world, n: int = 50) -> tuple[list, list[dict]]:
    people = sample_people(n, seed=5)
    dwellings = sorted(d.pk for d in world.dwellings.values())
    return people, clean_rows(people, dwellings)


def test_the_product_settings_do_not_install_import_export():
    assert "import_export" not in settings.INSTALLED_APPS


@pytest.mark.parametrize("bulk", [False, True])
def test_run_creates_fifty_persons_and_rolls_them_back(world, bulk):
    _, rows = _rows(world)
    persons = Person.objects.for_system()
    before = persons.count()
    timing = run(rows, bulk=bulk)
    assert (timing.created, timing.updated) == (50, 0)
    assert timing.seconds > 0
    assert timing.rows_per_second == 50 / timing.seconds
    assert persons.count() == before == len(world.persons) == 7


@pytest.mark.parametrize("resource_class", [PersonResource, BulkPersonResource])
def test_imported_persons_are_valid_and_a_reimport_updates(world, resource_class):
    people, rows = _rows(world)
    result = resource_class().import_data(build_dataset(rows), raise_errors=True)
    assert (result.totals["new"], result.totals["update"]) == (50, 0)

    dwellings = {d.pk: d for d in world.dwellings.values()}
    for person, row in zip(people, rows, strict=True):
        index = identity.index_of(DocumentType.RESIDENT_ID, person.id_number)
        p = Person.objects.for_system().get(id_index=index)
        assert identity.reveal(p) == person.id_number
        assert (p.id_tail6, p.id_tail4) == (
            identity.tail_index(person.id_number[-6:]),
            identity.tail_index(person.id_number[-4:]),
        )
        assert (p.name, p.sex, p.birth_date, p.phone) == (
            person.name,
            person.sex,
            person.birth_date,
            person.phone,
        )
        assert (p.pinyin, p.initials) == names.pinyin_keys(person.name)
        assert p.dwelling_id == row["dwelling"]
        assert p.place_path == dwellings[row["dwelling"]].place.path

    # The same rows again: found by id_index and updated, nothing created.
    timing = run(rows, bulk=True)
    assert (timing.created, timing.updated) == (0, 50)
    timing = run(rows, bulk=False)
    assert (timing.created, timing.updated) == (0, 50)
    assert Person.objects.for_system().count() == 57
