import json
import re
from datetime import date

import pytest

from hearth.audit.models import AuditEntry
from hearth.core import citizen_id
from hearth.migrants import services
from hearth.migrants.models import InflowRecord, Landlord, Tenancy
from hearth.registry import identity
from hearth.registry.models import LifeEvent, Person
from hearth.testing import SYSTEM

from .factories import dwelling, fresh, landlord, resident, tenancy

FULL_ID = re.compile(r"\d{17}[\dX]")
INFLOW = {"from_region": "411721", "since": "2023-04-01", "reason": "work", "housing": "rented"}


def call(client, method, url, body=None):
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json")


def errors(r) -> dict[str, list]:
    assert r.status_code == 422, r.content
    return {d["type"]: d["loc"] for d in r.json()["detail"]}


# --- inflow / outflow -----------------------------------------------------------------------------------


def test_inflow_api_create_read_update_and_conflict(world, client, login):
    login(world, "community_officer")
    person = world.persons["A1a"]
    url = f"/api/v1/migrants/{person.public_id}/inflow"
    assert client.get(url).status_code == 404  # no record yet
    r = call(client, "put", url, INFLOW | {"version": None, "set_residence": True, "person_version": 1})
    assert r.status_code == 200
    body = r.json()
    assert body["version"] == 1 and body["from_region_display"].startswith("河南省")
    assert fresh(person).residence_type == "inflow"
    assert client.get(url).json()["employer"] == ""
    assert AuditEntry.objects.filter(action="migrants.inflow.view", data={"api": True}).count() == 2
    r = call(client, "put", url, INFLOW | {"employer": "甲", "version": 1})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = call(client, "put", url, INFLOW | {"employer": "乙", "version": 1})
    assert errors(r) == {"migrants.stale": ["body", "version"]}
    assert "测试社区计生专干" in r.json()["detail"][0]["msg"]
    assert InflowRecord.objects.get().employer == "甲"


def test_inflow_api_422_names_fields_and_writes_nothing(world, client, login):
    login(world, "community_officer")
    url = f"/api/v1/migrants/{world.persons['A1a'].public_id}/inflow"
    r = call(
        client,
        "put",
        url,
        INFLOW | {"from_region": "000000", "since": "2999-01-01", "agreement_signed": True},
    )
    assert errors(r) == {
        "migrants.from_region": ["body", "from_region"],
        "migrants.since_future": ["body", "since"],
        "migrants.agreement_date_required": ["body", "agreement_date"],
    }
    assert all("\u4e00" <= d["msg"][0] <= "\u9fff" for d in r.json()["detail"])  # said in Chinese
    r = call(client, "put", url, INFLOW | {"reason": "pregnancy", "since": "not a date"})
    assert r.status_code == 422
    assert {tuple(d["loc"][-1:]) for d in r.json()["detail"]} == {("reason",), ("since",)}
    r = client.put(url, "{oops", content_type="application/json")
    assert r.status_code == 422
    assert not InflowRecord.objects.exists()


@pytest.mark.parametrize(("key", "role"), [("A1b", "community_officer"), ("B1a", "subdistrict_officer")])
def test_migrant_records_out_of_scope_are_404(world, client, login, key, role):
    other = world.persons[key]
    InflowRecord.objects.create(
        person=other, from_region="411721", since=date(2023, 1, 1), reason="work", housing="own"
    )
    login(world, role)
    for path in ("inflow", "outflow"):
        url = f"/api/v1/migrants/{other.public_id}/{path}"
        assert client.get(url).status_code == 404
        assert call(client, "put", url, INFLOW | {"to_region": "440305"}).status_code == 404
    assert InflowRecord.objects.get().version == 1


def test_volunteer_gets_404_from_every_migrants_endpoint(world, client, login):
    login(world, "building_volunteer")
    person = world.persons["A1a-b1"]
    owner = landlord(world, "A1a-b1")
    assert client.get(f"/api/v1/migrants/{person.public_id}/inflow").status_code == 404
    assert client.get("/api/v1/landlords").status_code == 404
    assert client.get("/api/v1/landlords/worklist").status_code == 404
    assert client.get(f"/api/v1/landlords/{owner.public_id}").status_code == 404


def test_outflow_api(world, client, login):
    login(world, "data_clerk")
    url = f"/api/v1/migrants/{world.persons['A1a'].public_id}/outflow"
    r = call(client, "put", url, {"to_region": "440305", "since": "2022-09-01", "contact": "微信联系"})
    assert r.status_code == 200 and r.json()["to_region_display"] == "广东省（440305）"
    assert client.get(url).json()["contact"] == "微信联系"


def _register_body(world, **person):
    born = date(1996, 2, 2)
    return {
        "person": {
            "name": "李流入",
            "sex": "F",
            "birth_date": born.isoformat(),
            "id_number": citizen_id.make("411721", born, 62),
            "dwelling_id": str(world.dwellings["A1a"].public_id),
        }
        | person,
        "inflow": INFLOW,
    }


def test_register_inflow_api(world, client, login):
    login(world, "community_officer")
    r = call(client, "post", "/api/v1/migrants/inflow", _register_body(world))
    assert r.status_code == 201
    body = r.json()
    assert body["person"]["residence_type"] == "inflow" and body["inflow"]["reason"] == "work"
    assert not FULL_ID.search(r.content.decode())
    before = Person.objects.for_system().count()
    bad = _register_body(world, name="", id_number=citizen_id.make("411721", date(1996, 2, 2), 64))
    bad["inflow"] = INFLOW | {"housing": "own", "agreement_signed": True, "agreement_date": "2023-05-01"}
    assert errors(call(client, "post", "/api/v1/migrants/inflow", bad)) == {
        "person.name_required": ["body", "name"],
        "migrants.agreement_not_rented": ["body", "agreement_signed"],
    }
    bad = _register_body(world, dwelling_id=str(world.dwellings["A1b"].public_id))
    assert errors(call(client, "post", "/api/v1/migrants/inflow", bad)) == {
        "dwelling.out_of_scope": ["body", "dwelling_id"]
    }
    assert Person.objects.for_system().count() == before and InflowRecord.objects.count() == 1


# --- landlords ------------------------------------------------------------------------------------------


def test_landlords_list_is_paged_scoped_and_audited(world, client, login):
    for i in range(3):
        landlord(world, name=f"房东{i}")
    landlord(world, "A1b", name="学苑房东")
    login(world, "community_officer")
    r = client.get("/api/v1/landlords?limit=2&offset=0")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 3 and len(body["items"]) == 2
    assert body["items"][0]["phone_masked"] == "138****8000"
    names = [i["name"] for i in client.get("/api/v1/landlords?limit=2&offset=2").json()["items"]]
    assert names == ["房东2"]
    assert client.get("/api/v1/landlords?q=学苑").json()["count"] == 0
    assert AuditEntry.objects.filter(action="migrants.landlord.list").count() == 3
    assert client.get("/api/v1/landlords?limit=0").status_code == 422


def test_landlord_create_update_and_detail(world, client, login):
    login(world, "community_officer")
    linked = world.persons["B1a"]
    body = {
        "name": "周房东",
        "phone": "13912345678",
        "place_id": str(world.places["A1a"].public_id),
        "dwelling_ids": [str(world.dwellings["A1a-b1"].public_id)],
        "person_id_number": identity.reveal(linked),
    }
    r = call(client, "post", "/api/v1/landlords", body)
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["person"] == {"name": "居****", "openable": False}
    assert [d["address"] for d in out["dwellings"]] == [str(world.dwellings["A1a-b1"])]
    owner = Landlord.objects.get()
    assert owner.person == linked
    # Bad input: several fields at once, nothing written.
    bad = body | {"name": "", "phone": "1", "place_id": str(world.places["A1b"].public_id)}
    assert errors(call(client, "post", "/api/v1/landlords", bad)) == {
        "landlord.place_out_of_scope": ["body", "place_id"]
    }
    bad = body | {"name": "", "phone": "1", "person_id_number": "12"}
    assert "id.length" in errors(call(client, "post", "/api/v1/landlords", bad))
    bad = body | {"name": "", "phone": "1", "person_id_number": ""}
    assert errors(call(client, "post", "/api/v1/landlords", bad)) == {
        "migrants.name_required": ["body", "name"],
        "phone.invalid": ["body", "phone"],
    }
    assert Landlord.objects.count() == 1
    # Update with the token read; a second update with the same token is stale.
    url = f"/api/v1/landlords/{owner.public_id}"
    token = client.get(url).json()["token"]
    put = body | {
        "person_id_number": "",
        "agreement_signed": True,
        "agreement_date": "2024-02-01",
        "token": token,
    }
    r = call(client, "put", url, put)
    assert r.status_code == 200 and r.json()["agreement_signed"] is True
    assert Landlord.objects.get().person == linked  # kept
    assert errors(call(client, "put", url, put | {"name": "改"})) == {"migrants.stale": ["body", "version"]}
    put["token"] = client.get(url).json()["token"]
    assert call(client, "put", url, put | {"unlink_person": True}).json().get("person") is None
    assert Landlord.objects.get().person is None


def test_landlord_detail_out_of_scope_is_404(world, client, login):
    sibling, far = landlord(world, "A1b"), landlord(world, "B1a")
    login(world, "community_officer")
    for owner in (sibling, far):
        assert client.get(f"/api/v1/landlords/{owner.public_id}").status_code == 404
        r = call(
            client,
            "post",
            f"/api/v1/landlords/{owner.public_id}/tenancies",
            {"dwelling_id": str(world.dwellings["A1a"].public_id), "started_on": "2024-01-01"},
        )
        assert r.status_code == 404
    assert not Tenancy.objects.exists()


def test_tenancy_api_end_to_end(world, client, login):
    owner = landlord(world)
    room = dwelling(world, "A1a-b1", "808室")
    login(world, "community_officer")
    url = f"/api/v1/landlords/{owner.public_id}/tenancies"
    r = call(
        client,
        "post",
        url,
        {"dwelling_id": str(room.public_id), "started_on": "2024-01-01", "declared_tenants": 2},
    )
    assert r.status_code == 201
    tid = r.json()["id"]
    assert errors(
        call(client, "post", url, {"dwelling_id": str(room.public_id), "started_on": "2024-01-01"})
    ) == {"tenancy.dwelling_rented": ["body", "dwelling"]}
    assert errors(
        call(
            client,
            "post",
            url,
            {"dwelling_id": str(world.dwellings["A1b"].public_id), "started_on": "2024-01-01"},
        )
    ) == {"dwelling.out_of_scope": ["body", "dwelling_id"]}
    assert (
        call(client, "post", url, {"dwelling_id": str(room.public_id), "declared_tenants": 99}).status_code
        == 422
    )
    # Worklist: no tenants yet, landlord unsigned.
    items = client.get("/api/v1/landlords/worklist").json()["items"]
    assert [[x["code"] for x in i["reasons"]] for i in items] == [["no_tenants", "agreement_unsigned"]]
    tenant = resident(room)
    r = call(client, "put", f"/api/v1/tenancies/{tid}/tenants", {"person_ids": [str(tenant.public_id)]})
    assert r.status_code == 200
    r = call(
        client,
        "put",
        f"/api/v1/tenancies/{tid}/tenants",
        {"person_ids": [str(world.persons["A1b"].public_id)]},
    )
    assert errors(r) == {"tenancy.tenant_out_of_scope": ["body", "person_ids"]}
    mover = world.persons["A1a"]
    r = call(
        client,
        "post",
        f"/api/v1/tenancies/{tid}/move-in",
        {"person_id": str(mover.public_id), "occurred_on": "2024-03-01", "version": 9},
    )
    assert errors(r) == {"person.stale": ["body", "version"]}
    r = call(
        client,
        "post",
        f"/api/v1/tenancies/{tid}/move-in",
        {"person_id": str(mover.public_id), "occurred_on": "2024-03-01", "version": 1},
    )
    assert r.status_code == 200
    assert (
        fresh(mover).dwelling == room
        and LifeEvent.objects.filter(person=mover, kind="dwelling_change").exists()
    )
    detail = client.get(f"/api/v1/landlords/{owner.public_id}").json()
    [t] = detail["tenancies"]
    assert t["registered"] == 2 and {p["name"] for p in t["tenants"]} == {"租客", "居民A1a"}
    assert all(p["id_number_masked"].startswith("*") for p in t["tenants"])
    assert not FULL_ID.search(json.dumps(detail))
    assert [x["code"] for x in t["reasons"]] == ["agreement_unsigned"]
    r = call(client, "post", f"/api/v1/tenancies/{tid}/end", {"ended_on": "2024-06-30"})
    assert r.status_code == 200 and r.json()["ended_on"] == "2024-06-30"
    assert errors(call(client, "post", f"/api/v1/tenancies/{tid}/end", {"ended_on": "2024-07-01"})) == {
        "tenancy.already_ended": ["body", "ended_on"]
    }
    assert client.get("/api/v1/landlords/worklist").json() == {"items": [], "count": 0}


def test_tenants_outside_scope_are_kept_by_api_set(world, client, login):
    room = world.dwellings["A1a-b1"]
    t = tenancy(world, landlord(world), room, declared=2)
    gone = resident(room, name="外迁者")
    services.tenancy_tenants_set(actor=SYSTEM, tenancy=t, persons=[gone, world.persons["A1a-b1"]])
    from hearth.registry.services import record_event

    record_event(
        actor=SYSTEM,
        person=gone,
        kind="dwelling_change",
        occurred_on=date(2024, 5, 1),
        version=gone.version,
        details={"dwelling": world.dwellings["B1a"]},
    )
    login(world, "community_officer")
    r = call(client, "put", f"/api/v1/tenancies/{t.public_id}/tenants", {"person_ids": []})
    assert r.status_code == 200
    assert list(t.tenants.all()) == [gone]
