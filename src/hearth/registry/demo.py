"""Demo data: 郑州市 → 二七区 → 大学路街道 and its 12 communities (seed 001 附件1), idempotently.

Codes below the district are illustrative 12-digit statistical codes, not the official ones.
"""

import random
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction

from hearth.accounts.actor import Actor
from hearth.accounts.models import Grant, User
from hearth.accounts.roles import Role
from hearth.accounts.services import grant_create, user_create
from hearth.core import citizen_id
from hearth.places.models import Dwelling, Facility, FacilityKind, Place, PlaceKind
from hearth.places.services import dwelling_create, facility_create, place_create

from . import identity
from .models import Person, ResidenceType
from .services import person_register

COMMUNITIES = ["祥和", "学苑", "郑大", "康桥", "桃源", "新华", "嵩山", "中原", "长城", "绿城", "交通", "金桥"]
PASSWORD = "hearth-demo"
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥建国志强文博雨欣子涵浩然梓萱思远佳怡"


def _place(actor, *, kind, name, parent, code=""):
    found = Place.objects.filter(parent=parent, name=name, valid_to__isnull=True).first()
    return found or place_create(actor=actor, kind=kind, name=name, parent=parent, code=code)


def _dwelling(actor, place, address):
    return Dwelling.objects.filter(place=place, address=address).first() or dwelling_create(
        actor=actor, place=place, address=address
    )


@transaction.atomic
def build_places(actor) -> dict:
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
        for b in range(1, 4):
            building = _place(
                actor, kind=PlaceKind.BUILDING, name=f"{b}号楼", parent=community, code=f"B{b:02d}"
            )
            for u in range(1, 3):
                unit = _place(actor, kind=PlaceKind.UNIT, name=f"{u}单元", parent=building, code=f"U{u:02d}")
                for floor in (1, 2):
                    for door in (1, 2):
                        _dwelling(actor, unit, f"{floor}0{door}室")
    facility = Facility.objects.filter(name="大学路社区卫生服务站").first() or facility_create(
        actor=actor,
        name="大学路社区卫生服务站",
        kind=FacilityKind.STATION,
        place=street,
        served_places=list(communities.values()),
    )
    return {"district": district, "street": street, "communities": communities, "facility": facility}


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


@transaction.atomic
def build_persons(actor, *, seed: int = 2012) -> int:
    """About two persons per dwelling, with valid IDs (area 410103), ages 0–90."""
    rng = random.Random(seed)
    created = 0
    for n, dwelling in enumerate(Dwelling.objects.order_by("pk")):
        for k in range(2):
            born = date(1935, 1, 1) + timedelta(days=rng.randrange(0, 365 * 90))
            sex = "M" if (n + k) % 2 else "F"
            seq = (n * 2 + k) % 500 * 2 + (1 if sex == "M" else 0)
            number = citizen_id.make("410103", born, seq % 1000)
            # Draw every random value before deciding to skip, so a second run sees the same sequence.
            residence = rng.choices(list(ResidenceType.values), weights=(80, 10, 8, 2))[0]
            name = _name(rng)
            if Person.objects.for_system().filter(id_index=identity.index_of("resident_id", number)).exists():
                continue
            person_register(
                actor=actor,
                values={
                    "name": name,
                    "sex": sex,
                    "birth_date": born,
                    "id_number": number,
                    "dwelling": dwelling,
                    "residence_type": residence,
                },
            )
            created += 1
    return created


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


def load_demo() -> dict:
    actor = Actor.system("demo data")
    places = build_places(actor)
    persons = build_persons(actor)
    accounts = build_accounts(actor, places)
    return {"persons_created": persons, "accounts": accounts}
