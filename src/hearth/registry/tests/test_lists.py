"""Derived lists: the shipped definitions, scoping, audit, pages, export control, editing, API."""

import hashlib
import itertools
import json
import re
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hearth.audit.models import AuditEntry, ExportRequest
from hearth.core import citizen_id
from hearth.core.errors import DomainError, as_list
from hearth.core.models import SystemSetting
from hearth.registry import lists
from hearth.registry.models import ListDefinition, Person
from hearth.registry.services import person_register
from hearth.testing import SYSTEM

AS_OF = date(2025, 6, 1)
FULL_ID = re.compile(r"\d{17}[\dX]")
WORLD_IN_A1A = {"居民A1a", "居民A1a-b1", "居民A1a-b1-u1", "居民A1a-b2"}
_seq = itertools.count(1)


def add(world, name, sex, born, where="A1a", unverified=False, **values):
    n = next(_seq)
    number = citizen_id.make("410103", born, 2 * n + (1 if sex == "M" else 0))
    if unverified:
        number = number[:-1] + ("0" if number[-1] != "0" else "1")  # a wrong check digit
    return person_register(
        actor=SYSTEM,
        values={
            "name": name,
            "sex": sex,
            "birth_date": born,
            "id_number": number,
            "dwelling": world.dwellings[where],
        }
        | values,
        allow_unverified=unverified,
    )


@pytest.fixture
def people(world):
    """Residents of 祥和社区 (A1a) around the lists' edges on AS_OF, and one of 学苑社区 (A1b)."""
    add(world, "已婚妇女", "F", date(1990, 5, 5), marital_status="20")
    add(world, "满十五", "F", date(2010, 6, 1))  # 15 on AS_OF: in
    add(world, "差一天十五", "F", date(2010, 6, 2))  # 14 on AS_OF: out
    add(world, "四十九", "F", date(1975, 6, 2), marital_status="20")  # 49 (50 tomorrow): in
    add(world, "刚满五十", "F", date(1975, 6, 1), marital_status="20")  # 50: out
    add(world, "满六十", "M", date(1965, 6, 1))  # 60 on AS_OF: in
    add(world, "五十九", "M", date(1965, 6, 2))
    add(world, "两岁", "F", date(2023, 1, 1), marital_status="10")
    add(world, "刚满三岁", "M", date(2022, 6, 1))  # 3 on AS_OF: out of 0–3, in 0–6
    add(world, "六岁", "M", date(2018, 6, 2))  # 6, 7 tomorrow: in 0–6
    add(world, "刚满七岁", "M", date(2018, 6, 1))  # 7: out
    add(world, "流入男", "M", date(1995, 3, 3), residence_type="inflow")
    add(world, "流出女", "F", date(1996, 3, 3), residence_type="outflow")
    add(world, "待核实", "M", date(1970, 2, 2), unverified=True)
    dead = add(world, "已故妇女", "F", date(1991, 1, 1), marital_status="20")
    Person.objects.for_system().filter(pk=dead.pk).update(status="deceased")
    add(world, "学苑已婚妇女", "F", date(1992, 2, 2), where="A1b", marital_status="20")
    add(world, "学苑流入", "M", date(1993, 2, 2), where="A1b", residence_type="inflow")


EXPECTED_A1A = {
    "women_15_49": WORLD_IN_A1A | {"已婚妇女", "满十五", "四十九", "流出女"},
    "married_women_15_49": {"已婚妇女", "四十九"},
    "children_0_3": {"两岁"},
    "children_0_6": {"两岁", "刚满三岁", "六岁"},
    "elderly_60": {"满六十"},
    "inflow": {"流入男"},
    "outflow": {"流出女"},
    "unverified_ids": {"待核实"},
}


def _names(actor, code, as_of=AS_OF) -> set[str]:
    definition = ListDefinition.objects.get(code=code)
    rows, total = lists.list_members(actor=actor, definition=definition, as_of=as_of, limit=500, offset=0)
    assert total == len(rows)
    return {p.name for p in rows}


@pytest.mark.parametrize("code", sorted(EXPECTED_A1A))
def test_each_shipped_list_selects_the_right_persons(world, people, code):
    assert _names(world.actor("community_officer"), code) == EXPECTED_A1A[code]


def test_sub_district_sees_its_communities_and_nothing_else(world, people):
    officer = world.actor("subdistrict_officer")
    assert _names(officer, "married_women_15_49") == {"已婚妇女", "四十九", "学苑已婚妇女"}
    assert _names(officer, "inflow") == {"流入男", "学苑流入"}
    # A community officer never gets the neighbouring community's persons.
    community = world.actor("community_officer")
    for code in EXPECTED_A1A:
        assert not {n for n in _names(community, code) if n.startswith("学苑")}


def test_age_boundaries_move_with_as_of(world, people):
    officer = world.actor("community_officer")
    day_before = date(2025, 5, 31)
    assert "满十五" not in _names(officer, "women_15_49", day_before)
    assert "刚满五十" in _names(officer, "women_15_49", day_before)
    assert "刚满三岁" in _names(officer, "children_0_3", day_before)
    assert "满六十" not in _names(officer, "elderly_60", day_before)


def test_one_audit_row_per_request_with_count_and_no_personal_data(world, people):
    officer = world.actor("community_officer")
    definition = ListDefinition.objects.get(code="women_15_49")
    rows, total = lists.list_members(actor=officer, definition=definition, as_of=AS_OF, limit=2, offset=0)
    assert len(rows) == 2 and total == 8
    entry = AuditEntry.objects.get(action="list.view")
    assert entry.row_count == 8 and entry.data == {"list": "women_15_49", "as_of": "2025-06-01"}
    assert entry.object_id == str(definition.public_id)


# --- pages ---------------------------------------------------------------------------------------------


def test_index_shows_rules_and_counts_in_scope(world, people, client, login):
    login(world, "community_officer")
    body = client.get("/lists/").content.decode()
    assert "女性，且年龄15–49周岁" in body and "属于“育龄妇女（15–49周岁）”名单，且已婚" in body
    # Counts as of today, in the officer's community only (学苑's inflow resident is not counted).
    assert re.search(r"流入人口</a>\s*<span[^>]*>1 人</span>", body)
    assert re.search(r"证件号码待核实人员</a>\s*<span[^>]*>1 人</span>", body)
    assert not AuditEntry.objects.filter(action="list.view").exists()  # counts only


def test_detail_page_lists_members_masked(world, people, client, login):
    login(world, "district_admin")
    r = client.get("/lists/married_women_15_49/?as_of=2025-06-01")
    body = r.content.decode()
    assert r.status_code == 200
    assert "已婚妇女" in body and "学苑已婚妇女" in body and "刚满五十" not in body
    assert "**************" in body and not FULL_ID.search(body)
    assert AuditEntry.objects.filter(action="list.view", row_count=3).count() == 1


@pytest.mark.parametrize("bad", ["2025-13-01", "yesterday", "1800-01-01", "2025-6-1"])
def test_bad_as_of_is_a_chinese_message_not_an_error(world, client, login, bad):
    login(world, "community_officer")
    r = client.get(f"/lists/women_15_49/?as_of={bad}")
    assert r.status_code == 200
    assert "统计日期" in r.content.decode()
    assert not AuditEntry.objects.filter(action="list.view").exists()


@pytest.mark.parametrize(
    "role", ["building_volunteer", "clinic_staff", "system_admin", "security_admin", "auditor"]
)
def test_roles_without_full_records_get_404(world, client, login, role):
    login(world, role)
    assert client.get("/lists/").status_code == 404
    assert client.get("/lists/women_15_49/").status_code == 404
    assert client.post("/lists/women_15_49/export/", {"reason": "x"}).status_code == 404
    assert client.get("/api/v1/lists/women_15_49/members").status_code == 404


def test_unknown_or_inactive_list_is_404(world, client, login):
    login(world, "community_officer")
    assert client.get("/lists/no_such_list/").status_code == 404
    ListDefinition.objects.filter(code="outflow").update(active=False)
    assert client.get("/lists/outflow/").status_code == 404
    assert client.get("/api/v1/lists/outflow/members").status_code == 404


def test_detail_page_query_count_does_not_grow_with_rows(world, client, login):
    login(world, "subdistrict_officer")

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/lists/married_women_15_49/?as_of=2025-06-01").status_code == 200
        return len(ctx.captured_queries)

    add(world, "一位", "F", date(1990, 1, 2), marital_status="20")
    few = count_queries()
    for i in range(19):
        add(
            world, f"批量{i}", "F", date(1990, 1, 3 + i), where="A1b" if i % 2 else "A1a", marital_status="20"
        )
    assert count_queries() == few


def test_list_page_queries_are_fixed(world, client, login, django_assert_num_queries):
    login(world, "community_officer")
    client.get("/lists/women_15_49/?as_of=2025-06-01")  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        client.get("/lists/women_15_49/?as_of=2025-06-01")
    with django_assert_num_queries(len(ctx.captured_queries)):
        client.get("/lists/women_15_49/?as_of=2024-06-01")
    # A later page also counts the whole list (a short first page is its own count): exactly one more.
    with django_assert_num_queries(len(ctx.captured_queries) + 1):
        client.get("/lists/women_15_49/?as_of=2024-06-01&page=2")


# --- export ---------------------------------------------------------------------------------------------


def test_small_list_export_downloads_at_once(world, people, client, login):
    login(world, "community_officer")
    r = client.post("/lists/inflow/export/", {"reason": "入户核对", "as_of": "2025-06-01"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    req = ExportRequest.objects.get()
    assert req.kind == "list" and req.params == {"list": "inflow", "as_of": "2025-06-01", "version": 1}
    assert req.status == "downloaded" and req.file_hash == hashlib.sha256(r.content).hexdigest()
    assert AuditEntry.objects.get(action="export.download").row_count == 1
    assert not FULL_ID.search(r.content.decode("latin-1"))


def test_export_without_reason_writes_nothing(world, client, login):
    login(world, "community_officer")
    r = client.post("/lists/inflow/export/", {"reason": ""})
    assert r.status_code == 302 and not ExportRequest.objects.exists()


def test_large_list_export_needs_approval_then_downloads_once(world, people, client, login):
    SystemSetting.objects.create(key="export.approval_threshold", value=3)
    login(world, "community_officer")
    r = client.post("/lists/women_15_49/export/", {"reason": "康检名单", "as_of": "2025-06-01"})
    assert r.status_code == 302 and r["Location"] == "/exports/"
    req = ExportRequest.objects.get()
    assert req.status == "pending" and req.row_count == 8
    assert client.get(f"/lists/export/{req.public_id}/").status_code == 404  # not before approval
    above = Client()
    world.login(above, "subdistrict_officer")
    assert above.post(f"/exports/{req.public_id}/decide/", {"decision": "approve"}).status_code == 302
    # Only the requester downloads it.
    assert above.get(f"/lists/export/{req.public_id}/").status_code == 404
    r = client.get(f"/lists/export/{req.public_id}/")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    req.refresh_from_db()
    assert req.status == "downloaded"
    assert AuditEntry.objects.get(action="export.download").row_count == 8
    assert client.get(f"/lists/export/{req.public_id}/").status_code == 404
    # A persons export link does not open a list export and vice versa.
    assert client.get(f"/persons/export/{req.public_id}/").status_code == 404


def test_approved_export_of_a_changed_list_is_refused(world, people, client, login):
    SystemSetting.objects.create(key="export.approval_threshold", value=0)
    login(world, "community_officer")
    client.post("/lists/inflow/export/", {"reason": "核对", "as_of": "2025-06-01"})
    req = ExportRequest.objects.get()
    ExportRequest.objects.filter(pk=req.pk).update(status="approved")
    definition = ListDefinition.objects.get(code="inflow")
    lists.list_definition_update(
        actor=world.actor("district_admin"),
        definition=definition,
        spec={"v": 1, "residence": ["inflow", "separated"]},
        name=definition.name,
        description="",
        version=1,
    )
    r = client.get(f"/lists/export/{req.public_id}/")
    assert r.status_code == 302
    req.refresh_from_db()
    assert req.status == "approved" and not AuditEntry.objects.filter(action="export.download").exists()


# --- editing --------------------------------------------------------------------------------------------


def test_update_validates_bumps_version_and_audits_the_spec(world):
    admin = world.actor("district_admin")
    definition = ListDefinition.objects.get(code="elderly_60")
    spec = {"v": 1, "age": {"min": 65}}
    lists.list_definition_update(
        actor=admin, definition=definition, spec=spec, name="65岁及以上老年人", description="", version=1
    )
    definition.refresh_from_db()
    assert definition.version == 2 and definition.spec == spec and definition.name == "65岁及以上老年人"
    entry = AuditEntry.objects.get(action="list.update")
    assert entry.data["spec"] == spec and entry.data["previous_spec"] == {"v": 1, "age": {"min": 60}}
    # The editor who started from version 1 is told who changed it.
    with pytest.raises(DomainError) as exc:
        lists.list_definition_update(
            actor=admin, definition=definition, spec=spec, name="x", description="", version=1
        )
    assert exc.value.code == "list.stale" and "u_district_admin" in str(exc.value.message)


def test_bad_update_writes_nothing(world):
    admin = world.actor("district_admin")
    definition = ListDefinition.objects.get(code="elderly_60")
    with pytest.raises(DomainError) as exc:
        lists.list_definition_update(
            actor=admin,
            definition=definition,
            spec={"v": 1, "age": {"min": "60"}, "sex": "F"},
            name="",
            description="",
            version=1,
        )
    assert {e.field for e in as_list(exc.value)} == {"name", "spec"}
    definition.refresh_from_db()
    assert definition.version == 1 and not AuditEntry.objects.filter(action="list.update").exists()
    with pytest.raises(DomainError) as exc:
        lists.list_definition_update(
            actor=world.actor("subdistrict_officer"),
            definition=definition,
            spec={"v": 1, "age": {"min": 65}},
            name="x",
            description="",
            version=1,
        )
    assert exc.value.code == "permission.denied"


def test_edit_page_previews_and_saves(world, client, login):
    login(world, "district_admin")
    r = client.get("/lists/children_0_6/edit/")
    assert r.status_code == 200 and "年龄未满7周岁" in r.content.decode()
    spec = json.dumps({"v": 1, "all": [{"age": {"under": 7}}, {"residence": ["inflow"]}]})
    form = {"name": "流入人口中的0–6岁儿童", "description": "", "spec": spec, "version": 1}
    r = client.post("/lists/children_0_6/edit/", form | {"action": "preview"})
    assert "年龄未满7周岁，且居住类型为流入" in r.content.decode()
    assert ListDefinition.objects.get(code="children_0_6").version == 1
    r = client.post("/lists/children_0_6/edit/", form | {"action": "save"})
    assert r.status_code == 302 and r["Location"] == "/lists/children_0_6/"
    assert ListDefinition.objects.get(code="children_0_6").version == 2
    # The same stale form again: refused, said at the top of the form.
    r = client.post("/lists/children_0_6/edit/", form | {"action": "save"})
    assert r.status_code == 200 and "请刷新后重新编辑" in r.content.decode()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ('{"v": 1, "sex": ', "不是有效的 JSON"),
        ('{"v": 1, "age": {"min": 15, "max": "49"}}', "age.max"),
        ('{"v": 1, "list": "married_women_15_49"}', "循环引用"),
    ],
)
def test_edit_page_shows_validation_errors(world, client, login, spec, message):
    login(world, "district_admin")
    form = {"name": "育龄妇女", "description": "", "spec": spec, "version": 1, "action": "save"}
    r = client.post("/lists/women_15_49/edit/", form)
    assert r.status_code == 200 and message in r.content.decode()
    assert ListDefinition.objects.get(code="women_15_49").version == 1


# --- API ------------------------------------------------------------------------------------------------


def test_api_definitions_and_members(world, people, client, login):
    login(world, "community_officer")
    items = client.get("/api/v1/lists").json()
    by_code = {d["code"]: d for d in items}
    assert (
        by_code["women_15_49"]["rule"] == "女性，且年龄15–49周岁" and by_code["women_15_49"]["version"] == 1
    )
    assert client.get("/api/v1/lists/inflow").json()["spec"] == {"v": 1, "residence": ["inflow"]}
    page = client.get("/api/v1/lists/women_15_49/members?as_of=2025-06-01&limit=3&offset=0").json()
    assert page["count"] == 8 and len(page["items"]) == 3 and page["as_of"] == "2025-06-01"
    rest = client.get("/api/v1/lists/women_15_49/members?as_of=2025-06-01&limit=50&offset=3").json()
    names = {i["name"] for i in page["items"] + rest["items"]}
    assert names == EXPECTED_A1A["women_15_49"]
    assert all(i["id_number_masked"].startswith("*") for i in page["items"])
    assert not FULL_ID.search(json.dumps(rest, ensure_ascii=False))
    assert {i["age_as_of"] for i in rest["items"] if i["name"] == "满十五"} == {15}
    assert client.get("/api/v1/lists/women_15_49/members?as_of=2025-02-30").status_code == 422
    assert client.get("/api/v1/lists/women_15_49/members?as_of=1800-01-01").status_code == 422


def test_api_update_refuses_bad_specs_with_422(world, client, login):
    login(world, "district_admin")
    body = {"spec": {"v": 1, "sex": "X"}, "name": "育龄妇女", "description": "", "version": 1}
    r = client.put("/api/v1/lists/women_15_49", json.dumps(body), content_type="application/json")
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail[0]["loc"] == ["body", "spec"] and detail[0]["type"] == "condition.value"
    body["spec"] = {"v": 1, "all": [{"sex": "F"}, {"age": {"min": 15, "max": 44}}]}
    r = client.put("/api/v1/lists/women_15_49", json.dumps(body), content_type="application/json")
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["rule"] == "女性，且年龄15–44周岁"
    r = client.put("/api/v1/lists/women_15_49", json.dumps(body), content_type="application/json")
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "list.stale"
