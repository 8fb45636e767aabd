import json
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hearth.audit.models import AuditEntry, ExportRequest
from hearth.core import citizen_id
from hearth.core.errors import DomainError
from hearth.registry import identity
from hearth.registry.models import Person
from hearth.registry.services import person_register, person_update
from hearth.testing import SYSTEM

FULL_ID = re.compile(r"\d{17}[\dX]")


def api_json(client, method, url, body):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def new_values(world, **kw):
    born = date(1988, 8, 8)
    values = {
        "name": "赵六",
        "sex": "F",
        "birth_date": born,
        "id_number": citizen_id.make("410103", born, 88),
        "dwelling": world.dwellings["A1a"],
    }
    return values | kw


# Leaks: out of scope is 404 on pages and API alike, and never listed.


def test_xianghe_officer_cannot_open_xueyuan_person(world, client, login):
    login(world, "community_officer")
    other = world.persons["A1b"]
    assert client.get(f"/persons/{other.public_id}/").status_code == 404
    assert client.get(f"/persons/{other.public_id}/edit/").status_code == 404
    assert client.get(f"/api/v1/persons/{other.public_id}").status_code == 404
    assert (
        api_json(
            client, "patch", f"/api/v1/persons/{other.public_id}", {"version": 1, "name": "x"}
        ).status_code
        == 404
    )
    # A malformed or unknown id looks the same as a foreign one.
    assert client.get("/api/v1/persons/00000000-0000-0000-0000-000000000000").status_code == 404


def test_lists_and_searches_stay_in_scope(world, client, login):
    login(world, "community_officer")
    names = {p["name"] for p in client.get("/api/v1/persons?limit=500").json()["items"]}
    assert names == {"居民A1a", "居民A1a-b1", "居民A1a-b1-u1", "居民A1a-b2"}
    foreign = identity.reveal(world.persons["A1b"])
    r = api_json(client, "post", "/api/v1/persons/search", {"id_number": foreign})
    assert r.json() == {"items": [], "count": 0}
    page = client.post("/persons/", {"id_number": foreign}).content.decode()
    assert "居民A1b" not in page


def test_no_list_response_contains_a_full_id_number(world, client, login):
    login(world, "district_admin")
    for body in (
        client.get("/persons/").content.decode(),
        client.get("/api/v1/persons").content.decode(),
        api_json(
            client, "post", "/api/v1/persons/search", {"id_number": identity.reveal(world.persons["A1a"])}
        ).content.decode(),
    ):
        assert not FULL_ID.search(body)
        assert "**************" in body


def test_id_numbers_never_in_urls_or_logs(world, client, login):
    login(world, "community_officer")
    number = identity.reveal(world.persons["A1a"])
    # A GET with the number in the query string does not search by it.
    r = client.get(f"/persons/?id_number={number}")
    assert r.status_code == 200
    assert not AuditEntry.objects.filter(data__icontains=number).exists()
    client.post("/persons/", {"id_number": number})
    entry = AuditEntry.objects.filter(action="person.list").latest("id")
    assert entry.data == {"id_tail": number[-4:]} and entry.row_count == 1


def test_volunteer_sees_only_basic_fields(world, client, login):
    login(world, "building_volunteer")
    item = client.get("/api/v1/persons").json()["items"][0]
    assert set(item) == {"id", "name", "sex", "dwelling", "residence_type", "age_band"}
    page = client.get(f"/persons/{world.persons['A1a-b1'].public_id}/").content.decode()
    assert "身份证号码" not in page and "出生日期" not in page


def test_list_page_query_count_does_not_grow_with_rows(world, client, login):
    login(world, "district_admin")

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/persons/").status_code == 200
        return len(ctx.captured_queries)

    few = count_queries()
    for i in range(19):
        born = date(1990, 1, 1)
        values = new_values(
            world, name=f"批量{i}", birth_date=born, id_number=citizen_id.make("410103", born, 2 * i)
        )
        person_register(actor=SYSTEM, values=values)
    assert count_queries() == few


# Bad input: field-named Chinese errors, nothing written.


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("41010319880808008", "id.length"),
        ("4101031988080800AX", "id.format"),
        ("410103198802300088", "id.date"),
        ("410103198808080089", "id.checksum"),
    ],
)
def test_invalid_ids_are_refused_with_a_code(world, raw, code):
    with pytest.raises(DomainError) as exc:
        person_register(actor=world.actor("community_officer"), values=new_values(world, id_number=raw))
    codes = {e.code for e in getattr(exc.value, "errors", [exc.value])}
    assert code in codes


def test_id_must_agree_with_sex_and_birth_date(world):
    with pytest.raises(DomainError) as exc:
        person_register(
            actor=world.actor("community_officer"),
            values=new_values(world, sex="M", birth_date=date(1988, 8, 9)),
        )
    assert {e.code for e in exc.value.errors} == {"id.sex_mismatch", "id.birthdate_mismatch"}


def test_api_422_names_the_field_in_chinese_and_writes_nothing(world, client, login):
    login(world, "community_officer")
    before = Person.objects.for_system().count()
    body = {
        "name": "",
        "sex": "F",
        "birth_date": "1988-08-08",
        "id_number": "410103198808080089",
        "dwelling_id": str(world.dwellings["A1a"].public_id),
    }
    r = api_json(client, "post", "/api/v1/persons", body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert {d["type"] for d in detail} == {"person.name_required", "id.checksum"}
    assert all(d["loc"][0] == "body" for d in detail)
    assert any("姓名" in d["msg"] for d in detail)
    r = api_json(client, "post", "/api/v1/persons", {"name": "x"})
    assert r.status_code == 422 and {"必填项。"} == {d["msg"] for d in r.json()["detail"]}
    r = client.post("/api/v1/persons", "{not json", content_type="application/json")
    assert r.status_code == 422
    assert Person.objects.for_system().count() == before


def test_form_shows_errors_in_chinese(world, client, login):
    login(world, "community_officer")
    r = client.post(
        "/persons/new/",
        {
            "name": "王五",
            "sex": "F",
            "birth_date": "1988-08-08",
            "id_number": "12345",
            "dwelling": str(world.dwellings["A1a"].public_id),
            "residence_type": "hukou_resident",
        },
    )
    assert r.status_code == 200
    assert "身份证号码应为18位" in r.content.decode()


def test_duplicate_id_does_not_reveal_where(world, client, login):
    login(world, "community_officer")
    foreign = world.persons["B1a"]
    body = {
        "name": "重复",
        "sex": "F",
        "birth_date": foreign.birth_date.isoformat(),
        "id_number": identity.reveal(foreign),
        "dwelling_id": str(world.dwellings["A1a"].public_id),
    }
    r = api_json(client, "post", "/api/v1/persons", body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "id.duplicate"
    assert "建设路" not in r.content.decode() and "中原区" not in r.content.decode()


def test_dwelling_out_of_scope_is_refused(world, client, login):
    login(world, "community_officer")
    body = {
        "name": "外人",
        "sex": "F",
        "birth_date": "1988-08-08",
        "dwelling_id": str(world.dwellings["A1b"].public_id),
    }
    r = api_json(client, "post", "/api/v1/persons", body)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "dwelling_id"]


# Concurrency: two officers, one record.


def test_stale_edit_is_refused(world):
    person = world.persons["A1a"]
    officer, clerk = world.actor("community_officer"), world.actor("data_clerk")
    person_update(
        actor=officer, person=Person.objects.for_system().get(pk=person.pk), values={"name": "甲"}, version=1
    )
    with pytest.raises(DomainError) as exc:
        person_update(
            actor=clerk,
            person=Person.objects.for_system().get(pk=person.pk),
            values={"name": "乙"},
            version=1,
        )
    assert exc.value.code == "person.stale"
    assert Person.objects.for_system().get(pk=person.pk).name == "甲"


def test_edit_form_keeps_the_id_when_unchanged(world, client, login):
    login(world, "community_officer")
    person = world.persons["A1a"]
    r = client.get(f"/persons/{person.public_id}/edit/")
    assert identity.masked(person) in r.content.decode() and identity.reveal(person) not in r.content.decode()
    r = client.post(
        f"/persons/{person.public_id}/edit/",
        {
            "name": "新名",
            "sex": "F",
            "birth_date": person.birth_date.isoformat(),
            "id_number": identity.masked(person),
            "dwelling": str(person.dwelling.public_id),
            "residence_type": "hukou_resident",
            "version": 1,
        },
    )
    assert r.status_code == 302
    person.refresh_from_db()
    assert person.name == "新名" and person.version == 2 and identity.reveal(person)
    assert AuditEntry.objects.filter(action="person.update").get().data == {"fields": ["name"]}


# Reveal and export.


def test_reveal_needs_permission_and_reason_and_is_audited(world, client, login):
    login(world, "subdistrict_officer")
    person = world.persons["A1a"]
    r = client.post(f"/persons/{person.public_id}/reveal/", {"reason": ""})
    assert identity.reveal(person) not in r.content.decode()
    r = client.post(f"/persons/{person.public_id}/reveal/", {"reason": "办理生育登记核对"})
    assert identity.reveal(person) in r.content.decode() and r["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.get(action="person.reveal_id")
    assert entry.reason == "办理生育登记核对" and entry.object_id == str(person.public_id)


def test_small_export_downloads_at_once_and_is_audited(world, client, login):
    login(world, "community_officer")
    r = client.post("/persons/export/", {"reason": "入户核对"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    import hashlib

    req = ExportRequest.objects.get()
    assert req.status == "downloaded" and req.file_hash == hashlib.sha256(r.content).hexdigest()
    entry = AuditEntry.objects.get(action="export.download")
    assert entry.row_count == 4 and entry.data["sha256"] == req.file_hash
    assert not FULL_ID.search(r.content.decode("latin-1"))


def test_large_export_needs_approval_from_the_grant_above(world, client, login, settings):
    from hearth.core.models import SystemSetting

    SystemSetting.objects.create(key="export.approval_threshold", value=2)
    login(world, "community_officer")
    r = client.post("/persons/export/", {"reason": "全员核查"})
    assert r.status_code == 302
    req = ExportRequest.objects.get()
    assert req.status == "pending"
    assert client.get(f"/persons/export/{req.public_id}/").status_code == 404  # not before approval
    # A peer cannot approve; the sub-district officer (the grant above) can.
    from django.test import Client

    peer = world.login(Client(), "data_clerk") or None  # noqa: F841
    above = Client()
    world.login(above, "subdistrict_officer")
    assert "全员核查" in above.get("/exports/").content.decode()
    assert above.post(f"/exports/{req.public_id}/decide/", {"decision": "approve"}).status_code == 302
    r = client.get(f"/persons/export/{req.public_id}/")
    assert r.status_code == 200
    req.refresh_from_db()
    assert req.status == "downloaded" and req.decided_by == world.grants["subdistrict_officer"]
    assert (
        AuditEntry.objects.filter(action__in=["export.request", "export.approve", "export.download"]).count()
        == 3
    )
    # Downloaded once: the link is spent.
    assert client.get(f"/persons/export/{req.public_id}/").status_code == 404
