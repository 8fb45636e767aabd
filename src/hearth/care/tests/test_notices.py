"""Notices (通知单): who gets one, what it says (and never says), the documents recorded, scope, sent/delivered,
the combined PDF made in the background, the pages and the API."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry
from hearth.care import notices, schedule, services
from hearth.care.models import Due, Outcome, Schedule
from hearth.core import time
from hearth.core.errors import DomainError
from hearth.documents import services as documents
from hearth.documents.models import BatchStatus, Channel, DocumentBatch, DocumentStatus, IssuedDocument
from hearth.documents.tests.test_render import page_count, unicode_map
from hearth.registry.models import Person, PersonStatus

pytestmark = pytest.mark.django_db

# The four women of 祥和社区 (A1a and below); A1b, A2a and B1a lie outside a community officer's scope.
A1A = ("A1a", "A1a-b1", "A1a-b1-u1", "A1a-b2")
FORBIDDEN = (
    notices.SENSITIVE_WORDS + notices.CLINICAL_WORDS + ("已婚", "配偶", "怀孕", "避孕药", "宫内节育器")
)


@pytest.fixture
def due(world, catalogue):
    """health_check's worklist (women 15–49: every fixture person), computed today."""
    schedule.recompute(catalogue["health_check"], as_of=time.today())
    return catalogue["health_check"]


def _officer(world):
    return world.actor(Role.COMMUNITY_OFFICER)


def _names(rows) -> set[str]:
    return {r.person.name for r in rows}


def _clean(text: str) -> None:
    for word in FORBIDDEN:
        assert word not in text, f"{word!r} in a notice: {text}"


# --------------------------------------------------------------------------------------------- who gets one


def test_candidates_are_the_not_offered_and_due_persons_in_scope(world, due):
    rows = notices.candidates(_officer(world), due, as_of=time.today())
    assert _names(rows) == {f"居民{k}" for k in A1A}


def test_a_person_who_declined_gets_no_notice_until_the_next_cycle(world, due):
    actor = world.actor(Role.ASSISTANT)
    person = world.persons["A1a-b2"]
    services.record_contact(actor=actor, person=person, service=due, outcome=Outcome.DECLINED)
    rows = notices.candidates(_officer(world), due, as_of=time.today())
    assert person.name not in _names(rows)
    with pytest.raises(DomainError) as exc:
        notices.notice_sms(_officer(world), due, person)
    assert exc.value.code == "care.notice_not_due"


def test_a_person_no_longer_on_the_register_gets_no_notice_before_the_nightly_recomputation(world, due):
    person = world.persons["A1a-b1"]
    Person.objects.for_system().filter(pk=person.pk).update(status=PersonStatus.DECEASED)
    assert Due.objects.for_system().filter(person=person, service=due).exists()  # the row lags a day
    assert person.name not in _names(notices.candidates(_officer(world), due, as_of=time.today()))


def test_upcoming_rows_get_no_notice_and_rows_within_the_notice_days_do(world, due):
    today = time.today()
    Due.objects.for_system().filter(service=due, person=world.persons["A1a"]).update(
        due_on=today + timedelta(days=due.lead_days + 5), offered=True
    )
    Due.objects.for_system().filter(service=due, person=world.persons["A1a-b2"]).update(
        due_on=today + timedelta(days=due.lead_days - 1), offered=True
    )
    names = _names(notices.candidates(_officer(world), due, as_of=today))
    assert "居民A1a" not in names and "居民A1a-b2" in names


def test_a_place_narrows_the_list(world, due):
    rows = notices.candidates(_officer(world), due, as_of=time.today(), place=world.places["A1a-b1"])
    assert _names(rows) == {"居民A1a-b1", "居民A1a-b1-u1"}


# --------------------------------------------------------------------------------------------- what it says


def _context_for(world, service, person_key="A1a"):
    person = Person.objects.select_related("dwelling").get(pk=world.persons[person_key].pk)
    row = Due(service=service, person=person, place_path=person.place_path, dwelling=person.dwelling)
    return notices.notice_context(person, row, service, as_of=time.today())


def test_every_service_with_a_worklist_gets_a_notice_without_clinical_or_marital_words(world, catalogue):
    from django.template.loader import render_to_string

    listed = [s for s in catalogue.values() if s.schedule != Schedule.ON_REQUEST]
    assert {"contraceptive_counselling", "postnatal_visit", "health_check"} <= {s.code for s in listed}
    for service in listed:
        context = _context_for(world, service)
        html = render_to_string(notices.TEMPLATE, context)
        _clean(html)
        _clean(notices.sms_text(context))
        _clean(notices.summary(context))
        assert "免费" in html and "自愿" in notices.sms_text(context) and "尊重您的选择" in html
    assert notices.public_name(catalogue["contraceptive_counselling"]) == "家庭健康服务"
    assert notices.public_name(catalogue["postnatal_visit"]) == "家庭健康服务"
    assert notices.public_name(catalogue["health_check"]) == "康检/访视"


def test_the_notice_never_carries_what_was_recorded(world, due):
    clinic = world.actor(Role.COMMUNITY_OFFICER)
    person = world.persons["A1a"]
    form = {f["name"]: f for f in due.form}
    data = {}
    if "result" in form:
        choices = form["result"].get("choices") or ["异常"]
        data["result"] = choices[-1]
    if "advice" in form:
        data["advice"] = "建议复查血压"
    services.record_contact(
        actor=clinic, person=person, service=due, outcome=Outcome.FOLLOW_UP, data=data, consent=True,
        occurred_on=time.today() - timedelta(days=400),
    )  # fmt: skip
    notice = notices.notice_pdf(_officer(world), due, person)
    points = unicode_map(notice.pdf)
    assert ord("血") not in points and ord("复") not in points


def test_the_notice_says_name_address_service_when_where_and_voluntary(world, due):
    context = _context_for(world, due)
    assert context["name"] == "居民A1a"
    assert context["address"]
    assert context["service_name"] == "康检/访视"
    assert context["when"] == "即日起"
    # The station of kind "station" serves 祥和社区.
    assert context["where"] == "大学路社区卫生服务站"
    assert context["community"] == "祥和社区"
    assert "免费" in context["voluntary"] and "本人决定" in context["voluntary"]


def test_a_later_due_date_is_printed_as_a_date(world, due):
    person = Person.objects.select_related("dwelling").get(pk=world.persons["A1a"].pk)
    today = time.today()
    row = Due(service=due, person=person, place_path=person.place_path, due_on=today + timedelta(days=10))
    context = notices.notice_context(person, row, due, as_of=today)
    later = today + timedelta(days=10)
    assert context["when"] == f"{later.year}年{later.month}月{later.day}日起"


def test_the_sms_is_at_most_70_characters_even_with_long_names(world, due):
    context = _context_for(world, due)
    text = notices.sms_text(context)
    assert len(text) <= 70
    assert (
        text == "【祥和社区】居民A1a您好：即日起可到大学路社区卫生服务站参加免费康检/访视，自愿参加，可谢绝。"
    )
    assert notices._honorific(Person(name="王秀英", sex="F")) == "王女士"
    long = {**context, "community": "很长很长的名字" * 4, "where_short": "非常非常长的服务机构名称" * 3,
            "service_name": "一个名称很长的服务项目" * 3}  # fmt: skip
    assert len(notices.sms_text(long)) <= 70


def test_the_notice_and_the_sms_are_in_chinese_when_the_officer_works_in_english(world, due):
    from django.utils import translation

    with translation.override("en"):
        context = _context_for(world, due)
        text = notices.sms_text(context)
        points = unicode_map(notices.notice_pdf(_officer(world), due, world.persons["A1a"]).pdf)
    assert context["when"] == "即日起" and "本人决定" in context["voluntary"]
    assert text.startswith("【祥和社区】居民A1a您好") and "自愿参加" in text
    assert {ord(c) for c in "通知单免费本人决定尊重"} <= points  # the sheet's fixed wording, in Chinese


# --------------------------------------------------------------------------------------------- one notice


def test_one_notice_is_a_pdf_recorded_once_per_cycle(world, due):
    officer = _officer(world)
    person = world.persons["A1a"]
    first = notices.notice_pdf(officer, due, person)
    assert first.pdf.startswith(b"%PDF") and page_count(first.pdf) == 1
    assert first.created
    doc = first.document
    assert (doc.channel, doc.status, doc.topic) == (Channel.PRINT, DocumentStatus.ISSUED, "health_check")
    assert doc.sha256 == documents.sha256(first.pdf)
    assert doc.related_type == "care.due" and doc.related_id == "health_check:now"
    _clean(doc.body_text + doc.title)
    again = notices.notice_pdf(officer, due, person)
    assert not again.created and again.document.pk == doc.pk
    assert IssuedDocument.objects.for_system().filter(person=person).count() == 1
    assert AuditEntry.objects.filter(action="care.notice_print").count() == 2
    assert AuditEntry.objects.filter(action="documents.issue").count() == 1


def test_issuing_needs_care_record_and_the_services_worklist(world, due):
    person = world.persons["A1a"]
    for role in (Role.DISTRICT_ADMIN, Role.DATA_CLERK, Role.BUILDING_VOLUNTEER):
        with pytest.raises(DomainError) as exc:
            notices.notice_pdf(world.actor(role), due, person)
        assert exc.value.code == "permission.denied"


def test_an_sms_is_recorded_as_issued_and_needs_a_phone(world, due):
    officer = _officer(world)
    person = world.persons["A1a"]
    with pytest.raises(DomainError) as exc:
        notices.notice_sms(officer, due, person)
    assert exc.value.code == "care.notice_no_phone"
    Person.objects.for_system().filter(pk=person.pk).update(phone="13800138000")
    person.refresh_from_db()
    doc, created = notices.notice_sms(officer, due, person)
    assert created and doc.channel == Channel.SMS and doc.status == DocumentStatus.ISSUED
    assert len(doc.body_text) <= 70 and "13800138000" not in doc.body_text
    same, created = notices.notice_sms(officer, due, person)
    assert not created and same.pk == doc.pk


# --------------------------------------------------------------------------------------------- status


def test_sent_then_delivered_and_repeats_change_nothing(world, due):
    officer = _officer(world)
    doc = notices.notice_pdf(officer, due, world.persons["A1a"]).document
    doc, changed = documents.mark_sent(actor=officer, document=doc)
    assert changed and doc.status == DocumentStatus.SENT and doc.sent_at
    doc, changed = documents.mark_sent(actor=officer, document=doc)
    assert not changed
    doc, changed = documents.mark_delivered(actor=officer, document=doc, note="本人签收")
    assert (
        changed
        and doc.status == DocumentStatus.DELIVERED
        and doc.delivered_at
        and doc.status_note == "本人签收"
    )
    with pytest.raises(DomainError) as exc:
        documents.mark_failed(actor=officer, document=doc)
    assert exc.value.code == "documents.delivered"
    assert [
        e.action
        for e in AuditEntry.objects.filter(action__in=("documents.sent", "documents.delivered")).order_by(
            "id"
        )
    ] == [
        "documents.sent",
        "documents.delivered",
    ]
    # Printing again after delivery is a new notice.
    assert notices.notice_pdf(officer, due, world.persons["A1a"]).created


def test_not_reached_may_be_sent_again_and_delivered_directly(world, due):
    officer = _officer(world)
    doc = notices.notice_pdf(officer, due, world.persons["A1a"]).document
    doc, _ = documents.mark_failed(actor=officer, document=doc, note="电话空号")
    assert doc.status == DocumentStatus.FAILED and doc.failed_at
    doc, _ = documents.mark_sent(actor=officer, document=doc)
    assert doc.status == DocumentStatus.SENT
    other = notices.notice_pdf(officer, due, world.persons["A1a-b2"]).document
    other, _ = documents.mark_delivered(actor=officer, document=other)
    assert other.status == DocumentStatus.DELIVERED and other.sent_at == other.delivered_at


def test_marking_is_refused_outside_the_scope_and_without_care_record(world, due):
    doc = notices.notice_pdf(_officer(world), due, world.persons["A1a"]).document
    for role in (Role.DATA_CLERK, Role.BUILDING_VOLUNTEER, Role.DISTRICT_ADMIN):
        with pytest.raises(DomainError):
            documents.mark_sent(actor=world.actor(role), document=doc)
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.ISSUED


# --------------------------------------------------------------------------------------------- scope


def test_notices_are_seen_only_by_those_who_see_the_service(world, due):
    officer = _officer(world)
    notices.notice_pdf(officer, due, world.persons["A1a-b1"])
    seen = lambda role: IssuedDocument.objects.visible_to(world.actor(role)).count()  # noqa: E731
    assert seen(Role.COMMUNITY_OFFICER) == 1 and seen(Role.SUBDISTRICT_OFFICER) == 1
    # The volunteer of building 1 covers the person but not the health check: the notice would tell her.
    assert seen(Role.BUILDING_VOLUNTEER) == 0
    assert seen(Role.DATA_CLERK) == 0 and seen(Role.AUDITOR) == 0


def test_care_registers_who_sees_notices_and_a_kind_without_a_policy_is_seen_by_nobody(
    world, due, monkeypatch
):
    from hearth.documents import policies
    from hearth.documents.models import DocumentKind

    assert DocumentKind.NOTICE in policies.registered()
    notices.notice_pdf(_officer(world), due, world.persons["A1a"])
    monkeypatch.setattr(policies, "_policies", {})
    assert IssuedDocument.objects.visible_to(_officer(world)).count() == 0


def test_an_officer_of_another_community_cannot_print_or_read_the_notice(client, world, due):
    person = world.persons["A1b"]  # 学苑社区: outside 祥和社区
    world.login(client, Role.COMMUNITY_OFFICER)
    assert client.get(f"/care/health_check/notices/persons/{person.public_id}/pdf/").status_code == 404
    assert client.get(f"/api/v1/care/notices/health_check/persons/{person.public_id}/pdf").status_code == 404
    doc = notices.notice_pdf(world.actor(Role.SUBDISTRICT_OFFICER), due, person).document
    assert client.get(f"/api/v1/documents/{doc.public_id}").status_code == 404
    response = client.post(
        f"/api/v1/documents/{doc.public_id}/delivered", "{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert (
        client.post(f"/care/notices/documents/{doc.public_id}/mark/", {"status": "sent"}).status_code == 404
    )


# --------------------------------------------------------------------------------------------- batches


def _run_batch(world, due, django_capture_on_commit_callbacks, **kw):
    with django_capture_on_commit_callbacks(execute=True):
        batch, started = notices.notices_batch_start(_officer(world), due, **kw)
    batch.refresh_from_db()
    return batch, started


def test_a_batch_makes_one_pdf_with_a_page_per_person_and_records_each_notice(
    world, due, django_capture_on_commit_callbacks
):
    batch, started = _run_batch(world, due, django_capture_on_commit_callbacks)
    assert started and batch.status == BatchStatus.DONE, batch.message
    assert batch.count == 4 and batch.progress_done == 4 and batch.percent == 100
    pdf = documents.batch_read(actor=_officer(world), batch=batch)
    assert pdf.startswith(b"%PDF") and page_count(pdf) == 4
    assert batch.sha256 == documents.sha256(pdf) and batch.size == len(pdf)
    docs = IssuedDocument.objects.for_system().filter(batch=batch)
    assert docs.count() == 4
    assert {d.sha256 for d in docs} == {batch.sha256}
    assert {d.person.name for d in docs} == {f"居民{k}" for k in A1A}
    assert all(d.status == DocumentStatus.ISSUED and d.channel == Channel.PRINT for d in docs)
    assert AuditEntry.objects.filter(action="documents.issue_many", row_count=4).exists()
    assert AuditEntry.objects.filter(action="documents.batch_download").exists()


def test_a_second_batch_leaves_out_those_notified_unless_asked(
    world, due, django_capture_on_commit_callbacks
):
    notices.notice_pdf(_officer(world), due, world.persons["A1a"])
    batch, _ = _run_batch(world, due, django_capture_on_commit_callbacks)
    assert batch.count == 3
    with pytest.raises(DomainError) as exc:
        notices.notices_batch_start(_officer(world), due)
    assert exc.value.code == "care.notices_none"
    again, _ = _run_batch(world, due, django_capture_on_commit_callbacks, include_notified=True)
    assert again.status == BatchStatus.DONE and again.count == 4
    # The open notices were reused (now in the new PDF), not issued twice.
    assert IssuedDocument.objects.for_system().filter(kind="notice").count() == 4
    assert IssuedDocument.objects.for_system().filter(batch=again).count() == 4


def test_a_batch_respects_the_limit_and_the_place(world, due, django_capture_on_commit_callbacks):
    batch, _ = _run_batch(
        world, due, django_capture_on_commit_callbacks, place=world.places["A1a-b1"], limit=1
    )
    assert batch.count == 1 and batch.place_path == world.places["A1a-b1"].path
    with pytest.raises(DomainError) as exc:
        notices.notices_batch_start(_officer(world), due, limit=1001)
    assert exc.value.code == "care.notices_limit"


def test_a_waiting_batch_is_returned_for_a_double_click_and_runs_once(world, due):
    officer = _officer(world)
    batch, started = notices.notices_batch_start(officer, due)  # on_commit not run: still queued
    assert started and batch.status == BatchStatus.QUEUED
    same, started = notices.notices_batch_start(officer, due)
    assert not started and same.pk == batch.pk
    assert notices.notices_batch_run(batch.pk) == "done"
    assert notices.notices_batch_run(batch.pk) == "skipped"
    assert IssuedDocument.objects.for_system().count() == 4


def test_a_batch_of_a_revoked_grant_fails(world, due):
    batch, _ = notices.notices_batch_start(_officer(world), due)
    type(world.grants[Role.COMMUNITY_OFFICER]).objects.filter(
        pk=world.grants[Role.COMMUNITY_OFFICER].pk
    ).update(revoked_at=time.now())
    assert notices.notices_batch_run(batch.pk) == "failed"
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED and "撤销" in batch.message
    assert not IssuedDocument.objects.for_system().exists()


# --------------------------------------------------------------------------------------------- pages


def test_the_notices_page_lists_persons_with_the_generate_button(client, world, due):
    world.login(client, Role.COMMUNITY_OFFICER)
    page = client.get("/care/health_check/notices/").content.decode()
    for key in A1A:
        assert f">居民{key}</a>" in page
    assert "居民A1b" not in page
    assert "生成通知单" in page and "（4 份）" in page
    assert "本系统不直接发送短信" in page
    assert "style=" not in page and "<script>" not in page


def test_the_worklist_links_to_the_notices(client, world, due):
    world.login(client, Role.COMMUNITY_OFFICER)
    page = client.get("/care/health_check/").content.decode()
    assert 'href="/care/health_check/notices/"' in page


def test_the_notices_page_asks_the_same_queries_for_one_row_and_many(client, world, due):
    world.login(client, Role.COMMUNITY_OFFICER)
    building, community = world.places["A1a-b2"].public_id, world.places["A1a"].public_id
    client.get(f"/care/health_check/notices/?place={building}")  # warm caches (session, permissions)
    with CaptureQueriesContext(connection) as one:
        page = client.get(f"/care/health_check/notices/?place={building}").content.decode()
    assert page.count(">居民") == 1
    for key in A1A:
        notices.notice_pdf(_officer(world), due, world.persons[key])
    with CaptureQueriesContext(connection) as many:
        page = client.get(f"/care/health_check/notices/?place={community}").content.decode()
    assert page.count(">居民") == 4
    assert len(one) == len(many)


def test_generate_then_follow_the_progress_and_download(
    client, world, due, django_capture_on_commit_callbacks
):
    world.login(client, Role.COMMUNITY_OFFICER)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/care/health_check/notices/generate/", {})
    assert response.status_code == 302
    batch = DocumentBatch.objects.for_system().get()
    assert response["Location"] == f"/care/notices/batches/{batch.public_id}/"
    page = client.get(response["Location"]).content.decode()
    assert "已生成 4 份通知单" in page and f"/care/notices/batches/{batch.public_id}/pdf/" in page
    partial = client.get(response["Location"], headers={"HX-Request": "true"})
    assert partial["HX-Refresh"] == "true" and "<html" not in partial.content.decode()
    pdf = client.get(f"/care/notices/batches/{batch.public_id}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and page_count(pdf.content) == 4


def test_a_running_batch_page_polls_its_progress(client, world, due):
    world.login(client, Role.COMMUNITY_OFFICER)
    batch, _ = notices.notices_batch_start(_officer(world), due)
    documents.batch_progress(batch, stage="layout", done=2)
    page = client.get(f"/care/notices/batches/{batch.public_id}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and "<progress" in page and 'value="50"' in page
    assert client.get(f"/care/notices/batches/{batch.public_id}/pdf/").status_code == 404


def test_generate_with_nobody_left_says_so(client, world, due, django_capture_on_commit_callbacks):
    world.login(client, Role.COMMUNITY_OFFICER)
    for key in A1A:
        notices.notice_pdf(_officer(world), due, world.persons[key])
    response = client.post("/care/health_check/notices/generate/", {}, follow=True)
    assert "目前没有需要发通知单的人员" in response.content.decode()


def test_sms_and_marking_from_the_page(client, world, due):
    person = world.persons["A1a"]
    Person.objects.for_system().filter(pk=person.pk).update(phone="13800138000")
    world.login(client, Role.ASSISTANT)
    response = client.post(f"/care/health_check/notices/persons/{person.public_id}/sms/", follow=True)
    page = response.content.decode()
    assert "已生成短信" in page and "已发出" in page
    doc = IssuedDocument.objects.for_system().get(channel=Channel.SMS)
    here = "/care/health_check/notices/"
    response = client.post(f"/care/notices/documents/{doc.public_id}/mark/", {"status": "sent", "next": here})
    assert response.status_code == 302 and response["Location"] == here
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.SENT
    client.post(f"/care/notices/documents/{doc.public_id}/mark/", {"status": "delivered"})
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.DELIVERED
    # An outside `next` is not followed.
    response = client.post(
        f"/care/notices/documents/{doc.public_id}/mark/",
        {"status": "delivered", "next": "https://evil.example/"},
    )
    assert response["Location"] == here


def test_one_notice_pdf_from_the_page(client, world, due):
    world.login(client, Role.COMMUNITY_OFFICER)
    person = world.persons["A1a"]
    response = client.get(f"/care/health_check/notices/persons/{person.public_id}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert IssuedDocument.objects.for_system().filter(person=person, channel=Channel.PRINT).exists()


# --------------------------------------------------------------------------------------------- API


def test_api_candidates_batch_and_documents(client, world, due, django_capture_on_commit_callbacks):
    world.login(client, Role.COMMUNITY_OFFICER)
    listed = client.get("/api/v1/care/notices/health_check?limit=2").json()
    assert listed["count"] == 4 and len(listed["items"]) == 2
    assert listed["items"][0]["printed"] is None and listed["items"][0]["status"] == "not_offered"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/care/notices/health_check/batches", "{}", content_type="application/json"
        )
    assert response.status_code == 202
    batch_id = response.json()["id"]
    batch = client.get(f"/api/v1/documents/batches/{batch_id}").json()
    assert batch["status"] == "done" and batch["count"] == 4 and batch["pdf_url"]
    pdf = client.get(batch["pdf_url"])
    assert pdf["Content-Type"] == "application/pdf" and page_count(pdf.content) == 4
    listed = client.get("/api/v1/care/notices/health_check").json()
    assert all(i["printed"]["status"] == "issued" for i in listed["items"])
    docs = client.get("/api/v1/documents?topic=health_check&channel=print").json()
    assert docs["count"] == 4 and {d["batch_id"] for d in docs["items"]} == {batch_id}
    doc_id = docs["items"][0]["id"]
    body = json.dumps({"note": "本人签收"})
    response = client.post(f"/api/v1/documents/{doc_id}/delivered", body, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "delivered"
    response = client.post(f"/api/v1/documents/{doc_id}/failed", "{}", content_type="application/json")
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "documents.delivered"
    # Nobody left who has not had this cycle's notice.
    response = client.post("/api/v1/care/notices/health_check/batches", "{}", content_type="application/json")
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "care.notices_none"


def test_api_one_pdf_and_an_sms(client, world, due):
    person = world.persons["A1a"]
    world.login(client, Role.ASSISTANT)
    response = client.get(f"/api/v1/care/notices/health_check/persons/{person.public_id}/pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    response = client.post(f"/api/v1/care/notices/health_check/persons/{person.public_id}/sms")
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "care.notice_no_phone"
    Person.objects.for_system().filter(pk=person.pk).update(phone="13800138000")
    response = client.post(f"/api/v1/care/notices/health_check/persons/{person.public_id}/sms")
    assert response.status_code == 201
    sms = response.json()
    assert sms["channel"] == "sms" and sms["status"] == "issued" and len(sms["body_text"]) <= 70
    assert client.post(f"/api/v1/care/notices/health_check/persons/{person.public_id}/sms").status_code == 200
    response = client.post(f"/api/v1/documents/{sms['id']}/sent", "{}", content_type="application/json")
    assert response.json()["status"] == "sent" and response.json()["sent_at"]


def test_api_rejects_bad_filters_with_the_field_named(client, world, due):
    world.login(client, Role.COMMUNITY_OFFICER)
    response = client.get("/api/v1/documents?status=lost")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "status"]
    response = client.post(
        "/api/v1/care/notices/health_check/batches",
        json.dumps({"limit": 5000}),
        content_type="application/json",
    )
    assert response.status_code == 422


def test_the_page_and_the_pdf_hold_no_clinical_words_for_a_sensitive_service(world, catalogue):
    service = catalogue["postnatal_visit"]
    person = world.persons["A1a"]
    Due.objects.create(service=service, person=person, place_path=person.place_path, due_on=time.today(),
                       window_end=time.today() + timedelta(days=4))  # fmt: skip
    notice = notices.notice_pdf(_officer(world), service, person)
    points = unicode_map(notice.pdf)
    for char in "孕产婚育":
        assert ord(char) not in points
    assert re.search("家庭健康服务", notice.document.title)
