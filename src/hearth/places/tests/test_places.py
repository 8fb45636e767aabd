from datetime import date

import pytest

from hearth.audit.models import AuditEntry
from hearth.core.errors import DomainError
from hearth.places import services
from hearth.places.models import Dwelling, Place, PlaceNameHistory
from hearth.places.tree import subtree_q
from hearth.registry.models import Person


def test_subtree_is_one_range_query(world, django_assert_num_queries):
    a1 = world.places["A1"]
    with django_assert_num_queries(1):
        names = set(Place.objects.subtree(a1).values_list("name", flat=True))
    assert names == {"大学路街道", "祥和社区", "1号楼", "1单元", "2号楼", "学苑社区"}
    # A sibling whose id shares a prefix with ours is never inside our range.
    assert "淮河路街道" not in names


def test_shape_of_the_tree_is_enforced(world):
    officer = world.actor("community_officer")
    with pytest.raises(DomainError) as exc:
        services.place_create(actor=officer, kind="district", name="x", parent=world.places["A1a"])
    assert exc.value.code == "place.kind_under_parent"
    with pytest.raises(DomainError) as exc:
        services.place_create(actor=officer, kind="building", name="9号楼", parent=world.places["A1b"])
    assert exc.value.code == "place.out_of_scope"
    with pytest.raises(DomainError) as exc:
        services.place_create(actor=officer, kind="building", name="1号楼", parent=world.places["A1a"])
    assert exc.value.code == "place.duplicate_name"


def test_codes_are_checked(world):
    actor = world.actor("district_admin")
    with pytest.raises(DomainError) as exc:
        services.place_create(
            actor=actor, kind="subdistrict", name="新街道", parent=world.places["A"], code="4101"
        )
    assert exc.value.code == "place.code_length"


def test_rename_keeps_history_and_refreshes_addresses(world, client, login):
    login(world, "community_officer")
    b1 = world.places["A1a-b1"]
    r = client.post(f"/places/{b1.public_id}/rename/", {"name": "一号楼", "code": "", "on": "2026-01-01"})
    assert r.status_code == 302
    assert PlaceNameHistory.objects.get(place=b1).name == "1号楼"
    assert Dwelling.objects.get(pk=world.dwellings["A1a-b1-u1"].pk).full_address.startswith(
        "祥和社区一号楼1单元"
    )
    assert AuditEntry.objects.filter(action="place.rename").count() == 1
    page = client.get(f"/places/{b1.public_id}/").content.decode()
    assert "曾用名" in page and "1号楼" in page


def test_merge_moves_the_subtree_and_keeps_the_old_place(world, client, login):
    login(world, "community_officer")
    b1, b2 = world.places["A1a-b1"], world.places["A1a-b2"]
    r = client.post(f"/places/{b1.public_id}/merge/", {"into": str(b2.public_id), "on": "2026-02-01"})
    assert r.status_code == 302
    b1.refresh_from_db()
    assert b1.valid_to == date(2026, 2, 1) and b1.successor == b2
    unit = Place.objects.get(pk=world.places["A1a-b1-u1"].pk)
    assert unit.parent == b2 and unit.path.startswith(b2.path)
    # The persons below moved with their dwellings and are still in the officer's scope.
    moved = Person.objects.for_system().filter(subtree_q("dwelling__place__path", b2.path))
    assert {p.name for p in moved} == {"居民A1a-b1", "居民A1a-b1-u1", "居民A1a-b2"}


def test_merge_refuses_a_place_of_another_kind(world):
    with pytest.raises(DomainError):
        services.place_merge(
            actor=world.actor("community_officer"),
            place=world.places["A1a-b1"],
            into=world.places["A1a-b1-u1"],
            on=date(2026, 1, 1),
        )


def test_dwellings_belong_to_community_level_or_below(world):
    with pytest.raises(DomainError) as exc:
        services.dwelling_create(actor=world.actor("district_admin"), place=world.places["A1"], address="1号")
    assert exc.value.code == "dwelling.place_level"


def test_facility_page_and_api(world, client, login):
    login(world, "subdistrict_officer")
    page = client.get("/facilities/").content.decode()
    assert "大学路社区卫生服务站" in page
    r = client.post(
        "/facilities/",
        {
            "name": "淮河路卫生院",
            "kind": "township_hospital",
            "place": str(world.places["A1"].public_id),
            "served": [str(world.places["A1a"].public_id)],
        },
    )
    assert r.status_code == 302
    names = {f["name"] for f in client.get("/api/v1/facilities").json()}
    assert names == {"大学路社区卫生服务站", "淮河路卫生院"}
    r = client.post(
        "/facilities/", {"name": "", "kind": "station", "place": str(world.places["A1"].public_id)}
    )
    assert r.status_code == 422


def test_dwellings_api_lists_the_subtree(world, client, login):
    login(world, "community_officer")
    r = client.get(f"/api/v1/places/{world.places['A1a-b1'].public_id}/dwellings")
    assert r.json()["count"] == 2


def test_dwelling_search_lists_only_dwellings_in_scope(world, client, login):
    login(world, "community_officer")
    page = client.get("/dwellings/search/", {"q": "室"}).content.decode()
    assert str(world.dwellings["A1a"].public_id) in page
    assert str(world.dwellings["B1a"].public_id) not in page
    assert str(world.dwellings["A1b"].public_id) not in page


def test_person_form_lists_no_dwellings_until_searched(world, client, login):
    login(world, "subdistrict_officer")
    page = client.get("/persons/new/").content.decode()
    # Only the empty option: dwellings arrive through the search box.
    assert str(world.dwellings["A1a"].public_id) not in page and "places/dwellings/search" not in page
    assert "/dwellings/search/" in page
