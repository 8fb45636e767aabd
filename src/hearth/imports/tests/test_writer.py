"""The import's bulk writer (COPY on PostgreSQL, bulk_create elsewhere) and the cleaning fast paths.

The COPY rows must be the rows bulk_create writes, inside the caller's transaction; the fast paths of the
cleaning (plain names, mobile numbers, ASCII cells) must give what the general paths give.
"""

import random
import unicodedata
from datetime import date

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import strategies as st

from hearth.accounts.roles import Role
from hearth.audit import services as audit
from hearth.audit.models import AuditEntry
from hearth.core import citizen_id, time
from hearth.core.errors import DomainError
from hearth.core.phone import normalise_phone
from hearth.imports import fields as F
from hearth.imports import services, writer
from hearth.imports.models import JobStatus
from hearth.registry import identity, names
from hearth.registry.models import EventKind, EventSource, LifeEvent, Person
from hearth.registry.services import person_register
from hearth.testing import SYSTEM

postgres_only = pytest.mark.skipif(not writer.copy_supported(), reason="COPY is PostgreSQL's")

IDS = [citizen_id.make("410103", date(1990, 5, 6), 11), citizen_id.make("410105", date(1958, 1, 31), 22),
       citizen_id.make("659001", date(2012, 12, 1), 7)]  # fmt: skip


def _person_rows(world) -> list[dict]:
    """Three new persons as the import builds them: every optional field, none of them, an unverified number."""
    dwelling = world.dwellings["A1a-b1"]
    at = {"dwelling_id": dwelling.pk, "place_path": dwelling.place.path}
    make = writer.PersonRows(time.now())
    return [
        make(
            {
                **at,
                "name": "王小明",
                "sex": "M",
                "birth_date": date(1990, 5, 6),
                "ethnicity": "03",
                "hukou_code": "410103",
                "marital_status": "20",
                "education": "40",
                "phone": "13800138000",
                "occupation": "教师",
                "notes": "租户",
            },
            IDS[0],
            False,
        ),
        make({**at, "name": "曾凡", "sex": "F", "birth_date": date(1958, 1, 31)}, IDS[1], False),
        make({**at, "name": "买买提·艾力", "sex": "F", "birth_date": date(2012, 12, 1)}, IDS[2], True),
    ]


def _write(world, rows: list[dict], *, copy: bool) -> tuple[list[dict], list[dict]]:
    """Persons and their "registered" events written one way, as values(), then rolled back."""
    grant = world.grants[Role.COMMUNITY_OFFICER]
    now, today = rows[0]["created_at"], time.today()
    with transaction.atomic():
        ids = writer.insert(Person, [dict(r) for r in rows], ids=True, copy=copy)
        events = [
            {"person_id": pk, "kind": EventKind.REGISTERED.value, "occurred_on": today,
             "source": EventSource.IMPORT.value, "recorded_by_id": grant.pk,
             "data": {"dwelling": str(world.dwellings["A1a-b1"].public_id), "import": "job"},
             "created_at": now, "updated_at": now}
            for pk in ids
        ]  # fmt: skip
        writer.insert(LifeEvent, events, copy=copy)
        persons = list(Person.objects.for_system().filter(pk__in=ids).order_by("id").values())
        written = list(LifeEvent.objects.for_system().filter(person_id__in=ids).order_by("id").values())
        assert [p["id"] for p in persons] == ids and [e["person_id"] for e in written] == ids
        transaction.set_rollback(True)
    return persons, written


def _without(rows: list[dict], *keys: str) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in keys} for r in rows]


@postgres_only
def test_copy_writes_the_rows_bulk_create_writes(world):
    rows = _person_rows(world)
    orm_persons, orm_events = _write(world, rows, copy=False)
    copy_persons, copy_events = _write(world, rows, copy=True)
    # Ids come from the same sequence, so they differ; events take a new public id each either way.
    assert _without(copy_persons, "id") == _without(orm_persons, "id")
    assert _without(copy_events, "id", "person_id", "public_id") == _without(
        orm_events, "id", "person_id", "public_id"
    )
    first = copy_persons[0]
    expected = {"version": 1, "status": "active", "former_names": [], "household_id": None, "notes": "租户"}
    assert {k: first[k] for k in expected} == expected
    assert first["created_at"] == first["updated_at"] == rows[0]["created_at"]  # to the microsecond
    assert copy_persons[1]["ethnicity"] == "01" and copy_persons[1]["marital_status"] == "90"  # defaults
    assert [p["id_unverified"] for p in copy_persons] == [False, False, True]
    assert copy_events[0]["data"]["import"] == "job" and copy_events[0]["kind"] == "registered"
    assert len({e["public_id"] for e in copy_events + orm_events}) == 6


def test_person_rows_are_sealed_and_keyed_as_the_registry_does(world):
    rows = _person_rows(world)
    ids = writer.insert(Person, rows, ids=True)
    for pk, row, number in zip(ids, rows, IDS, strict=True):
        person = Person.objects.for_system().get(pk=pk)
        assert identity.reveal(person) == number
        assert person.id_index == identity.index_of("resident_id", number)
        assert (person.id_tail6, person.id_tail4) == (
            identity.tail_index(number[-6:]), identity.tail_index(number[-4:])
        )  # fmt: skip
        assert (person.pinyin, person.initials) == names.pinyin_keys(row["name"])
        assert person.place_path == world.dwellings["A1a-b1"].place.path and person.version == 1
    assert Person.objects.for_system().get(pk=ids[1]).pinyin == "zengfan cengfan"


def test_a_registered_number_is_an_integrity_error_and_nothing_is_kept(world):
    rows = _person_rows(world)
    taken = world.persons["A1a"]
    rows[2]["id_index"] = taken.id_index
    persons = Person.objects.for_system().count()
    with pytest.raises(IntegrityError), transaction.atomic():
        writer.insert(Person, rows, ids=True)  # Django's IntegrityError on the COPY too: the commit maps it
    assert Person.objects.for_system().count() == persons


def _officer_commit(world, data: bytes):
    officer = world.actor(Role.COMMUNITY_OFFICER)
    job = services.import_upload(
        actor=officer, data=data, filename="台账.csv", source="台账", place=world.places["A1a"]
    )
    services.import_start(actor=officer, job=job, commit=False, enqueue=False)
    job = services.run_job(job.pk, commit=False)
    assert job.status == JobStatus.CHECKED, job.message
    services.import_start(actor=officer, job=job, commit=True, enqueue=False)
    return services.run_job(job.pk, commit=True)


_SHEET = (
    "姓名,身份证号码,性别,出生日期,民族,现住址,联系电话\n"
    f"王小明,{IDS[0]},男,1990-05-06,汉族,1号楼1单元303室,138 0013 8000\n"
    f"曾凡,{IDS[1]},女,1958年1月31日,回族,1号楼1单元303室,\n"
).encode()


def test_a_failure_after_the_write_leaves_nothing(world, monkeypatch):
    persons, events = Person.objects.for_system().count(), LifeEvent.objects.for_system().count()
    real_record = audit.record

    def record(**kwargs):
        if kwargs["action"] == "import.commit":  # after the persons and events are written
            raise DomainError("test.boom", "写入后失败")
        return real_record(**kwargs)

    monkeypatch.setattr(audit, "record", record)
    job = _officer_commit(world, _SHEET)
    assert job.status == JobStatus.FAILED and "写入后失败" in job.message
    assert (Person.objects.for_system().count(), LifeEvent.objects.for_system().count()) == (persons, events)
    assert not AuditEntry.objects.filter(action="import.commit").exists()


def test_the_commit_writes_new_persons_with_their_events(world):
    job = _officer_commit(world, _SHEET)
    assert job.status == JobStatus.COMMITTED and job.counts["new"] == 2, job.problems
    assert {"write.lookup", "write.persons", "write.events"} <= set(job.stage_seconds)
    person = Person.objects.for_system().get(id_index=identity.index_of("resident_id", IDS[1]))
    assert (person.name, person.sex, person.ethnicity, person.phone) == ("曾凡", "F", "03", "")
    assert person.dwelling == world.dwellings["A1a-b1-u1"] and person.created_at == person.updated_at
    event = LifeEvent.objects.for_system().get(person=person)
    assert event.data == {"dwelling": str(person.dwelling.public_id), "import": str(job.public_id)}
    assert (event.kind, event.source, event.recorded_by) == (
        "registered", "import", world.grants[Role.COMMUNITY_OFFICER]
    )  # fmt: skip


# ------------------------------------------------------------------------- cleaning: fast = general


def test_person_pinyin_is_pinyin_keys():
    for name in ("王小明", "曾凡", "单田芳", "乐嘉", "欧阳娜娜", "买买提·艾力", "李", "John Smith", "A李", "查理",
                 "长孙无忌", "解放", "万俟卨", "仇英"):  # fmt: skip
        assert writer.person_pinyin(name) == names.pinyin_keys(name), name


def _outcome(fn, raw):
    try:
        return fn(raw)
    except DomainError as exc:
        return exc.code, str(exc.message), exc.field


def test_a_plain_name_takes_the_fast_path_with_the_same_answer():
    # U+200B forces the general path (it is removed there); every CJK ideograph of the fast path's range.
    for code in range(0x4E00, 0xA000):
        ch = chr(code)
        assert _outcome(F.clean_name, ch) == _outcome(F.clean_name, ch + "\u200b"), hex(code)
    rng = random.Random(3)
    for _ in range(2000):
        name = "".join(chr(rng.randrange(0x4E00, 0xA000)) for _ in range(rng.randrange(2, 60)))
        assert _outcome(F.clean_name, name) == _outcome(F.clean_name, name + "\u200b"), name


def test_clean_phone_is_normalise_phone():
    rng = random.Random(5)
    samples = ["", " ", "0371-67891234", "037167891234", "+86 138 0013 8000", "8613800138000", "1380013800",
               "138001380001", "１３８００１３８０００", "138 0013 8000 转 1", "13800138000#", "138-0013 8000",
               "17951 13800138000", "12593 13800138000", "11800138000", "abc"]  # fmt: skip
    for head in range(100, 200):  # every three-digit start, in each way a mobile number is written
        for _ in range(5):
            digits = f"{head}{rng.randrange(10**8):08d}"
            samples += [digits, f"{digits[:3]} {digits[3:7]} {digits[7:]}", f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                        f" {digits}\u3000"]  # fmt: skip
    for raw in samples:
        assert _outcome(F.clean_phone, raw) == _outcome(lambda r: normalise_phone(r, field="phone"), raw), raw


def test_a_printable_text_holds_no_invisible_mark_and_no_whitespace_but_the_space():
    # What fields._visible relies on, over all of Unicode (of this Python's unicodedata).
    for code in range(0x110000):
        ch = chr(code)
        if ch.isprintable():
            assert unicodedata.category(ch) != "Cf" and (not ch.isspace() or ch == " "), hex(code)


def _compact_general(raw: str) -> str:
    text = unicodedata.normalize("NFKC", str(raw or ""))
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=20))
def test_compact_is_nfkc_without_spaces_or_invisible_marks(raw):
    assert F._compact(raw) == _compact_general(raw)


def test_repeated_cells_are_cleaned_once_and_refused_values_each_time():
    dwellings = object.__new__(services._Dwellings)
    dwellings.keys, dwellings.found = {F.address_key("1号楼1单元303室"): (7, "p")}, {}
    rows = {"address": "1-1-303", "ethnicity": "汉", "hukou": "火星"}

    def clean() -> services.RowResult:
        r = services.RowResult(number=2)
        services._clean_row(lambda name: rows.get(name, ""), r, False, dwellings)
        return r

    first, second = clean(), clean()
    assert first.values == second.values == {"ethnicity": "01", "dwelling_id": 7, "place_path": "p"}
    assert dwellings.found == {"1-1-303": (7, "p")}
    assert first.problems == second.problems and any("户籍地：" in p and "火星" in p for p in second.problems)


def test_changed_persons_keep_the_fields_they_did_not_change(world):
    # One row changes a name and a dwelling, another only a phone: one update writes the same columns for both,
    # and the second keeps its own pinyin and place.
    renamed, rephoned = world.persons["A1a"], world.persons["A1a-b1"]
    Person.objects.for_system().filter(pk=rephoned.pk).update(
        name="刘桂英", pinyin="liuguiying", initials="lgy"
    )
    before = Person.objects.for_system().get(pk=rephoned.pk)
    sheet = (
        "姓名,身份证号码,联系电话,现住址\n"
        f"张秀兰,{identity.reveal(renamed)},,1号楼1单元303室\n"
        f"刘桂英,{identity.reveal(rephoned)},13900139000,\n"
    ).encode()
    job = _officer_commit(world, sheet)
    assert job.status == JobStatus.COMMITTED and job.counts["changed"] == 2, job.problems
    renamed = Person.objects.for_system().get(pk=renamed.pk)
    assert (renamed.name, renamed.pinyin, renamed.initials) == ("张秀兰", "zhangxiulan", "zxl")
    moved_to = world.dwellings["A1a-b1-u1"]
    assert renamed.dwelling == moved_to and renamed.place_path == moved_to.place.path
    assert LifeEvent.objects.for_system().get(person=renamed, kind=EventKind.DWELLING_CHANGE).data["dwelling"] == [
        str(world.dwellings["A1a"].public_id), str(moved_to.public_id)
    ]  # fmt: skip
    after = Person.objects.for_system().get(pk=rephoned.pk)
    assert after.phone == "13900139000" and after.version == before.version + 1
    assert (after.name, after.pinyin, after.initials) == ("刘桂英", "liuguiying", "lgy")
    assert (after.dwelling_id, after.place_path) == (before.dwelling_id, before.place_path)


@postgres_only
def test_the_update_sets_what_bulk_update_sets(world):
    people = [world.persons["A1a"], world.persons["A1a-b1"]]
    now = time.now()
    moved_to = world.dwellings["A1a-b1-u1"]
    rows = [
        {"id": people[0].pk, "name": "张秀兰", "phone": "", "dwelling_id": moved_to.pk, "birth_date": date(1970, 1, 2),
         "place_path": moved_to.place.path, "version": 7, "updated_at": now},
        {"id": people[1].pk, "name": "刘桂英", "phone": "13900139000", "dwelling_id": people[1].dwelling_id,
         "birth_date": people[1].birth_date, "place_path": people[1].place_path, "version": 2, "updated_at": now},
    ]  # fmt: skip
    fields = ["birth_date", "dwelling_id", "name", "phone", "place_path", "updated_at", "version"]
    written = []
    for copy in (False, True):
        with transaction.atomic():
            writer.update(Person, rows, fields, copy=copy)
            written.append(
                list(
                    Person.objects.for_system().filter(pk__in=[p.pk for p in people]).order_by("id").values()
                )
            )
            transaction.set_rollback(True)
    assert written[0] == written[1]
    assert written[1][0]["dwelling_id"] == moved_to.pk and written[1][0]["version"] == 7


def test_a_number_registered_during_the_commit_refuses_the_whole_import(world, monkeypatch):
    persons, events = Person.objects.for_system().count(), LifeEvent.objects.for_system().count()
    real_match = services._match

    def match(results, actor, progress, *, lock=False):
        if lock:  # between the commit's check and its write, inside its transaction
            person_register(actor=SYSTEM, values={
                "name": "王小明", "sex": "M", "birth_date": date(1990, 5, 6), "id_number": IDS[0],
                "dwelling": world.dwellings["A1a"],
            })  # fmt: skip
        return real_match(results, actor, progress, lock=lock)

    monkeypatch.setattr(services, "_match", match)
    job = _officer_commit(world, _SHEET)
    assert job.status == JobStatus.FAILED and "已全部撤销" in job.message
    assert (Person.objects.for_system().count(), LifeEvent.objects.for_system().count()) == (persons, events)
