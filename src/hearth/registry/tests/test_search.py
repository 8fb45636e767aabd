"""Search within scope: name (exact first, then partial), pinyin full and initials, phone, dwelling."""

from datetime import date

import pytest

from hearth.audit.models import AuditEntry
from hearth.core import citizen_id
from hearth.registry import services
from hearth.registry.selectors import PersonFilter, person_search


@pytest.fixture
def named(world):
    officer = world.actor("community_officer")
    out = {}
    for i, (name, phone) in enumerate(
        [("张三", "13812345678"), ("张三丰", ""), ("曾凡", ""), ("赵四", "037167891234")]
    ):
        born = date(1970, 1, i + 1)
        out[name] = services.person_register(
            actor=officer,
            values={
                "name": name,
                "sex": "M",
                "birth_date": born,
                "id_number": citizen_id.make("410103", born, 31),
                "dwelling": world.dwellings["A1a"],
                "phone": phone,
            },
        )
    return out


def _names(world, q, role="community_officer"):
    rows, _total = person_search(actor=world.actor(role), flt=PersonFilter(q=q), limit=50, offset=0)
    return [p.name for p in rows]


def test_exact_name_ranks_before_partial_matches(world, named):
    assert _names(world, "张三") == ["张三", "张三丰"]
    assert _names(world, "三") == ["张三", "张三丰"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("zhangsan", ["张三", "张三丰"]),
        ("zs", ["张三", "张三丰", "赵四"]),  # 赵四 is zhaosi
        ("zsf", ["张三丰"]),
        ("ZhangSan", ["张三", "张三丰"]),
        ("zengfan", ["曾凡"]),
        ("cengfan", ["曾凡"]),
        ("zf", ["曾凡"]),
    ],
)
def test_pinyin_full_and_initials(world, named, q, expected):
    assert _names(world, q) == expected


def test_phone_search_mobile_and_landline(world, named):
    assert _names(world, "13812345678") == ["张三"]
    assert _names(world, "0371-67891234") == ["赵四"]


def test_search_never_leaves_scope(world, named):
    # The sibling community's officer does not find 祥和's residents by any key.
    for q in ("张三", "zs", "13812345678"):
        assert _names(world, q, role="community_officer") and not [
            n for n in _names_sibling(world, q) if n in {"张三", "张三丰", "赵四"}
        ]


def _names_sibling(world, q):
    from hearth.registry.models import Person

    # B1a's persons only: an officer in another district sees nothing of A1a.
    actor = world.actor("district_admin")
    rows, _ = person_search(actor=actor, flt=PersonFilter(q=q), limit=50, offset=0)
    other = Person.objects.visible_to(actor).filter(place_path__startswith=world.places["B"].path)
    return [p.name for p in rows if p.pk in set(other.values_list("pk", flat=True))]


def test_each_search_writes_one_audit_row(world, named):
    before = AuditEntry.objects.filter(action="person.list").count()
    _names(world, "zs")
    assert AuditEntry.objects.filter(action="person.list").count() == before + 1


def test_dwelling_filter_lists_its_residents(world, named, client, login):
    login(world, "community_officer")
    dwelling = world.dwellings["A1a"]
    items = client.get(f"/api/v1/persons?dwelling_id={dwelling.public_id}&limit=100").json()["items"]
    assert {i["name"] for i in items} == {"居民A1a", "张三", "张三丰", "曾凡", "赵四"}


def test_volunteer_search_by_pinyin_shows_no_id(world, named, client, login):
    login(world, "building_volunteer")
    body = client.get("/api/v1/persons?q=jumin").json()
    assert body["count"] >= 1 and all("id_number_masked" not in i for i in body["items"])
