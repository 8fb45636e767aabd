"""Change reports (变动报告): a volunteer reports, an officer confirms into events and persons, or rejects."""

import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hearth.accounts.models import User
from hearth.accounts.services import grant_create
from hearth.audit.models import AuditEntry
from hearth.core import citizen_id, time
from hearth.core.errors import DomainError
from hearth.registry import identity, reports
from hearth.registry.home_reports import change_report_todos
from hearth.registry.models import (
    ChangeKind,
    ChangeReport,
    ChangeStatus,
    EventKind,
    EventSource,
    LifeEvent,
    Person,
    PersonStatus,
)
from hearth.registry.services import person_register
from hearth.testing import SYSTEM

VOLUNTEER = "building_volunteer"
OFFICER = "community_officer"


def api(client, method, url, body=None):
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json")


def report_at(world, key="A1a-b1", kind=ChangeKind.DEATH, text="3楼老人去世", role=VOLUNTEER):
    return reports.change_report_create(
        actor=world.actor(role), dwelling=world.dwellings[key], kind=kind, text=text
    )


def foreign_report(world, key):
    """A report at a dwelling outside the volunteer's building, written as another place's volunteer would."""
    return ChangeReport.objects.create(
        dwelling=world.dwellings[key], kind=ChangeKind.DEATH, text="外地", reported_by=world.grants[VOLUNTEER]
    )


def fresh(report):
    return ChangeReport.objects.select_related("dwelling__place", "reported_by__user").get(pk=report.pk)


def other_volunteer(world):
    user = User.objects.create_user(username="u_vol2", password="x-very-long-9", full_name="另一信息员")
    grant = grant_create(actor=SYSTEM, user=user, role=VOLUNTEER, place=world.places["A1a-b1"])
    from hearth.accounts.actor import actor_for

    return user, grant, actor_for(grant)


# --- the volunteer's form ----------------------------------------------------------------------------


def test_volunteer_form_lists_their_buildings_dwellings_and_asks_nothing_private(world, client, login):
    login(world, VOLUNTEER)
    page = client.get("/change-reports/new/").content.decode()
    assert str(world.dwellings["A1a-b1"].public_id) in page
    assert str(world.dwellings["A1a-b1-u1"].public_id) in page
    assert str(world.dwellings["A1a-b2"].public_id) not in page
    assert str(world.dwellings["A1a"].public_id) not in page
    for word in ("孕", "避孕", "节育", "性生活", "夫妻"):
        assert word not in page
    assert "btn-lg" in page and 'name="viewport"' in page


def test_report_is_created_audited_and_a_double_submit_is_one(world, client, login):
    login(world, VOLUNTEER)
    body = {"dwelling": world.dwellings["A1a-b1"].public_id, "kind": "moved_in", "text": "新搬来一家三口"}
    assert client.post("/change-reports/new/", body).status_code == 302
    assert client.post("/change-reports/new/", body).status_code == 302
    assert ChangeReport.objects.count() == 1
    report = ChangeReport.objects.get()
    assert report.reported_by == world.grants[VOLUNTEER] and report.status == ChangeStatus.PENDING
    entry = AuditEntry.objects.get(action="change_report.create")
    assert entry.data == {"kind": "moved_in"}  # never the free text
    # A minute later the same words are a new report; different words at once are too.
    ChangeReport.objects.update(created_at=time.now() - timedelta(minutes=2))
    client.post("/change-reports/new/", body)
    client.post("/change-reports/new/", body | {"text": "又搬来一户"})
    assert ChangeReport.objects.count() == 3


def test_bad_report_input_names_the_field_and_writes_nothing(world, client, login):
    login(world, VOLUNTEER)
    here = world.dwellings["A1a-b1"].public_id
    page = client.post("/change-reports/new/", {"dwelling": here, "kind": "death", "text": "字" * 501})
    assert page.status_code == 200
    assert 'data-field="text"' in page.content.decode() and "不能超过500个字" in page.content.decode()
    page = client.post("/change-reports/new/", {"dwelling": here, "kind": "other", "text": " "})
    assert "选择“其他”时请填写情况说明" in page.content.decode()
    page = client.post(
        "/change-reports/new/", {"dwelling": world.dwellings["A1a-b2"].public_id, "kind": "death"}
    )
    assert 'data-field="dwelling"' in page.content.decode()
    assert ChangeReport.objects.count() == 0
    # The API: 422 in Chinese with the field named.
    r = api(
        client,
        "post",
        "/api/v1/change-reports",
        {"dwelling_id": str(world.dwellings["A1b"].public_id), "kind": "death"},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "dwelling_id"]
    r = api(client, "post", "/api/v1/change-reports", {"dwelling_id": str(here), "kind": "pregnancy"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "kind"
    assert r.json()["detail"][0]["msg"] == "取值无效。"
    r = api(client, "post", "/api/v1/change-reports", {"dwelling_id": str(here), "kind": "other"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "report.text_required"
    r = api(
        client,
        "post",
        "/api/v1/change-reports",
        {"dwelling_id": str(here), "kind": "death", "text": "字" * 501},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "text"
    assert ChangeReport.objects.count() == 0
    with pytest.raises(DomainError) as exc:
        reports.change_report_create(actor=world.actor(VOLUNTEER), dwelling=None, kind="x", text="")
    assert {e.code for e in exc.value.errors} == {"report.kind", "report.dwelling_required"}


def test_api_create_and_double_submit(world, client, login):
    login(world, VOLUNTEER)
    body = {
        "dwelling_id": str(world.dwellings["A1a-b1-u1"].public_id),
        "kind": "birth",
        "text": "王家添了女儿",
    }
    first = api(client, "post", "/api/v1/change-reports", body)
    second = api(client, "post", "/api/v1/change-reports", body)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"] and first.json()["status"] == "pending"
    assert ChangeReport.objects.count() == 1


# --- who sees what -------------------------------------------------------------------------------------


def test_volunteer_sees_only_their_own_reports(world, client, login):
    mine = report_at(world, text="我的报告")
    _user, _grant, peer = other_volunteer(world)
    theirs = reports.change_report_create(
        actor=peer, dwelling=world.dwellings["A1a-b1"], kind=ChangeKind.MOVED_OUT, text="别人的报告"
    )
    login(world, VOLUNTEER)
    page = client.get("/change-reports/").content.decode()
    assert "我的报告" in page and "别人的报告" not in page
    assert client.get(f"/change-reports/{mine.public_id}/").status_code == 200
    assert client.get(f"/change-reports/{theirs.public_id}/").status_code == 404
    items = client.get("/api/v1/change-reports").json()["items"]
    assert [i["id"] for i in items] == [str(mine.public_id)]
    assert client.get(f"/api/v1/change-reports/{theirs.public_id}").status_code == 404
    # A volunteer cannot decide, even their own report.
    assert client.post(f"/change-reports/{mine.public_id}/reject/", {"reason": "自己退回"}).status_code == 404
    assert fresh(mine).status == ChangeStatus.PENDING


def test_officer_sees_reports_in_scope_pending_first(world, client, login):
    old = report_at(world, text="早的待办")
    done = report_at(world, kind=ChangeKind.OTHER, text="已处理的")
    reports.change_report_confirm(
        actor=world.actor(OFFICER), report=fresh(done), decision=reports.Decision(note="已核实")
    )
    new = report_at(world, kind=ChangeKind.MOVED_OUT, text="晚的待办")
    ChangeReport.objects.filter(pk=old.pk).update(created_at=time.now() - timedelta(hours=3))
    outside = foreign_report(world, "A1b")
    login(world, OFFICER)
    items = client.get("/api/v1/change-reports").json()["items"]
    assert [i["id"] for i in items] == [str(old.public_id), str(new.public_id), str(done.public_id)]
    assert str(outside.public_id) not in client.get("/change-reports/").content.decode()
    pending = client.get("/api/v1/change-reports?status=pending").json()
    assert pending["count"] == 2
    assert client.get("/api/v1/change-reports?status=bogus").status_code == 422
    page = client.get("/change-reports/?status=confirmed").content.decode()
    assert "已处理的" in page and "早的待办" not in page
    entry = AuditEntry.objects.filter(action="change_report.list").latest("id")
    assert entry.row_count == 1 and entry.data == {"status": "confirmed"}
    # Out of scope: 404 everywhere, and nothing decided.
    for url in (f"/change-reports/{outside.public_id}/", f"/api/v1/change-reports/{outside.public_id}"):
        assert client.get(url).status_code == 404
    assert client.post(f"/change-reports/{outside.public_id}/reject/", {"reason": "越权"}).status_code == 404
    r = api(client, "post", f"/api/v1/change-reports/{outside.public_id}/confirm", {"note": "越权"})
    assert r.status_code == 404
    assert fresh(outside).status == ChangeStatus.PENDING


def test_roles_without_report_permissions_see_nothing(world, client, login):
    report = report_at(world)
    for role in ("district_admin", "subdistrict_officer", "data_clerk", "auditor"):
        c = login(world, role, Client())
        assert c.get("/change-reports/").status_code == 404
        assert c.get(f"/change-reports/{report.public_id}/").status_code == 404
        assert c.get("/api/v1/change-reports").status_code == 404


def test_list_page_query_count_does_not_grow_with_rows(world, client, login):
    login(world, OFFICER)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/change-reports/").status_code == 200
        return len(ctx.captured_queries)

    report_at(world, text="第一条")
    few = count()
    for i in range(19):
        report_at(world, key="A1a-b1-u1" if i % 2 else "A1a-b1", text=f"第{i}条")
    many_reports = ChangeReport.objects.all()
    for r in many_reports[:5]:
        reports.change_report_reject(actor=world.actor(OFFICER), report=fresh(r), reason="重复报告")
    assert count() == few


# --- rejecting -------------------------------------------------------------------------------------------


def test_rejection_reason_reaches_the_volunteer(world, client, login):
    report = report_at(world)
    officer = login(world, OFFICER, Client())
    assert (
        officer.post(
            f"/change-reports/{report.public_id}/reject/", {"reason": "该户无人去世，报错了房号"}
        ).status_code
        == 302
    )
    report = fresh(report)
    assert report.status == ChangeStatus.REJECTED and report.decided_by == world.grants[OFFICER]
    assert report.decided_at is not None
    assert (
        AuditEntry.objects.filter(action="change_report.reject", object_id=str(report.public_id)).count() == 1
    )
    login(world, VOLUNTEER)
    assert "该户无人去世，报错了房号" in client.get("/change-reports/").content.decode()
    assert "该户无人去世，报错了房号" in client.get(f"/change-reports/{report.public_id}/").content.decode()
    detail = client.get(f"/api/v1/change-reports/{report.public_id}").json()
    assert detail["decision_reason"] == "该户无人去世，报错了房号" and detail["status"] == "rejected"
    assert "events" not in detail
    # The volunteer's home to-do counts rejections of the last 30 days.
    assert [t.count for t in change_report_todos(world.actor(VOLUNTEER))] == [1]
    ChangeReport.objects.filter(pk=report.pk).update(decided_at=time.now() - timedelta(days=31))
    assert [t.count for t in change_report_todos(world.actor(VOLUNTEER))] == [0]


def test_rejecting_needs_a_reason(world, client, login):
    report = report_at(world)
    login(world, OFFICER)
    page = client.post(f"/change-reports/{report.public_id}/reject/", {"reason": " "})
    assert page.status_code == 200 and "请填写退回原因" in page.content.decode()
    r = api(client, "post", f"/api/v1/change-reports/{report.public_id}/reject", {"reason": "x" * 301})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "reason"
    r = api(client, "post", f"/api/v1/change-reports/{report.public_id}/reject", {})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == "必填项。"
    assert fresh(report).status == ChangeStatus.PENDING
    assert not AuditEntry.objects.filter(action="change_report.reject").exists()


def test_officer_todo_counts_pending_reports_in_scope(world):
    report_at(world)
    report_at(world, kind=ChangeKind.MOVED_IN, text="另一条")
    foreign_report(world, "A1b")
    (todo,) = change_report_todos(world.actor(OFFICER))
    assert todo.count == 2 and todo.url == "/change-reports/?status=pending"
    assert change_report_todos(world.actor("district_admin")) == []


# --- deciding twice ------------------------------------------------------------------------------------


def test_a_report_is_decided_once(world, client, login):
    report = report_at(world, kind=ChangeKind.OTHER, text="楼道堆物")
    # Both officers opened the report while it was pending.
    first, second = fresh(report), fresh(report)
    reports.change_report_confirm(
        actor=world.actor(OFFICER), report=first, decision=reports.Decision(note="已转物业")
    )
    with pytest.raises(DomainError) as exc:
        reports.change_report_reject(actor=world.actor("assistant"), report=second, reason="不属实")
    assert exc.value.code == "report.decided"
    assert "测试社区计生专干" in str(exc.value.message) and "已确认" in str(exc.value.message)
    assert (
        fresh(report).status == ChangeStatus.CONFIRMED and fresh(report).decided_by == world.grants[OFFICER]
    )
    login(world, "assistant")
    r = client.post(f"/change-reports/{report.public_id}/reject/", {"reason": "不属实"}, follow=True)
    assert "请勿重复处理" in r.content.decode()
    r = api(client, "post", f"/api/v1/change-reports/{report.public_id}/confirm", {"note": "再确认"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "report.decided"
    assert (
        AuditEntry.objects.filter(action__startswith="change_report.")
        .exclude(action__in=["change_report.create", "change_report.list", "change_report.view"])
        .count()
        == 1
    )


# --- confirming: each kind becomes the right records -------------------------------------------------


def officer_confirm(world, report, **kw):
    return reports.change_report_confirm(
        actor=world.actor(OFFICER), report=fresh(report), decision=reports.Decision(**kw)
    )


def assert_linked(events, report, kinds):
    assert sorted(e.kind for e in events) == sorted(kinds)
    for e in events:
        assert e.source == EventSource.VOLUNTEER_REPORT and e.change_report_id == report.pk
        assert e.reporter == "信息员 测试信息员" and e.recorded_by.role == OFFICER


def test_moved_in_registers_a_new_person(world, client, login):
    report = report_at(world, kind=ChangeKind.MOVED_IN, text="501新搬来张先生")
    born = date(1991, 3, 4)
    login(world, OFFICER)
    r = client.post(
        f"/change-reports/{report.public_id}/confirm/",
        {
            "mode": "new",
            "occurred_on": "2025-05-01",
            "name": "张新来",
            "sex": "M",
            "birth_date": born.isoformat(),
            "id_type": "resident_id",
            "id_number": citizen_id.make("410103", born, 11),
            "residence_type": "inflow",
        },
    )
    assert r.status_code == 302
    person = Person.objects.get(name="张新来")
    assert person.dwelling == world.dwellings["A1a-b1"] and person.residence_type == "inflow"
    events = list(LifeEvent.objects.filter(change_report=report))
    assert_linked(events, report, [EventKind.MOVE_IN])
    assert events[0].person == person and events[0].occurred_on == date(2025, 5, 1)
    report = fresh(report)
    assert report.status == ChangeStatus.CONFIRMED
    assert reports.lead_time(report) == report.decided_at - report.created_at
    annotated = reports.change_reports_for(world.actor(OFFICER)).get(pk=report.pk)
    assert annotated.lead_time == report.decided_at - report.created_at
    page = client.get(f"/change-reports/{report.public_id}/").content.decode()
    assert "用时" in page and "张新来" in page
    assert client.get(f"/api/v1/change-reports/{report.public_id}").json()["lead_time_seconds"] >= 0
    entry = AuditEntry.objects.get(action="change_report.confirm")
    assert entry.data == {"kind": "moved_in", "records": 1}


def test_moved_in_existing_person_found_by_id_number(world):
    mover = world.persons["A1a"]  # lives elsewhere in the community
    report = report_at(world, kind=ChangeKind.MOVED_IN, text="居民搬到1号楼")
    officer_confirm(
        world,
        report,
        mode="existing",
        occurred_on=date(2025, 4, 1),
        id_number=identity.reveal(mover),
    )
    mover.refresh_from_db()
    assert mover.dwelling == world.dwellings["A1a-b1"]
    assert_linked(LifeEvent.objects.filter(change_report=report), report, [EventKind.DWELLING_CHANGE])
    # The number is never written to the audit log.
    assert not AuditEntry.objects.filter(data__icontains=identity.reveal(mover)).exists()


def test_moved_in_person_registered_elsewhere_is_refused_without_saying_where(world):
    report = report_at(world, kind=ChangeKind.MOVED_IN)
    elsewhere = world.persons["B1a"]
    with pytest.raises(DomainError) as exc:
        officer_confirm(
            world, report, mode="existing", occurred_on=date(2025, 4, 1), id_number=identity.reveal(elsewhere)
        )
    assert exc.value.code == "report.person_elsewhere" and exc.value.field == "id_number"
    assert "建设路" not in str(exc.value.message)
    assert fresh(report).status == ChangeStatus.PENDING
    with pytest.raises(DomainError) as exc:
        officer_confirm(
            world, report, mode="existing", occurred_on=date(2025, 4, 1), id_number="410103199001010000"
        )
    assert exc.value.code in {"id.checksum", "report.person_unknown"}


def test_moved_out_records_a_move_out_for_a_resident(world, client, login):
    resident = world.persons["A1a-b1"]
    report = report_at(world, kind=ChangeKind.MOVED_OUT, text="搬去外地")
    login(world, OFFICER)
    page = client.get(f"/change-reports/{report.public_id}/").content.decode()
    assert str(resident.public_id) in page  # offered in the list of residents
    r = api(
        client,
        "post",
        f"/api/v1/change-reports/{report.public_id}/confirm",
        {"person_id": str(resident.public_id), "occurred_on": "2025-06-01", "to_region": "110105"},
    )
    assert r.status_code == 200 and r.json()["status"] == "confirmed" and len(r.json()["events"]) == 1
    resident.refresh_from_db()
    assert resident.status == PersonStatus.DEPARTED
    assert_linked(LifeEvent.objects.filter(change_report=report), report, [EventKind.MOVE_OUT])


def test_birth_registers_the_child_with_the_mother(world, client, login):
    mother = world.persons["A1a-b1"]
    report = report_at(world, kind=ChangeKind.BIRTH, text="生了个男孩")
    login(world, OFFICER)
    r = client.post(
        f"/change-reports/{report.public_id}/confirm/",
        {"mother": mother.public_id, "name": "小宝", "sex": "M", "birth_date": "2025-05-20"},
    )
    assert r.status_code == 302
    child = Person.objects.get(name="小宝")
    assert child.mother == mother and child.dwelling == mother.dwelling
    events = LifeEvent.objects.filter(change_report=report)
    assert_linked(events, report, [EventKind.BIRTH, EventKind.CHILDBIRTH])
    assert {e.person_id for e in events} == {child.pk, mother.pk}


def test_death_and_marriage(world):
    resident = world.persons["A1a-b1"]
    born = date(1980, 1, 1)
    groom = person_register(
        actor=SYSTEM,
        values={
            "name": "李同住",
            "sex": "M",
            "birth_date": born,
            "id_number": citizen_id.make("410103", born, 31),
            "dwelling": world.dwellings["A1a-b1"],
        },
    )
    marriage = report_at(world, kind=ChangeKind.MARRIAGE, text="办了喜事")
    officer_confirm(
        world,
        marriage,
        person=str(resident.public_id),
        spouse=str(groom.public_id),
        occurred_on=date(2025, 5, 2),
    )
    resident.refresh_from_db()
    groom.refresh_from_db()
    assert resident.spouse == groom and groom.spouse == resident
    assert_linked(LifeEvent.objects.filter(change_report=marriage), marriage, [EventKind.MARRIAGE] * 2)
    death = report_at(world, kind=ChangeKind.DEATH, text="李先生病故")
    officer_confirm(world, death, person=str(groom.public_id), occurred_on=date(2025, 7, 1))
    groom.refresh_from_db()
    assert groom.status == PersonStatus.DECEASED
    assert_linked(LifeEvent.objects.filter(change_report=death), death, [EventKind.DEATH])


def test_marriage_to_a_spouse_named_by_id_number(world):
    resident = world.persons["A1a-b1"]
    outside = world.persons["A1b"]
    report = report_at(world, kind=ChangeKind.MARRIAGE)
    officer_confirm(
        world,
        report,
        person=str(resident.public_id),
        spouse_id_number=identity.reveal(outside),
        occurred_on=date(2025, 5, 2),
    )
    resident.refresh_from_db()
    outside.refresh_from_db()
    assert resident.spouse == outside
    assert outside.spouse is None  # out of the officer's scope: not written there
    assert_linked(LifeEvent.objects.filter(change_report=report), report, [EventKind.MARRIAGE])


def test_other_is_confirmed_with_a_note_and_no_event(world):
    report = report_at(world, kind=ChangeKind.OTHER, text="门牌脱落")
    with pytest.raises(DomainError) as exc:
        officer_confirm(world, report)
    assert exc.value.code == "report.note_required" and exc.value.field == "note"
    assert fresh(report).status == ChangeStatus.PENDING
    officer_confirm(world, report, note="已通知物业补门牌")
    report = fresh(report)
    assert report.status == ChangeStatus.CONFIRMED and report.decision_reason == "已通知物业补门牌"
    assert not LifeEvent.objects.filter(change_report=report).exists()


# --- confirming with bad input: field named, nothing written -------------------------------------------


def test_bad_confirmation_rolls_everything_back(world, client, login):
    report = report_at(world, kind=ChangeKind.MOVED_IN)
    persons_before = Person.objects.count()
    login(world, OFFICER)
    page = client.post(
        f"/change-reports/{report.public_id}/confirm/",
        {"mode": "new", "occurred_on": "2025-05-01", "sex": "M"},
    )
    body = page.content.decode()
    assert page.status_code == 200 and "请填写姓名" in body and 'data-field="name"' in body
    r = api(
        client, "post", f"/api/v1/change-reports/{report.public_id}/confirm", {"mode": "new", "name": "王五"}
    )
    assert r.status_code == 422
    assert {d["loc"][-1] for d in r.json()["detail"]} >= {"sex", "birth_date"}
    assert all(d["msg"] for d in r.json()["detail"])
    r = api(client, "post", f"/api/v1/change-reports/{report.public_id}/confirm", {"mode": "sideways"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "mode"
    r = api(
        client, "post", f"/api/v1/change-reports/{report.public_id}/confirm", {"occurred_on": "2025-13-01"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == "日期格式应为 YYYY-MM-DD。"
    # A resident of another dwelling cannot be the one who moved out of this one.
    moved_out = report_at(world, kind=ChangeKind.MOVED_OUT, text="搬走")
    r = api(
        client,
        "post",
        f"/api/v1/change-reports/{moved_out.public_id}/confirm",
        {"person_id": str(world.persons["A1a"].public_id), "occurred_on": "2025-05-01"},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0] == {
        "loc": ["body", "person_id"],
        "msg": "所选人员不是该房屋的在册居民。",
        "type": "report.not_resident",
    }
    r = api(
        client,
        "post",
        f"/api/v1/change-reports/{moved_out.public_id}/confirm",
        {"person_id": str(world.persons["A1a-b1"].public_id)},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "report.date_required"
    assert Person.objects.count() == persons_before
    assert ChangeReport.objects.filter(status=ChangeStatus.PENDING).count() == 2
    assert not LifeEvent.objects.filter(change_report__isnull=False).exists()
    assert not AuditEntry.objects.filter(action="change_report.confirm").exists()
