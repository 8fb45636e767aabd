"""Demo data: 郑州市 → 二七区 → 大学路街道 and its 12 communities (seed 001 附件1), idempotently.

Codes below the district are illustrative 12-digit statistical codes, not the official ones. Each community
has buildings of 2 units × 6 floors × 2 flats; the population generator (registry/population.py) fills
them with DEMO_PERSONS residents: families, migrants with their landlords, life events.
"""

import math

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from hearth.accounts.actor import Actor
from hearth.accounts.models import Grant, User
from hearth.accounts.roles import Role
from hearth.accounts.services import grant_create, user_create
from hearth.core.errors import DomainError
from hearth.places.models import Dwelling, Facility, FacilityKind, Place, PlaceKind
from hearth.places.services import dwelling_create, facility_create, place_create
from hearth.places.tree import subtree_q

from . import population
from .models import Person

COMMUNITIES = ["祥和", "学苑", "郑大", "康桥", "桃源", "新华", "嵩山", "中原", "长城", "绿城", "交通", "金桥"]
PASSWORD = "hearth-demo"
# `make demo` loads this many residents (about 2.5 a flat): well under a minute on two cores.
DEMO_PERSONS = 4000
BUILDINGS = 6  # per community, at least
UNITS, FLOORS, DOORS = 2, 6, 2
PER_BUILDING = UNITS * FLOORS * DOORS


def _place(actor, *, kind, name, parent, code=""):
    found = Place.objects.filter(parent=parent, name=name, valid_to__isnull=True).first()
    return found or place_create(actor=actor, kind=kind, name=name, parent=parent, code=code)


def _dwellings(actor, unit) -> None:
    have = set(Dwelling.objects.filter(place=unit).values_list("address", flat=True))
    for floor in range(1, FLOORS + 1):
        for door in range(1, DOORS + 1):
            address = f"{floor}0{door}室"
            if address not in have:
                dwelling_create(actor=actor, place=unit, address=address)


def buildings_for(persons: int) -> int:
    """Buildings per community so that `persons` fit at about 2.5 a flat."""
    return max(BUILDINGS, math.ceil(persons / 2.5 / len(COMMUNITIES) / PER_BUILDING))


@transaction.atomic
def build_places(actor, *, buildings: int = BUILDINGS) -> dict:
    city = _place(actor, kind=PlaceKind.CITY, name="郑州市", parent=None, code="410100")
    district = _place(actor, kind=PlaceKind.DISTRICT, name="二七区", parent=city, code="410103")
    street = _place(
        actor, kind=PlaceKind.SUBDISTRICT, name="大学路街道", parent=district, code="410103001000"
    )
    communities = {}
    for i, name in enumerate(COMMUNITIES, start=1):
        community = _place(
            actor, kind=PlaceKind.COMMUNITY, name=f"{name}社区", parent=street, code=f"410103001{i:03d}"
        )
        communities[name] = community
        for b in range(1, buildings + 1):
            building = _place(
                actor, kind=PlaceKind.BUILDING, name=f"{b}号楼", parent=community, code=f"B{b:02d}"
            )
            for u in range(1, UNITS + 1):
                unit = _place(actor, kind=PlaceKind.UNIT, name=f"{u}单元", parent=building, code=f"U{u:02d}")
                _dwellings(actor, unit)
    facility = Facility.objects.filter(name="大学路社区卫生服务站").first() or facility_create(
        actor=actor,
        name="大学路社区卫生服务站",
        kind=FacilityKind.STATION,
        place=street,
        served_places=list(communities.values()),
    )
    return {"district": district, "street": street, "communities": communities, "facility": facility}


def build_persons(actor, *, persons: int = DEMO_PERSONS, seed: int = 2012, workers: int = 0):
    """Bring 大学路街道 to `persons` residents with the population generator, into flats nobody lives in.

    Idempotent: when the sub-district already has that many, nothing is written. Returns the load report,
    or None when there was nothing to do.
    """
    street = Place.objects.get(kind=PlaceKind.SUBDISTRICT, name="大学路街道", parent__name="二七区")
    missing = persons - Person.objects.for_system().filter(subtree_q("place_path", street.path)).count()
    if missing <= 0:
        return None
    occupied = Person.objects.for_system().filter(dwelling=OuterRef("pk"))
    blocks = []
    for community in Place.objects.filter(parent=street, kind=PlaceKind.COMMUNITY).order_by("code", "pk"):
        homes = [
            population.Home(id=pk, place_path=path)
            for pk, path in Dwelling.objects.filter(subtree_q("place__path", community.path))
            .exclude(Exists(occupied))
            .order_by("place__path", "pk")
            .values_list("pk", "place__path")
        ]
        blocks.append((community, homes))
    room = sum(len(homes) for _c, homes in blocks)
    if room * population.MAX_HOUSEHOLD < missing:
        raise DomainError("population.no_room", _("演示社区的空置房屋不足，请增加楼栋后再生成。"))
    communities, left = [], missing
    for i, (community, homes) in enumerate(blocks):
        share = left if i == len(blocks) - 1 else min(left, round(missing * len(homes) / room))
        left -= share
        if share:
            communities.append(
                population.Community(
                    place_id=community.pk,
                    place_path=community.path,
                    home_area="410103",
                    persons=share,
                    homes=homes,
                    name=community.name,
                )
            )
    options = population.Options(seed=seed, workers=workers)
    return population.population_load(actor=actor, communities=communities, options=options)


def build_accounts(actor, places: dict) -> list[tuple[str, str]]:
    if not settings.HEARTH_DEMO:
        raise RuntimeError("demo accounts are created only when HEARTH_DEMO=1")
    xianghe = places["communities"]["祥和"]
    building = Place.objects.get(parent=xianghe, name="1号楼")
    plan = [
        ("district_admin", "区卫健委 王主任", Role.DISTRICT_ADMIN, places["district"], None),
        ("street_officer", "街道计生办 李干事", Role.SUBDISTRICT_OFFICER, places["street"], None),
        ("community_officer", "祥和社区 张专干", Role.COMMUNITY_OFFICER, xianghe, None),
        ("building_volunteer", "1号楼 刘信息员", Role.BUILDING_VOLUNTEER, building, None),
        ("data_clerk", "街道 陈微机员", Role.DATA_CLERK, places["street"], None),
        ("clinic_staff", "服务站 杨医生", Role.CLINIC_STAFF, None, places["facility"]),
        ("auditor", "区审计员 赵", Role.AUDITOR, places["district"], None),
        ("security_admin", "区安全管理员 黄", Role.SECURITY_ADMIN, places["district"], None),
        ("system_admin", "区系统管理员 周", Role.SYSTEM_ADMIN, places["district"], None),
    ]
    out = []
    for username, full_name, role, place, facility in plan:
        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            if user is None:
                user = user_create(actor=actor, username=username, full_name=full_name, password=PASSWORD)
                user.is_demo = True
                user.save(update_fields=["is_demo"])
            if (
                not Grant.objects.active()
                .filter(user=user, role=role, place=place, facility=facility)
                .exists()
            ):
                grant_create(actor=actor, user=user, role=role, place=place, facility=facility)
        out.append((username, role.label))
    return out


def load_demo(*, persons: int = DEMO_PERSONS, seed: int = 2012) -> dict:
    actor = Actor.system("demo data")
    places = build_places(actor, buildings=buildings_for(persons))
    report = build_persons(actor, persons=persons, seed=seed)
    accounts = build_accounts(actor, places)
    return {"persons_created": report.persons if report else 0, "report": report, "accounts": accounts}
