"""Importing residents end to end: upload, mapping, dry run, commit, re-import, cancel, rollback, errors."""

import io
from datetime import date

import pytest
from python_calamine import CalamineWorkbook

from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry
from hearth.core import citizen_id
from hearth.core.errors import DomainError
from hearth.imports import services
from hearth.imports.models import ImportJob, JobStatus, SourceMapping
from hearth.registry import identity
from hearth.registry.models import EventKind, EventSource, LifeEvent, Person

NEW_ID = citizen_id.make("410103", date(1990, 5, 6), 11)  # odd sequence: male
OLD_BORN = date(1962, 7, 8)
OLD_ID = citizen_id.make("410103", OLD_BORN, 13)
OLD_ID15 = OLD_ID[:6] + OLD_ID[8:17]  # the same person's 15-digit number


def _csv(world) -> bytes:
    inside = world.persons["A1a"]  # 祥和社区, in the community officer's scope
    moved = world.persons["A1a-b1"]
    outside = world.persons["B1a"]  # another district
    lines = [
        "祥和社区常住人口登记表",
        "填报单位：祥和社区,,,,填报日期：2026年3月",
        "姓　名,公民身份号码,性 别,出生年月,民族,现住址,联系电话,备注",
        f"王小明,{NEW_ID},男,1990.05,汉族,1号楼1单元303室,13800138000,",
        f"{inside.name},{identity.reveal(inside)},女,{inside.birth_date.isoformat()},汉,,,",
        f"{moved.name},{identity.reveal(moved)},,,汉族,,139 0013 9000,",
        f"{outside.name},{identity.reveal(outside)},,,,,,",
        "李四,4.10103E+17,男,1975-03-02,汉族,101室,,",
        ",,,,,,,",
        f"赵老汉,{OLD_ID},男,{OLD_BORN.isoformat()},汉族,2号楼404室,,",
        f"赵老汉,{OLD_ID15},男,{OLD_BORN.isoformat()},汉族,2号楼404室,,",
        "合计,7,,,,,,",
    ]
    return ("\n".join(lines) + "\n").encode("gb18030")


@pytest.fixture
def officer(world):
    # The fixture world's names carry their place keys (居民A1a); a spreadsheet holds real names.
    for key, name in (("A1a", "张秀兰"), ("A1a-b1", "刘桂英"), ("B1a", "陈静")):
        Person.objects.for_system().filter(pk=world.persons[key].pk).update(name=name)
        world.persons[key].refresh_from_db()
    return world.actor(Role.COMMUNITY_OFFICER)


def _upload(world, officer, data=None, **kw) -> ImportJob:
    return services.import_upload(
        actor=officer,
        data=data if data is not None else _csv(world),
        filename="台账.csv",
        source="祥和社区台账",
        place=world.places["A1a"],
        **kw,
    )


def _check(job, officer) -> ImportJob:
    services.import_start(actor=officer, job=job, commit=False, enqueue=False)
    return services.run_job(job.pk, commit=False)


def _commit(job, officer) -> ImportJob:
    services.import_start(actor=officer, job=job, commit=True, enqueue=False)
    return services.run_job(job.pk, commit=True)


def test_upload_finds_the_header_below_the_title_and_suggests_the_mapping(world, officer):
    job = _upload(world, officer)
    assert job.header_row == 3
    assert job.status == JobStatus.UPLOADED
    assert job.mapping == {
        "name": 0, "id_number": 1, "sex": 2, "birth_date": 3, "ethnicity": 4, "address": 5, "phone": 6, "notes": 7,
    }  # fmt: skip
    assert job.progress_total == 7  # the blank row is not data, the totals row is skipped
    entry = AuditEntry.objects.get(action="import.upload")
    assert entry.data["file_sha256"] == job.file_sha256 and entry.row_count == 7


def test_dry_run_classifies_every_row_and_writes_nothing(world, officer):
    persons_before = Person.objects.for_system().count()
    job = _check(_upload(world, officer), officer)
    assert job.status == JobStatus.CHECKED, job.message
    assert job.counts == {"new": 2, "changed": 1, "unchanged": 1, "duplicate": 1, "rejected": 2, "skipped": 1}
    assert Person.objects.for_system().count() == persons_before
    problems = job.problems
    assert "其他地区登记" in problems["7"]  # out of scope: refused without saying where
    assert "建设路" not in problems["7"]
    assert "存成了数字" in problems["8"]
    assert "11" not in problems  # the 15-digit duplicate of row 10 is imported once, nothing to fix
    assert job.samples["duplicate"][0]["row"] == 11 and "第10行" in job.samples["duplicate"][0]["detail"]
    assert job.samples["new"][0]["id"].endswith(NEW_ID[-4:]) and NEW_ID not in str(job.samples)


def test_commit_writes_persons_events_and_one_audit_row_then_a_second_import_changes_nothing(world, officer):
    job = _commit(_check(_upload(world, officer), officer), officer)
    assert job.status == JobStatus.COMMITTED, job.message
    new = Person.objects.for_system().get(id_index=identity.index_of("resident_id", NEW_ID))
    assert (new.name, new.sex, new.birth_date, new.phone) == ("王小明", "M", date(1990, 5, 6), "13800138000")
    assert new.dwelling == world.dwellings["A1a-b1-u1"] and new.place_path == new.dwelling.place.path
    assert new.pinyin.startswith("wang")
    event = LifeEvent.objects.for_system().get(person=new)
    assert (event.kind, event.source, event.data["import"]) == (
        EventKind.REGISTERED, EventSource.IMPORT, str(job.public_id)
    )  # fmt: skip
    old = Person.objects.for_system().get(id_index=identity.index_of("resident_id", OLD_ID))
    assert old.dwelling == world.dwellings["A1a-b2"]
    moved = Person.objects.for_system().get(pk=world.persons["A1a-b1"].pk)
    assert moved.phone == "13900139000" and moved.version == world.persons["A1a-b1"].version + 1
    change = LifeEvent.objects.for_system().get(person=moved, kind=EventKind.DETAILS_CHANGE)
    assert change.data["phone"] == ["", "13900139000"] and change.source == EventSource.IMPORT
    commit = AuditEntry.objects.get(action="import.commit")
    assert commit.data["file_sha256"] == job.file_sha256 and commit.row_count == 3

    persons, events = Person.objects.for_system().count(), LifeEvent.objects.for_system().count()
    again = _commit(_check(_upload(world, officer), officer), officer)
    assert again.counts["new"] == 0 and again.counts["changed"] == 0 and again.counts["unchanged"] == 4
    assert (Person.objects.for_system().count(), LifeEvent.objects.for_system().count()) == (persons, events)


def test_a_failure_while_writing_leaves_nothing(world, officer, monkeypatch):
    job = _check(_upload(world, officer), officer)
    persons, events = Person.objects.for_system().count(), LifeEvent.objects.for_system().count()
    real_write = services._write

    def write_then_fail(*args, **kwargs):
        real_write(*args, **kwargs)
        raise DomainError("test.boom", "写入后失败")

    monkeypatch.setattr(services, "_write", write_then_fail)
    job = _commit(job, officer)
    assert job.status == JobStatus.FAILED and "写入后失败" in job.message
    assert (Person.objects.for_system().count(), LifeEvent.objects.for_system().count()) == (persons, events)
    assert not AuditEntry.objects.filter(action="import.commit").exists()


def test_cancel_before_writing_stops_the_run(world, officer):
    job = _upload(world, officer)
    services.import_start(actor=officer, job=job, commit=False, enqueue=False)
    services.import_cancel(actor=officer, job=job)
    job = services.run_job(job.pk, commit=False)
    assert job.status == JobStatus.CANCELLED and job.counts == {}


def test_two_starts_run_once_and_commit_needs_a_dry_run(world, officer):
    job = _upload(world, officer)
    with pytest.raises(DomainError) as exc:
        services.import_start(actor=officer, job=job, commit=True, enqueue=False)
    assert exc.value.code == "import.state"
    services.import_start(actor=officer, job=job, commit=False, enqueue=False)
    with pytest.raises(DomainError):
        services.import_start(actor=officer, job=job, commit=False, enqueue=False)


def test_mapping_must_name_the_required_columns_once_and_can_be_saved(world, officer):
    job = _upload(world, officer)
    with pytest.raises(DomainError) as exc:
        services.import_set_mapping(actor=officer, job=job, mapping={"name": 0}, save_for_source=False)
    assert "公民身份号码" in str(exc.value.message) and exc.value.field == "id_number"
    with pytest.raises(DomainError) as exc:
        services.import_set_mapping(
            actor=officer, job=job, mapping={"name": 0, "id_number": 99}, save_for_source=False
        )
    assert exc.value.code == "import.mapping_column"
    services.import_set_mapping(
        actor=officer, job=job, mapping={"name": 0, "id_number": 1, "phone": 6}, save_for_source=True
    )
    saved = SourceMapping.objects.get(source="祥和社区台账")
    assert saved.headers == {"姓名": "name", "公民身份号码": "id_number", "联系电话": "phone"}
    # A file of the same source with the columns moved around: the saved mapping follows the headers.
    moved = f"姓名,联系电话,公民身份号码\n王小明,13800138000,{NEW_ID}\n".encode()
    job2 = _upload(world, officer, data=moved)
    assert job2.mapping == {"name": 0, "phone": 1, "id_number": 2}


def test_bad_uploads_are_refused_with_the_field_named(world, officer):
    with pytest.raises(DomainError) as exc:
        services.import_upload(
            actor=officer, data=b"", filename="x.csv", source="", place=world.places["B1a"]
        )
    fields = {e.field for e in exc.value.errors}
    assert fields == {"source", "place", "file"}
    volunteer = world.actor(Role.BUILDING_VOLUNTEER)
    with pytest.raises(DomainError) as exc:
        _upload(world, volunteer)
    assert exc.value.code == "permission.denied"


def test_error_workbook_lists_the_problem_rows_with_the_reason(world, officer):
    job = _check(_upload(world, officer), officer)
    book = CalamineWorkbook.from_filelike(io.BytesIO(services.error_workbook(job)))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0][-2:] == ["问题", "原行号"]
    by_row = {int(r[-1]): r[-2] for r in rows[1:]}
    assert set(by_row) == {7, 8}
    assert "存成了数字" in by_row[8]


def test_keep_unverified_keeps_a_legacy_number_flagged(world, officer):
    bad = NEW_ID[:17] + ("0" if NEW_ID[17] != "0" else "1")  # wrong check digit
    data = f"姓名,身份证号,出生日期,性别,现住址\n钱某,{bad},1990-05-06,男,101室\n".encode()
    strict = _check(_upload(world, officer, data=data), officer)
    assert strict.counts["rejected"] == 1 and "校验位" in strict.problems["2"]
    lenient = _commit(_check(_upload(world, officer, data=data, keep_unverified=True), officer), officer)
    assert lenient.counts["new"] == 1, lenient.problems
    person = Person.objects.for_system().get(name="钱某")
    assert person.id_unverified and identity.reveal(person) == bad


def test_the_command_line_runs_the_same_job_as_its_user(world, officer, tmp_path):
    from django.core.management import call_command

    path = tmp_path / "台账.csv"
    path.write_bytes(_csv(world))
    out = io.StringIO()
    call_command(
        "import", str(path), source="祥和社区台账", place="410103001001",
        user=world.users[Role.COMMUNITY_OFFICER].username, commit=True, stdout=out,
    )  # fmt: skip
    assert "(committed)" in out.getvalue() and '"new": 2' in out.getvalue()
    job = ImportJob.objects.for_system().get()
    assert job.status == JobStatus.COMMITTED and job.created_by == world.grants[Role.COMMUNITY_OFFICER]
    assert Person.objects.for_system().filter(id_index=identity.index_of("resident_id", NEW_ID)).exists()
    with pytest.raises(Exception, match="may import"):
        call_command(
            "import", str(path), source="x", place="410103001001", user=world.users[Role.AUDITOR].username
        )


def _results(job) -> tuple:
    return job.status, job.counts, job.problems, job.samples


def test_two_processes_clean_a_large_file_to_the_same_results_as_one(world, officer, monkeypatch):
    serial = _results(_check(_upload(world, officer), officer))
    monkeypatch.setattr(services, "PARALLEL_ROWS", 2)  # this small file is then "large"
    forks = []
    real_context = services.mp.get_context

    def counting_context(method):
        forks.append(method)
        return real_context(method)

    monkeypatch.setattr(services.mp, "get_context", counting_context)
    parallel = _results(_check(_upload(world, officer), officer))
    assert forks == ["fork"]
    assert parallel == serial
    job = _commit(_check(_upload(world, officer), officer), officer)
    assert job.status == JobStatus.COMMITTED and job.counts["new"] == 2


def test_when_the_second_process_fails_this_one_cleans_its_half(world, officer, monkeypatch):
    serial = _results(_check(_upload(world, officer), officer))
    monkeypatch.setattr(services, "PARALLEL_ROWS", 2)
    real_clean_rows = services._clean_rows
    parent = services.os.getpid()

    def failing_in_the_child(*args, **kwargs):
        if services.os.getpid() != parent:
            raise MemoryError("the child ran out")
        return real_clean_rows(*args, **kwargs)

    monkeypatch.setattr(services, "_clean_rows", failing_in_the_child)
    assert _results(_check(_upload(world, officer), officer)) == serial


def test_a_cancel_while_cleaning_stops_the_second_process_too(world, officer, monkeypatch):
    monkeypatch.setattr(services, "PARALLEL_ROWS", 2)
    children = []
    real_context = services.mp.get_context

    class Recording:
        def __init__(self, ctx):
            self.ctx = ctx

        def __getattr__(self, name):
            return getattr(self.ctx, name)

        def Process(self, *args, **kwargs):
            child = self.ctx.Process(*args, **kwargs)
            children.append(child)
            return child

    monkeypatch.setattr(services.mp, "get_context", lambda method: Recording(real_context(method)))

    def cancelled(progress, stage, done, **kwargs):
        if stage == "check":  # while this process cleans its half
            raise services.Cancelled

    job = _upload(world, officer)
    services.import_start(actor=officer, job=job, commit=False, enqueue=False)
    monkeypatch.setattr(services._Progress, "__call__", cancelled)
    job = services.run_job(job.pk, commit=False)
    assert job.status == JobStatus.CANCELLED
    assert len(children) == 1 and not children[0].is_alive()
