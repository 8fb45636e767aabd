import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hearth.audit.models import AuditEntry
from hearth.core import citizen_id
from hearth.migrants import services
from hearth.migrants.models import InflowRecord, Landlord, OutflowRecord, Tenancy
from hearth.registry import identity
from hearth.registry.models import LifeEvent, Person
from hearth.testing import SYSTEM

from .factories import INFLOW, dwelling, fresh, landlord, resident, tenancy

FULL_ID = re.compile(r"\d{17}[\dX]")


def inflow_post(**kw):
    data = {k: ("" if v is None else v) for k, v in INFLOW.items()}
    data = {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}
    data["agreement_signed"] = "on"
    data["certificate_held"] = ""
    return data | kw


# --- inflow / outflow pages -----------------------------------------------------------------------------


def test_inflow_page_is_scoped(world, client, login):
    login(world, "community_officer")
    own = world.persons["A1a-b1"]
    r = client.get(f"/persons/{own.public_id}/inflow/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "历史字段" in page and "本系统不开具" in page
    assert identity.masked(own) in page and not FULL_ID.search(page)
    assert AuditEntry.objects.filter(action="migrants.inflow.view", object_id=str(own.public_id)).count() == 1
    for key in ("A1b", "B1a"):  # sibling community, other district
        other = world.persons[key]
        assert client.get(f"/persons/{other.public_id}/inflow/").status_code == 404
        assert client.post(f"/persons/{other.public_id}/inflow/", inflow_post()).status_code == 404
        assert client.get(f"/persons/{other.public_id}/outflow/").status_code == 404
    assert not InflowRecord.objects.exists()


@pytest.mark.parametrize("role", ["building_volunteer", "association_officer", "system_admin"])
def test_inflow_page_refused_to_non_editors(world, client, login, role):
    login(world, role)
    assert client.get(f"/persons/{world.persons['A1a-b1'].public_id}/inflow/").status_code == 404


def test_inflow_form_saves_and_sets_residence_when_asked(world, client, login):
    login(world, "community_officer")
    person = world.persons["A1a"]
    r = client.post(
        f"/persons/{person.public_id}/inflow/",
        inflow_post(set_residence="on", person_version="1", version=""),
    )
    assert r.status_code == 302 and r["Location"] == f"/persons/{person.public_id}/"
    assert InflowRecord.objects.get(person=person).agreement_date == date(2023, 4, 2)
    assert fresh(person).residence_type == "inflow"
    # Now that the person is an inflow migrant, the checkbox is no longer offered.
    page = client.get(f"/persons/{person.public_id}/inflow/").content.decode()
    assert 'name="set_residence"' not in page and 'name="version" value="1"' in page


def test_inflow_form_bad_input_is_said_in_chinese_by_field(world, client, login):
    login(world, "community_officer")
    person = world.persons["A1a"]
    r = client.post(
        f"/persons/{person.public_id}/inflow/",
        inflow_post(from_region="999999", agreement_date="", person_version="1"),
    )
    assert r.status_code == 200
    page = r.content.decode()
    assert 'data-field="from_region"' in page and "来自地区应为6位行政区划代码" in page
    assert 'data-field="agreement_date"' in page and "请填写租房协议日期" in page
    assert not InflowRecord.objects.exists()


def test_inflow_form_stale_version_is_shown_and_nothing_lost(world, client, login):
    person = fresh(world.persons["A1a"])
    services.inflow_save(actor=world.actor("data_clerk"), person=person, values=INFLOW, version=None)
    services.inflow_save(
        actor=world.actor("data_clerk"), person=person, values=INFLOW | {"employer": "先存"}, version=1
    )
    login(world, "community_officer")
    r = client.post(
        f"/persons/{person.public_id}/inflow/", inflow_post(employer="后存", version="1", person_version="1")
    )
    assert r.status_code == 200
    page = r.content.decode()
    assert "测试微机员" in page and "请刷新后重新编辑" in page
    assert InflowRecord.objects.get().employer == "先存"


def test_outflow_form(world, client, login):
    login(world, "assistant")
    person = world.persons["A1a"]
    r = client.post(
        f"/persons/{person.public_id}/outflow/",
        {"to_region": "440305", "since": "2022-09-01", "to_address": "深圳", "person_version": "1"},
    )
    assert r.status_code == 302
    assert OutflowRecord.objects.get(person=person).to_address == "深圳"
    assert fresh(person).residence_type == "hukou_resident"


def _register_post(world, **kw):
    born = date(1996, 2, 2)
    return (
        {
            "name": "李流入",
            "sex": "F",
            "birth_date": born.isoformat(),
            "id_type": "resident_id",
            "id_number": citizen_id.make("411721", born, 62),
            "dwelling": str(world.dwellings["A1a"].public_id),
        }
        | inflow_post()
        | kw
    )


def test_register_inflow_migrant_page(world, client, login):
    login(world, "community_officer")
    assert client.get("/migrants/inflow/new/").status_code == 200
    r = client.post("/migrants/inflow/new/", _register_post(world))
    assert r.status_code == 302
    record = InflowRecord.objects.select_related("person").get()
    assert record.person.residence_type == "inflow" and record.person.hukou_code == "411721"
    assert r["Location"] == f"/persons/{record.person.public_id}/"


def test_register_inflow_migrant_bad_input_writes_nothing(world, client, login):
    login(world, "community_officer")
    before = Person.objects.for_system().count()
    r = client.post(
        "/migrants/inflow/new/",
        _register_post(world, id_number="411721199602020001", housing="", from_region=""),
    )
    assert r.status_code == 200
    page = r.content.decode()
    assert 'data-field="housing"' in page and 'data-field="id_number"' in page
    assert "请填写来自地区" in page
    r = client.post(
        "/migrants/inflow/new/", _register_post(world, dwelling=str(world.dwellings["A1b"].public_id))
    )
    assert r.status_code == 200 and 'data-field="dwelling"' in r.content.decode()
    assert Person.objects.for_system().count() == before and not InflowRecord.objects.exists()


def test_register_inflow_migrant_into_a_tenancy(world, client, login):
    room = dwelling(world, "A1a-b1", "501室")
    t = tenancy(world, landlord(world), room)
    login(world, "community_officer")
    page = client.get(f"/migrants/inflow/new/?tenancy={t.public_id}").content.decode()
    assert 'name="dwelling"' not in page and "501室" in page
    r = client.post("/migrants/inflow/new/", _register_post(world, tenancy=str(t.public_id)))
    assert r.status_code == 302 and r["Location"] == f"/tenancies/{t.public_id}/tenants/"
    person = InflowRecord.objects.get().person
    assert person.dwelling == room and list(t.tenants.all()) == [person]
    # A tenancy in the sibling community cannot be named.
    foreign = tenancy(world, landlord(world, "A1b"), world.dwellings["A1b"])
    assert client.get(f"/migrants/inflow/new/?tenancy={foreign.public_id}").status_code == 404


# --- landlords ------------------------------------------------------------------------------------------


def test_landlord_list_is_scoped_searchable_and_audited(world, client, login):
    landlord(world, name="王房东")
    landlord(world, "A1a-b1", name="李房东").dwellings.add(world.dwellings["A1a-b1"])
    landlord(world, "A1b", name="张房东")
    landlord(world, "B1a", name="赵房东")
    login(world, "community_officer")
    page = client.get("/landlords/").content.decode()
    assert "王房东" in page and "李房东" in page
    assert "张房东" not in page and "赵房东" not in page
    assert "13800138000" not in page and "138****8000" in page
    assert "祥和社区 / 1号楼" in page
    page = client.get("/landlords/?q=李").content.decode()
    assert "李房东" in page and "王房东" not in page
    assert "王房东" in client.get("/landlords/?q=1380013").content.decode()
    entry = AuditEntry.objects.filter(action="migrants.landlord.list").latest("id")
    assert entry.row_count == 2 and entry.data == {"q": "1380013"}
    login(world, "subdistrict_officer")
    assert "张房东" in client.get("/landlords/").content.decode()


def test_landlord_list_query_count_does_not_grow(world, client, login):
    login(world, "community_officer")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/landlords/").status_code == 200
        return len(ctx.captured_queries)

    owner = landlord(world)
    tenancy(world, owner, world.dwellings["A1a-b1"])
    few = count()
    for i in range(19):
        other = landlord(world, name=f"房东{i}")
        tenancy(world, other, dwelling(world, "A1a-b2", f"{i}01室"))
    assert count() == few


def test_landlord_detail_lists_dwellings_and_masked_tenants(world, client, login):
    owner = landlord(world, "A1a-b1")
    room = world.dwellings["A1a-b1"]
    t = tenancy(world, owner, room, declared=3)
    tenant = world.persons["A1a-b1"]
    gone = resident(room, name="外迁者")
    services.tenancy_tenants_set(actor=SYSTEM, tenancy=t, persons=[tenant, gone])
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
    r = client.get(f"/landlords/{owner.public_id}/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "居民A1a-b1" in page and identity.masked(tenant) in page
    assert not FULL_ID.search(page)
    assert "外迁者" not in page and "外**" in page and "不在您的管辖范围内" in page
    assert 'data-reason="tenants_missing"' in page and 'data-reason="agreement_unsigned"' in page
    assert AuditEntry.objects.filter(action="migrants.landlord.view").count() == 1


@pytest.mark.parametrize(("place", "role"), [("A1b", "community_officer"), ("B1a", "subdistrict_officer")])
def test_landlord_out_of_scope_is_404(world, client, login, place, role):
    owner = landlord(world, place)
    t = tenancy(world, owner, world.dwellings[place])
    login(world, role)
    for url in (
        f"/landlords/{owner.public_id}/",
        f"/landlords/{owner.public_id}/edit/",
        f"/landlords/{owner.public_id}/tenancies/new/",
        f"/tenancies/{t.public_id}/tenants/",
        f"/tenancies/{t.public_id}/end/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/tenancies/{t.public_id}/end/", {"ended_on": "2024-05-01"}).status_code == 404
    assert Tenancy.objects.get(pk=t.pk).ended_on is None


def test_landlord_create_links_a_person_by_id_number_over_post(world, client, login):
    login(world, "community_officer")
    linked = world.persons["B1a"]
    number = identity.reveal(linked)
    data = {
        "name": "周房东",
        "phone": "13912345678",
        "place": str(world.places["A1a-b1"].public_id),
        "dwellings": [str(world.dwellings["A1a-b1"].public_id)],
        "id_type": "resident_id",
        "id_number": number,
    }
    r = client.post("/landlords/new/", data)
    assert r.status_code == 302
    owner = Landlord.objects.get()
    assert owner.person == linked and list(owner.dwellings.all()) == [world.dwellings["A1a-b1"]]
    assert not AuditEntry.objects.filter(data__icontains=number[-8:]).exists()
    page = client.get(f"/landlords/{owner.public_id}/").content.decode()
    assert "居****" in page and "居民B1a" not in page
    r = client.post("/landlords/new/", data | {"id_number": citizen_id.make("410103", date(1970, 1, 1), 999)})
    assert r.status_code == 200 and "系统中没有该证件号码的人员" in r.content.decode()
    r = client.post("/landlords/new/", data | {"id_number": "", "place": str(world.places["A1b"].public_id)})
    assert r.status_code == 200 and 'data-field="place"' in r.content.decode()
    assert Landlord.objects.count() == 1


def test_landlord_edit_stale_and_unlink(world, client, login):
    owner = landlord(world, person=world.persons["A1a"])
    login(world, "community_officer")
    page = client.get(f"/landlords/{owner.public_id}/edit/").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    data = {"name": "王房东", "phone": "13800138000", "place": str(owner.place.public_id), "token": token}
    services.landlord_update(
        actor=SYSTEM,
        landlord=owner,
        values={"place": owner.place, "name": "王房东", "notes": "别人改的"},
        token=services.landlord_token(owner),
    )
    r = client.post(f"/landlords/{owner.public_id}/edit/", data | {"unlink": "on"})
    assert r.status_code == 200 and "请刷新后重新编辑" in r.content.decode()
    assert Landlord.objects.get().person == world.persons["A1a"]
    page = client.get(f"/landlords/{owner.public_id}/edit/").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    r = client.post(f"/landlords/{owner.public_id}/edit/", data | {"unlink": "on", "token": token})
    assert r.status_code == 302 and Landlord.objects.get().person is None


# --- tenancies ------------------------------------------------------------------------------------------


def test_tenancy_create_tenants_and_end_through_pages(world, client, login):
    owner = landlord(world)
    room = world.dwellings["A1a-b1"]
    login(world, "community_officer")
    r = client.post(
        f"/landlords/{owner.public_id}/tenancies/new/",
        {"dwelling": str(room.public_id), "started_on": "2024-01-01", "declared_tenants": "2"},
    )
    t = Tenancy.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/tenancies/{t.public_id}/tenants/"
    page = client.get(r["Location"]).content.decode()
    assert "居民A1a-b1" in page and identity.masked(world.persons["A1a-b1"]) in page
    r = client.post(
        f"/tenancies/{t.public_id}/tenants/",
        {"action": "set", "tenants": [str(world.persons["A1a-b1"].public_id)]},
    )
    assert r.status_code == 302 and list(t.tenants.all()) == [world.persons["A1a-b1"]]
    # Someone of this community moving in from another dwelling: a dwelling change event.
    mover = world.persons["A1a"]
    r = client.post(
        f"/tenancies/{t.public_id}/tenants/",
        {
            "action": "move_in",
            "id_type": "resident_id",
            "id_number": identity.reveal(mover),
            "occurred_on": "2024-02-01",
        },
    )
    assert r.status_code == 302
    assert fresh(mover).dwelling == room and set(t.tenants.all()) == {world.persons["A1a-b1"], mover}
    assert LifeEvent.objects.filter(person=mover, kind="dwelling_change").count() == 1
    # Someone from another community cannot be moved from here.
    r = client.post(
        f"/tenancies/{t.public_id}/tenants/",
        {
            "action": "move_in",
            "id_type": "resident_id",
            "id_number": identity.reveal(world.persons["A1b"]),
            "occurred_on": "2024-02-01",
        },
    )
    assert r.status_code == 200 and "您的管辖范围内没有该证件号码的人员" in r.content.decode()
    r = client.post(f"/tenancies/{t.public_id}/end/", {"ended_on": "2023-12-01"})
    assert r.status_code == 200 and 'data-field="ended_on"' in r.content.decode()
    r = client.post(f"/tenancies/{t.public_id}/end/", {"ended_on": "2024-06-01"})
    assert r.status_code == 302 and Tenancy.objects.get().ended_on == date(2024, 6, 1)
    assert {"migrants.tenancy.create", "migrants.tenancy.tenants", "migrants.tenancy.end"} <= set(
        AuditEntry.objects.values_list("action", flat=True)
    )


def test_tenancy_on_a_rented_dwelling_is_refused(world, client, login):
    owner = landlord(world)
    tenancy(world, owner, world.dwellings["A1a-b1"])
    login(world, "community_officer")
    r = client.post(
        f"/landlords/{owner.public_id}/tenancies/new/",
        {
            "dwelling": str(world.dwellings["A1a-b1"].public_id),
            "started_on": "2024-01-01",
            "declared_tenants": "1",
        },
    )
    assert r.status_code == 200 and "该房屋已有未退租的租赁登记" in r.content.decode()
    assert Tenancy.objects.count() == 1


# --- worklist and home ----------------------------------------------------------------------------------


def test_worklist_page_and_home_todo(world, client, login):
    tenancy(world, landlord(world, signed=True), world.dwellings["A1a-b1"], declared=1)
    tenancy(world, landlord(world, "A1b"), world.dwellings["A1b"])
    login(world, "community_officer")
    page = client.get("/landlords/worklist/").content.decode()
    assert "未登记租住人员" in page and page.count('data-reason="') == 1
    home = client.get("/").content.decode()
    assert "/landlords/worklist/" in home
    login(world, "building_volunteer")
    assert client.get("/landlords/worklist/").status_code == 404
    assert "/landlords/worklist/" not in client.get("/").content.decode()


def test_worklist_query_count_does_not_grow(world, client, login):
    login(world, "community_officer")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/landlords/worklist/").status_code == 200
        return len(ctx.captured_queries)

    tenancy(world, landlord(world), world.dwellings["A1a-b1"])
    few = count()
    for i in range(19):
        tenancy(world, landlord(world, name=f"房东{i}"), dwelling(world, "A1a-b2", f"{i}02室"), declared=2)
    assert count() == few


def test_landlord_form_offers_places_in_scope_with_their_community(world, client, login):
    login(world, "subdistrict_officer")
    page = client.get("/landlords/new/").content.decode()
    assert "祥和社区 / 1号楼" in page and "学苑社区" in page
    assert "大学路街道" not in page.split('name="place"')[1].split("</select>")[0]  # not a community
    assert "建设路社区" not in page
    login(world, "community_officer")
    page = client.get("/landlords/new/").content.decode()
    assert "祥和社区 / 2号楼" in page and "学苑社区" not in page


def test_landlord_list_htmx_returns_the_results_fragment(world, client, login):
    landlord(world)
    login(world, "community_officer")
    r = client.get("/landlords/?q=王", headers={"HX-Request": "true"})
    body = r.content.decode()
    assert body.lstrip().startswith('<div id="results">') and "王房东" in body
