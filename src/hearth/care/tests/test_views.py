"""The care pages driven as their users would: the overview, a worklist, recording at the door, the catalogue
and its editor, and the services on a person's page."""

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry
from hearth.care import schedule, services
from hearth.care.forms import parse_windows
from hearth.care.models import Outcome, ServiceRecord, ServiceType, ServiceTypeVersion
from hearth.core import time
from hearth.registry import services as registry_services

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    return response.content.decode()


def _listed(page: str, person) -> bool:
    return f">{person.name}</a>" in page


def _token(page: str) -> str:
    return re.search(r'name="client_token" value="([0-9a-f-]{36})"', page).group(1)


@pytest.fixture
def due(world, catalogue):
    """health_check's worklist (women 15–49: every fixture person), computed today."""
    schedule.recompute(catalogue["health_check"], as_of=time.today())
    return catalogue["health_check"]


@pytest.fixture
def household(world, catalogue):
    """The person in building A1a-b1 heads a household there, so the household visit is due for her."""
    head = world.persons["A1a-b1"]
    registry_services.household_set(
        actor=world.actor(Role.COMMUNITY_OFFICER), dwelling=world.dwellings["A1a-b1"], head=head, members={}
    )
    schedule.recompute(catalogue["household_visit"], as_of=time.today())
    return head


# --------------------------------------------------------------------------------------------- overview


def test_overview_shows_counts_per_service_with_a_stacked_chart(client, world, due):
    world.login(client, Role.COMMUNITY_OFFICER)
    response = client.get("/care/")
    assert response.status_code == 200
    page = _html(response)
    assert "服务工作清单" in page and "康检/访视" in page
    # Four women live in 祥和社区 (A1a and below): none offered the check yet.
    assert 'href="/care/health_check/?status=not_offered">4</a>' in page
    assert 'id="care-worklists-chart"' in page and '"series"' in page and "vendor/echarts.min.js" in page
    assert 'data-chart="care-worklists-chart"' in page
    assert "style=" not in page and "<script>" not in page


def test_overview_renders_in_english(client, world, due):
    world.login(client, Role.COMMUNITY_OFFICER)
    client.cookies["django_language"] = "en"
    response = client.get("/care/")
    assert response.status_code == 200
    assert '<html lang="en">' in _html(response)


def test_nav_has_the_care_menu_for_care_roles_only(client, world):
    world.login(client, Role.ASSISTANT)
    assert 'href="/care/"' in _html(client.get("/"))
    world.login(client, Role.AUDITOR)
    assert 'href="/care/"' not in _html(client.get("/"))


# --------------------------------------------------------------------------------------------- worklist


def test_worklist_filters_by_status_and_place_and_is_audited(client, world, due):
    officer = world.actor(Role.COMMUNITY_OFFICER)
    today = time.today()
    late = world.persons["A1a-b2"]
    services.record_contact(
        actor=officer, person=late, service=due, occurred_on=today - timedelta(days=400), outcome=Outcome.DONE,
        consent=True, data={"result": "未见异常"},
    )  # fmt: skip
    world.login(client, Role.COMMUNITY_OFFICER)

    page = _html(client.get("/care/health_check/"))
    mine = [p for k, p in world.persons.items() if k.startswith("A1a")]
    assert all(_listed(page, p) for p in mine) and not _listed(page, world.persons["A1b"])
    assert page.count('class="btn btn-primary btn-lg w-100"') == 4  # 记录 on every row
    assert "table-responsive-stack" in page and 'data-label="应服务日期"' in page

    overdue = _html(client.get("/care/health_check/?status=overdue"))
    assert _listed(overdue, late) and not _listed(overdue, world.persons["A1a"])
    assert "已服务" in overdue  # the last contact's outcome
    upcoming = _html(client.get("/care/health_check/?status=upcoming"))
    assert "没有需要服务的人员" in upcoming

    building = world.places["A1a-b1"]
    narrowed = _html(client.get(f"/care/health_check/?place={building.public_id}"))
    assert _listed(narrowed, world.persons["A1a-b1"]) and _listed(narrowed, world.persons["A1a-b1-u1"])
    assert not _listed(narrowed, world.persons["A1a"]) and not _listed(narrowed, late)
    assert f'<option value="{building.public_id}" selected>祥和社区 / 1号楼</option>' in narrowed
    # The status tabs keep the place; "需服务" (everything actionable) drops the status.
    assert f'href="?place={building.public_id}&amp;status=overdue"' in narrowed
    assert f'href="?place={building.public_id}"' in narrowed

    # A place outside the scope is as unknown as a missing one.
    assert client.get(f"/care/health_check/?place={world.places['B1a'].public_id}").status_code == 404
    entry = AuditEntry.objects.filter(action="care.worklist_view").order_by("-id").first()
    assert entry.row_count == 2 and entry.object_id == str(due.public_id)


def test_worklist_queries_do_not_grow_with_rows(client, world, due):
    world.login(client, Role.COMMUNITY_OFFICER)
    counts = []
    for key in ("A1a-b2", "A1a"):  # 1 row, then 4
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/care/health_check/?place={world.places[key].public_id}").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


# --------------------------------------------------------------------------------------------- recording


def test_record_at_the_door_and_a_double_submit_records_once(client, world, due):
    person = world.persons["A1a"]
    world.login(client, Role.COMMUNITY_OFFICER)
    back = "/care/health_check/?status=not_offered"
    url = f"/care/health_check/persons/{person.public_id}/record/?next={back}"
    form = client.get(url)
    assert form.status_code == 200
    page = _html(form)
    assert "btn-check" in page and "btn-lg" in page and 'name="consent"' in page
    assert 'name="data.result"' in page and 'name="data.advice"' in page
    assert f'value="{time.today().isoformat()}"' in page  # occurred_on defaults to today
    body = {
        "outcome": "done", "occurred_on": time.today().isoformat(), "consent": "on",
        "data.result": "未见异常", "data.advice": "", "note": "", "client_token": _token(page), "next": back,
    }  # fmt: skip
    first = client.post(url, body)
    assert first.status_code == 302 and first["Location"] == back
    again = client.post(url, body)
    assert again.status_code == 302
    record = ServiceRecord.objects.for_system().get(person=person, service=due)
    assert record.data == {"result": "未见异常"} and record.consent is True
    messages = _html(client.get(back))
    assert "已记录" in messages


def test_record_refusal_names_the_field_with_422(client, world, catalogue, household):
    world.login(client, Role.BUILDING_VOLUNTEER)
    url = f"/care/household_visit/persons/{household.public_id}/record/"
    page = _html(client.get(url))
    assert 'name="consent"' not in page  # the household visit asks for none
    body = {"outcome": "done", "occurred_on": time.today().isoformat(), "client_token": _token(page)}
    response = client.post(url, body)
    assert response.status_code == 422
    page = _html(response)
    assert re.search(r'data-field="data\.members_present">户内人员均仍在此居住：必填。', page)
    assert not ServiceRecord.objects.for_system().exists()
    # Answered: recorded, and the worklist row closes until the next quarter.
    body |= {"data.members_present": "true", "data.changes": "无变动", "next": "https://evil.example/"}
    done = client.post(url, body)
    assert done.status_code == 302 and done["Location"] == "/care/household_visit/"
    record = ServiceRecord.objects.for_system().get()
    assert record.data == {"members_present": True, "changes": "无变动"} and record.consent is None


def test_consent_and_date_errors_are_shown_on_their_fields(client, world, due):
    person = world.persons["A1a"]
    world.login(client, Role.ASSISTANT)
    url = f"/care/health_check/persons/{person.public_id}/record/"
    body = {
        "outcome": "done", "occurred_on": (time.today() + timedelta(days=1)).isoformat(),
        "client_token": str(uuid.uuid4()),
    }  # fmt: skip
    page = _html(client.post(url, body))
    assert 'data-field="consent"' in page and 'data-field="occurred_on"' in page


def test_declined_records_nothing_but_the_outcome(client, world, due):
    person = world.persons["A1a"]
    world.login(client, Role.COMMUNITY_OFFICER)
    url = f"/care/health_check/persons/{person.public_id}/record/"
    body = {
        "outcome": "declined", "occurred_on": time.today().isoformat(), "data.result": "未见异常",
        "data.advice": "多运动", "client_token": str(uuid.uuid4()),
    }  # fmt: skip
    assert client.post(url, body).status_code == 302
    record = ServiceRecord.objects.for_system().get()
    assert record.outcome == Outcome.DECLINED and record.data == {} and record.consent is False


def test_volunteer_sees_and_records_only_the_household_visit(client, world, catalogue, due, household):
    world.login(client, Role.BUILDING_VOLUNTEER)
    page = _html(client.get("/care/"))
    assert "入户走访（核实居住）" in page and "康检/访视" not in page
    assert client.get("/care/health_check/").status_code == 404
    assert client.get(f"/care/health_check/persons/{household.public_id}/record/").status_code == 404
    worklist = _html(client.get("/care/household_visit/"))
    assert _listed(worklist, household) and "记录" in worklist
    assert client.get(f"/care/household_visit/persons/{household.public_id}/record/").status_code == 200
    # Out of the volunteer's building: not found.
    other = world.persons["A1a-b2"]
    assert client.get(f"/care/household_visit/persons/{other.public_id}/record/").status_code == 404


# --------------------------------------------------------------------------------------------- a person


def test_person_partial_hides_clinical_results_from_a_community_officer(client, world, due, household):
    officer = world.actor(Role.COMMUNITY_OFFICER)
    person = world.persons["A1a-b1"]
    services.record_contact(
        actor=officer, person=person, service=due, outcome=Outcome.FOLLOW_UP, consent=True,
        data={"result": "需进一步检查", "advice": "复查宫颈"}, note="三个月后复查",
    )  # fmt: skip
    services.record_contact(
        actor=world.actor(Role.ASSISTANT), person=person, service=ServiceType.objects.get(code="household_visit"),
        outcome=Outcome.DONE, data={"members_present": True, "changes": "新添一口人"},
    )  # fmt: skip
    world.login(client, Role.COMMUNITY_OFFICER)
    response = client.get(f"/care/persons/{person.public_id}/services/")
    assert response.status_code == 200
    page = _html(response)
    assert "<html" not in page  # a partial for htmx
    assert "已服务，需随访" in page and "仅服务机构人员可见" in page
    assert "需进一步检查" not in page and "复查宫颈" not in page and "三个月后复查" not in page
    assert "变动说明：新添一口人" in page  # not clinical: shown
    # On-request services have no worklist: the person's page offers them (she is 18–49).
    assert f"/care/prepregnancy_check/persons/{person.public_id}/record/" in page

    # The volunteer sees the household visit only, not that a health check took place.
    world.login(client, Role.BUILDING_VOLUNTEER)
    page = _html(client.get(f"/care/persons/{person.public_id}/services/"))
    assert "入户走访（核实居住）" in page and "康检/访视" not in page
    assert AuditEntry.objects.filter(action="care.person_services_view").count() == 2


def test_person_page_loads_the_care_section_with_htmx(client, world):
    person = world.persons["A1a"]
    world.login(client, Role.COMMUNITY_OFFICER)
    page = _html(client.get(f"/persons/{person.public_id}/"))
    assert f'hx-get="/care/persons/{person.public_id}/services/"' in page and 'hx-trigger="load"' in page


def test_person_partial_is_404_without_care_or_out_of_scope(client, world):
    world.login(client, Role.COMMUNITY_OFFICER)
    assert client.get(f"/care/persons/{world.persons['B1a'].public_id}/services/").status_code == 404
    world.login(client, Role.AUDITOR)
    assert client.get(f"/care/persons/{world.persons['A1a'].public_id}/services/").status_code == 404


# --------------------------------------------------------------------------------------------- catalogue


def test_catalogue_describes_each_service_in_chinese(client, world, catalogue):
    world.login(client, Role.DISTRICT_ADMIN)
    page = _html(client.get("/care/catalogue/"))
    assert "女性，且年龄15–49周岁" in page and "每 12 个月" in page and "生育后第 3–7、28–30 天" in page
    assert "知情同意" in page and "临床" in page and "/care/catalogue/health_check/edit/" in page
    world.login(client, Role.COMMUNITY_OFFICER)
    page = _html(client.get("/care/catalogue/"))
    assert "康检/访视" in page and "/edit/" not in page and "新增服务项目" not in page


def _definition(**changes) -> dict:
    body = {
        "code": "elder_visit", "name": "老年人探访", "description": "", "condition": '{"v": 1, "age": {"min": 70}}',
        "schedule": "interval", "interval_months": "6", "event_kind": "", "event_windows": "", "lead_days": "14",
        "roles": ["community_officer", "assistant"], "facility_kind": "", "form": "", "active": "on",
        "order": "110",
    }  # fmt: skip
    return body | changes


def test_catalogue_create_then_edit_lists_the_versions(client, world, catalogue):
    world.login(client, Role.DISTRICT_ADMIN)
    assert client.get("/care/catalogue/new/").status_code == 200
    response = client.post("/care/catalogue/new/", _definition())
    assert response.status_code == 302, _html(response)
    service = ServiceType.objects.get(code="elder_visit")
    assert service.condition == {"v": 1, "age": {"min": 70}} and service.interval_months == 6
    body = _definition(name="老年人探访（半年）", version="1")
    assert client.post("/care/catalogue/elder_visit/edit/", body).status_code == 302
    page = _html(client.get("/care/catalogue/elder_visit/edit/"))
    assert 'id="versions"' in page and page.index(">2<") < page.index(">1<")
    assert "测试区卫健委管理员" in page
    assert ServiceTypeVersion.objects.filter(service=service).count() == 2


def test_catalogue_edit_with_a_stale_version_is_refused(client, world, catalogue):
    world.login(client, Role.DISTRICT_ADMIN)
    page = _html(client.get("/care/catalogue/health_check/edit/"))
    assert 'name="version" value="1"' in page
    body = _definition(name="康检/访视", condition='{"v": 1, "sex": "F"}', version="1")
    body.pop("code")
    assert client.post("/care/catalogue/health_check/edit/", body).status_code == 302
    stale = client.post("/care/catalogue/health_check/edit/", body | {"name": "康检"})
    assert stale.status_code == 422
    assert "已被他人修改" in _html(stale)
    assert ServiceType.objects.get(code="health_check").name == "康检/访视"


def test_catalogue_field_errors(client, world, catalogue):
    world.login(client, Role.DISTRICT_ADMIN)
    body = _definition(schedule="event", event_kind="childbirth", event_windows="3-7, 第28天")
    response = client.post("/care/catalogue/new/", body)
    assert response.status_code == 422
    assert re.search(r'data-field="event_windows">事件后服务时段：无法识别', _html(response))
    # The catalogue's own refusals land on their fields too.
    response = client.post("/care/catalogue/new/", _definition(condition='{"v": 1, "marital": ["20"]}'))
    assert response.status_code == 422
    assert re.search(r'data-field="condition">服务对象条件：不能按婚姻状况', _html(response))
    assert not ServiceType.objects.filter(code="elder_visit").exists()


def test_catalogue_editor_is_for_managers_only(client, world, catalogue):
    world.login(client, Role.COMMUNITY_OFFICER)
    assert client.get("/care/catalogue/new/").status_code == 404
    assert client.get("/care/catalogue/health_check/edit/").status_code == 404


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("3-7, 28-30", [[3, 7], [28, 30]]),
        ("3–7，28～30", [[3, 7], [28, 30]]),
        ("42", [[42, 42]]),
        ("", []),
    ],
)
def test_parse_windows(text, want):
    assert parse_windows(text) == want


@pytest.mark.parametrize("text", ["3-", "a-b", "3-7-9", "第3天"])
def test_parse_windows_refuses(text):
    with pytest.raises(ValueError):
        parse_windows(text)
