"""Households (户): pages list members as lists show persons; nothing outside the scope leaks through them."""

import json
import re
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hearth.audit.models import AuditEntry
from hearth.core import citizen_id
from hearth.core.errors import DomainError
from hearth.registry import identity, services
from hearth.registry.codes import RelationToHead
from hearth.registry.models import Household, Person
from hearth.registry.selectors import mask_name
from hearth.testing import SYSTEM

OFFICER = "community_officer"
FULL_ID = re.compile(r"\d{17}[\dX]")


def api(client, method, url, body=None):
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json")


def resident(world, name, sex, born, seq, key="A1a-b1", **extra):
    return services.person_register(
        actor=SYSTEM,
        values={
            "name": name,
            "sex": sex,
            "birth_date": born,
            "id_number": citizen_id.make("410103", born, seq),
            "dwelling": world.dwellings[key],
        }
        | extra,
    )


@pytest.fixture
def family(world):
    """At 1号楼: a wife (the fixture resident), her husband, their son; the husband's mother lives in 学苑社区."""
    wife = world.persons["A1a-b1"]
    granny = world.persons["A1b"]  # another community: outside the officer's and the volunteer's scope
    husband = resident(world, "王大明", "M", date(1979, 2, 3), 41)
    Person.objects.filter(pk=husband.pk).update(mother=granny, spouse=wife)
    Person.objects.filter(pk=wife.pk).update(spouse=husband)
    son = resident(world, "王小明", "M", date(2010, 6, 7), 43)
    Person.objects.filter(pk=son.pk).update(mother=wife, father=husband)
    household = services.household_set(
        actor=SYSTEM,
        dwelling=world.dwellings["A1a-b1"],
        head=husband,
        members={wife: RelationToHead.SPOUSE, son: RelationToHead.SON},
    )
    return {"wife": wife, "husband": husband, "son": son, "granny": granny, "household": household}


def test_household_page_lists_members_with_relations_and_masked_ids(world, client, login, family):
    login(world, OFFICER)
    h = family["household"]
    page = client.get(f"/households/{h.public_id}/").content.decode()
    for name, relation in (("王大明", "户主"), ("王小明", "子"), ("居民A1a-b1", "配偶")):
        assert name in page and relation in page
    assert not FULL_ID.search(page) and identity.masked(family["husband"]) in page
    entry = AuditEntry.objects.get(action="household.view")
    assert entry.row_count == 3 and entry.object_id == str(h.public_id)
    body = client.get(f"/api/v1/households/{h.public_id}").json()
    assert body["head"] == {"name": "王大明", "id": str(family["husband"].public_id), "openable": True}
    members = {m["name"]: m for m in body["members"]}
    assert members["王大明"]["relation_to_head"] == "02" and members["王大明"]["is_head"]
    assert members["王小明"]["relation_to_head"] == "20"
    assert members["王小明"]["id_number_masked"].endswith(identity.reveal(family["son"])[-4:])
    assert not FULL_ID.search(json.dumps(body))
    assert AuditEntry.objects.filter(action="household.view").count() == 2


def test_a_relative_outside_the_scope_is_masked_and_not_openable(world, client, login, family):
    login(world, OFFICER)
    granny = family["granny"]
    for body in (
        client.get(f"/households/{family['household'].public_id}/").content.decode(),
        json.dumps(
            client.get(f"/api/v1/households/{family['household'].public_id}").json(), ensure_ascii=False
        ),
    ):
        assert granny.name not in body and str(granny.public_id) not in body
        assert mask_name("居民A1b") in body  # the masked name of 居民A1b
    husband = next(
        m
        for m in client.get(f"/api/v1/households/{family['household'].public_id}").json()["members"]
        if m["name"] == "王大明"
    )
    assert {"relation": "母亲", "name": mask_name("居民A1b"), "openable": False} in husband["relatives"]
    assert {
        "relation": "配偶",
        "name": "居民A1a-b1",
        "id": str(family["wife"].public_id),
        "openable": True,
    } in (husband["relatives"])


def test_a_head_outside_the_scope_is_masked(world, client, login, family):
    h = family["household"]
    Household.objects.filter(pk=h.pk).update(head=family["granny"])
    login(world, OFFICER)
    body = client.get(f"/api/v1/households/{h.public_id}").json()
    assert body["head"] == {"name": mask_name("居民A1b"), "openable": False}
    assert str(family["granny"].public_id) not in client.get(f"/households/{h.public_id}/").content.decode()


def test_volunteer_sees_age_bands_and_no_ids(world, client, login, family):
    login(world, "building_volunteer")
    h = family["household"]
    page = client.get(f"/households/{h.public_id}/").content.decode()
    assert "王小明" in page and "0–17" in page
    assert "证件号码" not in page and "*" * 14 not in page and mask_name("居民A1b") not in page
    member = client.get(f"/api/v1/households/{h.public_id}").json()["members"][0]
    assert "id_number_masked" not in member and "age" not in member and "age_band" in member
    assert "relatives" not in member
    # Reading is fine; setting is not.
    assert client.get(f"/dwellings/{world.dwellings['A1a-b1'].public_id}/household/").status_code == 404


def test_household_out_of_scope_is_404(world, client, login):
    other = services.household_set(
        actor=SYSTEM, dwelling=world.dwellings["A1b"], head=world.persons["A1b"], members={}
    )
    login(world, OFFICER)
    assert client.get(f"/households/{other.public_id}/").status_code == 404
    assert client.get(f"/api/v1/households/{other.public_id}").status_code == 404
    assert client.get(f"/dwellings/{world.dwellings['A1b'].public_id}/household/").status_code == 404
    r = api(
        client,
        "put",
        f"/api/v1/dwellings/{world.dwellings['A1b'].public_id}/household",
        {"head_id": str(world.persons["A1b"].public_id)},
    )
    assert r.status_code == 404
    assert client.get("/households/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_form_sets_and_resets_the_household_of_a_dwelling(world, client, login):
    wife = world.persons["A1a-b1"]
    husband = resident(world, "赵丈夫", "M", date(1978, 1, 1), 51)
    lodger = resident(world, "钱租客", "M", date(1995, 1, 1), 53)
    dwelling = world.dwellings["A1a-b1"]
    url = f"/dwellings/{dwelling.public_id}/household/"
    login(world, OFFICER)
    page = client.get(url).content.decode()
    assert "赵丈夫" in page and "钱租客" in page
    assert AuditEntry.objects.get(action="household.form").row_count == 3
    r = client.post(
        url,
        {
            "head": husband.public_id,
            f"rel_{wife.public_id.hex}": "10",
            f"rel_{lodger.public_id.hex}": "99",
        },
    )
    household = Household.objects.get(dwelling=dwelling)
    assert r.status_code == 302 and r["Location"] == f"/households/{household.public_id}/"
    assert household.head == husband
    assert {p.name: p.relation_to_head for p in household.members.all()} == {
        "赵丈夫": "02",
        "居民A1a-b1": "10",
        "钱租客": "99",
    }
    # Re-formed with the wife as head and the lodger out: the same household, not a second one.
    r = client.post(url, {"head": wife.public_id, f"rel_{husband.public_id.hex}": "10"})
    assert r.status_code == 302
    assert Household.objects.filter(dwelling=dwelling).count() == 1
    household.refresh_from_db()
    assert household.head == wife
    lodger.refresh_from_db()
    assert lodger.household is None and lodger.relation_to_head == ""
    # The form shows what is on file.
    page = client.get(url).content.decode()
    assert re.search(rf'value="{wife.public_id}"[^>]*checked', page)
    assert not re.search(rf'value="{husband.public_id}"[^>]*checked', page)
    assert AuditEntry.objects.filter(action="household.set").count() == 2


def test_form_bad_input_says_why_and_writes_nothing(world, client, login):
    dwelling = world.dwellings["A1a-b1"]
    url = f"/dwellings/{dwelling.public_id}/household/"
    login(world, OFFICER)
    page = client.post(url, {f"rel_{world.persons['A1a-b1'].public_id.hex}": "10"})
    assert page.status_code == 200 and "请选择户主" in page.content.decode()
    page = client.post(url, {"head": world.persons["A1a"].public_id})  # not a resident here
    assert page.status_code == 200 and "请选择户主" not in page.content.decode()
    assert "选择一个有效的选项" in page.content.decode()
    assert not Household.objects.exists()
    assert not AuditEntry.objects.filter(action="household.set").exists()


def test_api_sets_the_household_and_refuses_bad_members(world, client, login):
    wife = world.persons["A1a-b1"]
    son = resident(world, "孙儿子", "M", date(2012, 2, 2), 61)
    url = f"/api/v1/dwellings/{world.dwellings['A1a-b1'].public_id}/household"
    login(world, OFFICER)
    r = api(
        client,
        "put",
        url,
        {
            "head_id": str(wife.public_id),
            "members": [{"person_id": str(world.persons["A1a"].public_id), "relation": "20"}],
        },
    )
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "household.member_unknown"
    r = api(
        client,
        "put",
        url,
        {"head_id": str(wife.public_id), "members": [{"person_id": str(son.public_id), "relation": "77"}]},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == "取值无效。"
    r = api(
        client,
        "put",
        url,
        {"head_id": str(wife.public_id), "members": [{"person_id": str(wife.public_id), "relation": "20"}]},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "household.head_relation"
    assert not Household.objects.exists()
    r = api(
        client,
        "put",
        url,
        {"head_id": str(wife.public_id), "members": [{"person_id": str(son.public_id), "relation": "20"}]},
    )
    assert r.status_code == 200
    assert {m["name"]: m["relation_to_head"] for m in r.json()["members"]} == {
        "居民A1a-b1": "02",
        "孙儿子": "20",
    }


def test_household_set_refuses_inactive_members_and_a_missing_head(world):
    officer = world.actor(OFFICER)
    dwelling = world.dwellings["A1a-b1"]
    wife = world.persons["A1a-b1"]
    late = resident(world, "周故人", "M", date(1940, 1, 1), 71)
    services.record_event(
        actor=officer, person=late, kind="death", occurred_on=date(2025, 1, 1), version=late.version
    )
    late.refresh_from_db()
    with pytest.raises(DomainError) as exc:
        services.household_set(actor=officer, dwelling=dwelling, head=wife, members={late: "10"})
    assert exc.value.code == "household.member_inactive"
    with pytest.raises(DomainError) as exc:
        services.household_set(actor=officer, dwelling=dwelling, head=None, members={})
    assert exc.value.code == "household.head_required" and exc.value.field == "head"
    with pytest.raises(DomainError) as exc:
        services.household_set(
            actor=officer, dwelling=world.dwellings["A1b"], head=world.persons["A1b"], members={}
        )
    assert exc.value.code == "person.dwelling_out_of_scope"
    assert not Household.objects.exists()


def test_household_page_query_count_does_not_grow_with_members(world, client, login, family):
    login(world, OFFICER)
    url = f"/households/{family['household'].public_id}/"

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    members = {family["wife"]: "10", family["son"]: "20"}
    for i in range(15):
        members[resident(world, f"亲戚{i}", "F", date(1990, 1, 1), 100 + 2 * i)] = "80"
    services.household_set(
        actor=SYSTEM, dwelling=world.dwellings["A1a-b1"], head=family["husband"], members=members
    )
    assert count() == few
    c = Client()
    world.login(c, "building_volunteer")
    with CaptureQueriesContext(connection) as ctx:
        c.get(url)
    assert len(ctx.captured_queries) <= few
