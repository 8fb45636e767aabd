"""The care API: the catalogue (read, create, change, history), worklists and summaries in scope, recording
contacts once, and clinical values hidden from those without the clinical permission."""

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry
from hearth.care import catalogue as cat
from hearth.care import services
from hearth.care.models import ServiceRecord, ServiceType
from hearth.care.schedule import recompute

pytestmark = pytest.mark.django_db

BASE = "/api/v1/care"


def _send(client, method: str, url: str, body: dict):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def _errors(response) -> dict[str, str]:
    """{field: error type} from a 422 body {"detail": [{"loc": ["body", field], "msg", "type"}]}."""
    assert response.status_code == 422, response.content
    return {e["loc"][-1]: e["type"] for e in response.json()["detail"]}


def _msg(response, field: str) -> str:
    return next(e["msg"] for e in response.json()["detail"] if e["loc"][-1] == field)


def _definition(**over) -> dict:
    base = {
        "name": "测试服务", "condition": {"v": 1, "sex": "F"}, "schedule": "interval", "interval_months": 6,
        "roles": [Role.COMMUNITY_OFFICER], "form": [{"name": "ok", "label": "完成", "type": "bool"}],
    }  # fmt: skip
    return base | over


# --------------------------------------------------------------------------------------------- catalogue


def test_catalogue_list_and_get(world, catalogue, login, client):
    login(world, Role.COMMUNITY_OFFICER)
    items = client.get(f"{BASE}/services").json()
    assert [i["code"] for i in items] == [s.code for s in ServiceType.objects.order_by("order", "code")]
    check = next(i for i in items if i["code"] == "health_check")
    assert check["condition"] == catalogue["health_check"].condition
    assert "女" in check["condition_text"] and "15" in check["condition_text"]
    assert check["clinical"] and check["consent_required"] and check["version"] == 1
    assert check["form"][0]["name"] == "result"
    one = client.get(f"{BASE}/services/household_visit").json()
    assert one["roles"] == sorted([Role.BUILDING_VOLUNTEER, Role.ASSISTANT]) and one["interval_months"] == 3
    assert client.get(f"{BASE}/services/no_such_service").status_code == 404


def test_catalogue_create_update_and_versions(world, catalogue, login, client):
    login(world, Role.DISTRICT_ADMIN)
    r = _send(client, "post", f"{BASE}/services", {"code": "api_service", **_definition()})
    assert r.status_code == 201, r.content
    assert r.json()["version"] == 1 and r.json()["condition_text"]
    r = _send(client, "put", f"{BASE}/services/api_service", _definition(interval_months=12) | {"version": 1})
    assert r.status_code == 200, r.content
    assert r.json()["version"] == 2 and r.json()["interval_months"] == 12
    # Another administrator's edit from version 1: stale.
    r = _send(client, "put", f"{BASE}/services/api_service", _definition() | {"version": 1})
    assert _errors(r) == {"version": "care.stale"}
    assert _msg(r, "version").startswith("版本：")
    history = client.get(f"{BASE}/services/api_service/versions").json()
    assert [v["version"] for v in history] == [2, 1]
    assert history[0]["snapshot"]["interval_months"] == 12 and history[1]["snapshot"]["interval_months"] == 6
    assert history[0]["changed_by"]
    assert ServiceType.objects.get(code="api_service").interval_months == 12
    assert _send(client, "put", f"{BASE}/services/nothing", _definition() | {"version": 1}).status_code == 404


def test_catalogue_bad_definitions_name_their_fields(world, catalogue, login, client):
    login(world, Role.DISTRICT_ADMIN)
    url = f"{BASE}/services"
    r = _send(client, "post", url, {"code": "marital", **_definition(condition={"v": 1, "marital": ["20"]})})
    assert _errors(r) == {"condition": "care.condition_marital"}
    assert _msg(r, "condition").startswith("服务对象条件：")
    r = _send(client, "post", url, {"code": "bad_form", **_definition(form=[{"name": "x", "label": "X"}])})
    assert _errors(r) == {"form": "care.form"}
    assert _msg(r, "form").startswith("记录项目：第1项")
    r = _send(client, "post", url, {"code": "health_check", **_definition()})
    assert _errors(r) == {"code": "care.code_taken"}
    version = catalogue["health_check"].version
    r = _send(client, "put", f"{url}/health_check", _definition(form="x") | {"version": version})
    assert _errors(r) == {"form": "care.form"}
    assert not ServiceType.objects.filter(code__in=["marital", "bad_form"]).exists()


def test_only_the_catalogue_managers_change_it(world, catalogue, login, client):
    login(world, Role.COMMUNITY_OFFICER)
    assert _send(client, "post", f"{BASE}/services", {"code": "x1", **_definition()}).status_code == 404
    body = _definition() | {"version": 1}
    assert _send(client, "put", f"{BASE}/services/health_check", body).status_code == 404
    assert not ServiceType.objects.filter(code="x1").exists()


# --------------------------------------------------------------------------------------------- worklists


def _rows(client, code: str, query: str = "") -> dict:
    r = client.get(f"{BASE}/services/{code}/worklist?{query}")
    assert r.status_code == 200, r.content
    return r.json()


def test_worklist_scope_status_and_place(world, catalogue, login, client):
    check = catalogue["health_check"]
    recompute(check)
    login(world, Role.COMMUNITY_OFFICER)
    mine = {world.persons[k].public_id for k in ("A1a", "A1a-b1", "A1a-b1-u1", "A1a-b2")}
    page = _rows(client, "health_check")
    assert page["count"] == 4 and {uuid.UUID(i["person_id"]) for i in page["items"]} == mine
    assert {i["status"] for i in page["items"]} == {"not_offered"}
    assert {i["due_on"] for i in page["items"]} == {None}  # due now: never offered
    row = page["items"][0]
    assert row["name"].startswith("居民") and row["sex"] == "F" and row["age"] >= 15 and row["address"]
    assert AuditEntry.objects.filter(action="care.worklist_view").latest("id").row_count == 4

    person = world.persons["A1a-b2"]
    r = _send(client, "post", f"{BASE}/records", {
        "person_id": str(person.public_id), "service": "health_check", "outcome": "done", "consent": True,
        "data": {"result": "未见异常"},
    })  # fmt: skip
    assert r.status_code == 201, r.content
    assert _rows(client, "health_check", "status=not_offered")["count"] == 3
    upcoming = _rows(client, "health_check", "status=upcoming")
    assert [i["person_id"] for i in upcoming["items"]] == [str(person.public_id)]
    assert upcoming["items"][0]["last_outcome"] == "done" and upcoming["items"][0]["last_on"]

    building = world.places["A1a-b1"]
    assert _rows(client, "health_check", f"place={building.public_id}")["count"] == 2
    assert _rows(client, "health_check", "limit=1&offset=1")["count"] == 4
    assert len(_rows(client, "health_check", "limit=1&offset=1")["items"]) == 1

    # A sub-district officer sees the sibling community's rows too; another district's never.
    login(world, Role.SUBDISTRICT_OFFICER)
    ids = {i["person_id"] for i in _rows(client, "health_check")["items"]}
    assert str(world.persons["A1b"].public_id) in ids and str(world.persons["B1a"].public_id) not in ids


def test_worklist_bad_input_names_the_field(world, catalogue, login, client):
    recompute(catalogue["health_check"])
    login(world, Role.COMMUNITY_OFFICER)
    url = f"{BASE}/services/health_check/worklist"
    r = client.get(f"{url}?status=late")
    assert _errors(r) == {"status": "care.status"} and _msg(r, "status").startswith("状态：")
    for bad in ("2025-02-30", "yesterday", "1800-01-01"):
        r = client.get(f"{url}?as_of={bad}")
        assert set(_errors(r)) == {"as_of"} and "统计日期" in _msg(r, "as_of"), bad
    sibling = world.places["A1b"]  # a real place, outside the officer's community
    for bad in ("not-a-uuid", str(uuid.uuid4()), str(sibling.public_id)):
        r = client.get(f"{url}?place={bad}")
        assert _errors(r) == {"place": "care.place"} and _msg(r, "place").startswith("地区："), bad
    assert client.get(f"{BASE}/summary?as_of=2025-13-01").status_code == 422


def test_worklist_only_for_the_services_of_the_role(world, catalogue, login, client):
    recompute(catalogue["household_visit"])
    login(world, Role.BUILDING_VOLUNTEER)
    assert client.get(f"{BASE}/services/health_check/worklist").status_code == 404
    assert client.get(f"{BASE}/services/household_visit/worklist").status_code == 200
    assert client.get(f"{BASE}/services/no_such/worklist").status_code == 404
    # The volunteer does not see persons in full: an age band, not the age.
    for row in _rows(client, "household_visit")["items"]:
        assert row["age"] is None and row["age_band"]


def test_worklist_queries_do_not_grow_with_rows(world, catalogue, login, client):
    recompute(catalogue["health_check"])
    login(world, Role.SUBDISTRICT_OFFICER)
    url = f"{BASE}/services/health_check/worklist"
    client.get(url)  # warm the session and permission caches

    def queries(query: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{url}?{query}").status_code == 200
        return len(ctx.captured_queries)

    assert queries("limit=1") == queries("limit=50")


def test_summary_counts(world, catalogue, login, client):
    recompute(catalogue["health_check"])
    recompute(catalogue["household_visit"])
    login(world, Role.COMMUNITY_OFFICER)
    summary = client.get(f"{BASE}/summary").json()
    by_code = {i["code"]: i for i in summary["items"]}
    expected = {s.code for s in services.services_for(world.actor(Role.COMMUNITY_OFFICER))}
    assert set(by_code) == expected
    assert by_code["health_check"]["counts"] == {"not_offered": 4, "overdue": 0, "due": 0, "upcoming": 0}
    assert by_code["health_check"]["actionable"] == 4
    building = world.places["A1a-b2"]
    scoped = client.get(f"{BASE}/summary?place={building.public_id}").json()
    assert {i["code"]: i for i in scoped["items"]}["health_check"]["counts"]["not_offered"] == 1
    login(world, Role.BUILDING_VOLUNTEER)
    assert [i["code"] for i in client.get(f"{BASE}/summary").json()["items"]] == ["household_visit"]


# --------------------------------------------------------------------------------------------- records


def _record(client, **body):
    return _send(client, "post", f"{BASE}/records", body)


def test_record_once_per_token_and_per_day(world, catalogue, login, client):
    login(world, Role.COMMUNITY_OFFICER)
    person = str(world.persons["A1a"].public_id)
    token = str(uuid.uuid4())
    body = {
        "person_id": person,
        "service": "childcare_guidance",
        "outcome": "done",
        "data": {"topics": "喂养"},
    }
    first = _record(client, **body, client_token=token)
    assert first.status_code == 201, first.content
    again = _record(client, **body, client_token=token)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert ServiceRecord.objects.for_system().count() == 1
    # No token: the same person, service and day is the same visit.
    third = _record(client, **body)
    assert third.status_code == 200 and third.json()["id"] == first.json()["id"]
    assert ServiceRecord.objects.for_system().count() == 1
    assert AuditEntry.objects.filter(action="care.record").count() == 1
    assert first.json()["data"] == {"topics": "喂养"} and not first.json()["clinical_hidden"]


def test_record_refusals(world, catalogue, login, client):
    login(world, Role.COMMUNITY_OFFICER)
    person = str(world.persons["A1a"].public_id)
    r = _record(client, person_id=person, service="health_check", outcome="done", data={"result": "未见异常"})
    assert _errors(r) == {"consent": "care.consent"} and _msg(r, "consent").startswith("知情同意：")
    r = _record(client, person_id=person, service="health_check", outcome="maybe")
    assert _errors(r) == {"outcome": "care.outcome"}
    assert not ServiceRecord.objects.for_system().exists()
    # A person in another community, a person unknown, a service unknown: not found.
    other = str(world.persons["A1b"].public_id)
    assert _record(client, person_id=other, service="childcare_guidance", outcome="done").status_code == 404
    unknown = str(uuid.uuid4())
    assert _record(client, person_id=unknown, service="childcare_guidance", outcome="done").status_code == 404
    assert _record(client, person_id=person, service="nothing", outcome="done").status_code == 404


def test_volunteer_records_only_the_household_visit(world, catalogue, login, client):
    login(world, Role.BUILDING_VOLUNTEER)
    person = str(world.persons["A1a-b1"].public_id)
    r = _record(client, person_id=person, service="household_visit", outcome="done",
                data={"members_present": True})  # fmt: skip
    assert r.status_code == 201, r.content
    r = _record(client, person_id=person, service="health_check", outcome="done", consent=True,
                data={"result": "未见异常"})  # fmt: skip
    assert r.status_code == 404
    assert ServiceRecord.objects.for_system().count() == 1


def test_clinical_values_hidden_from_a_community_officer(world, catalogue, login, client):
    """Clinic staff reach no persons over the API yet (a facility has no enrolments, so `for_facility` is
    empty): what they would see is checked on `services.record_view` with their actor."""
    login(world, Role.COMMUNITY_OFFICER)
    person = world.persons["A1a"]
    r = _record(client, person_id=str(person.public_id), service="health_check", outcome="follow_up",
                consent=True, data={"result": "需进一步检查", "advice": "复查"}, note="下周复查")  # fmt: skip
    assert r.status_code == 201, r.content
    assert r.json()["data"] is None and r.json()["clinical_hidden"] and r.json()["note"] == ""
    _record(client, person_id=str(person.public_id), service="childcare_guidance", outcome="done",
            data={"topics": "睡眠"})  # fmt: skip
    rows = {x["service"]: x for x in client.get(f"{BASE}/persons/{person.public_id}/records").json()}
    assert rows["health_check"]["data"] is None and rows["health_check"]["clinical_hidden"]
    assert rows["health_check"]["outcome"] == "follow_up"
    assert "需进一步检查" not in json.dumps(rows, ensure_ascii=False)
    assert rows["childcare_guidance"]["data"] == {"topics": "睡眠"}
    assert AuditEntry.objects.filter(action="care.records_view").latest("id").row_count == 2

    record = ServiceRecord.objects.for_system().get(service__code="health_check")
    clinic = world.actor(Role.CLINIC_STAFF)
    assert services.record_view(clinic, record)["data"] == {"result": "需进一步检查", "advice": "复查"}
    login(world, Role.CLINIC_STAFF)
    assert client.get(f"{BASE}/persons/{person.public_id}/records").status_code == 404


def test_person_records_out_of_scope_is_404(world, catalogue, login, client):
    login(world, Role.COMMUNITY_OFFICER)
    assert client.get(f"{BASE}/persons/{world.persons['B1a'].public_id}/records").status_code == 404
    assert client.get(f"{BASE}/persons/{uuid.uuid4()}/records").status_code == 404
    login(world, Role.AUDITOR)
    assert client.get(f"{BASE}/persons/{world.persons['A1a'].public_id}/records").status_code == 404
    assert client.get(f"{BASE}/services").status_code == 404


def test_shipped_snapshot_round_trips_through_the_api(world, catalogue, login, client):
    """What GET returns can be PUT back unchanged (plus the version): the API's shapes match the catalogue's."""
    login(world, Role.DISTRICT_ADMIN)
    for code in ("postnatal_visit", "household_visit"):
        got = client.get(f"{BASE}/services/{code}").json()
        body = {k: got[k] for k in cat.snapshot(catalogue[code]) if k != "code"} | {"version": got["version"]}
        r = _send(client, "put", f"{BASE}/services/{code}", body)
        assert r.status_code == 200, r.content
        assert {k: v for k, v in r.json().items() if k != "version"} == {
            k: v for k, v in got.items() if k != "version"
        }
