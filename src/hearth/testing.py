"""Test support shared by all apps: the fixture world. Imported by tests and benchmarks only."""

from dataclasses import dataclass, field
from datetime import date

from django_otp.plugins.otp_totp.models import TOTPDevice

from hearth.accounts.actor import Actor, actor_for
from hearth.accounts.models import Grant, User
from hearth.accounts.roles import Role
from hearth.core import citizen_id
from hearth.places.models import Dwelling, Facility, Place, PlaceKind
from hearth.registry.models import Person

PASSWORD = "correct-horse-battery-9"
SYSTEM = Actor.system("test fixtures")

# Where each role's grant sits in the fixture world (clinic staff: at the facility).
ROLE_PLACE = {
    Role.DISTRICT_ADMIN: "A",
    Role.SUBDISTRICT_OFFICER: "A1",
    Role.COMMUNITY_OFFICER: "A1a",
    Role.ASSISTANT: "A1a",
    Role.BUILDING_VOLUNTEER: "A1a-b1",
    Role.DATA_CLERK: "A1",
    Role.CLINIC_STAFF: None,
    Role.ASSOCIATION_OFFICER: "A1",
    Role.SYSTEM_ADMIN: "A",
    Role.SECURITY_ADMIN: "A",
    Role.AUDITOR: "A",
}

# For each grant place: which fixture place is its own, a child, a sibling, and in another district.
RELATIVE_PLACES = {
    "A": {"own": "A", "child": "A1", "sibling": "B", "other_district": "B"},
    "A1": {"own": "A1", "child": "A1a", "sibling": "A2", "other_district": "B"},
    "A1a": {"own": "A1a", "child": "A1a-b1", "sibling": "A1b", "other_district": "B1a"},
    "A1a-b1": {"own": "A1a-b1", "child": "A1a-b1-u1", "sibling": "A1a-b2", "other_district": "B1a"},
}

# A person living in (or below) each fixture place, used as the target for person routes.
PERSON_AT = {
    "A": "A1a",
    "A1": "A1a",
    "A1a": "A1a",
    "A1a-b1": "A1a-b1",
    "A1a-b1-u1": "A1a-b1-u1",
    "A1a-b2": "A1a-b2",
    "A1b": "A1b",
    "A2": "A2a",
    "B": "B1a",
    "B1a": "B1a",
}


@dataclass
class World:
    places: dict[str, Place] = field(default_factory=dict)
    dwellings: dict[str, Dwelling] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    facility: Facility | None = None

    def actor(self, role: str, ip: str = "127.0.0.1") -> Actor:
        return actor_for(
            Grant.objects.select_related("place", "facility__place", "user").get(pk=self.grants[role].pk),
            ip=ip,
        )

    def login(self, client, role: str) -> None:
        user = self.users[role]
        client.force_login(user)
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="default", defaults={"confirmed": True})
        session = client.session
        session["grant_id"] = self.grants[role].pk
        session["otp_device_id"] = device.persistent_id
        session.save()

    def place_for(self, role: str, where: str) -> Place:
        """The fixture place at `where` (own/child/sibling/other_district) relative to the role's grant."""
        home = ROLE_PLACE[role] or "A1"
        return self.places[RELATIVE_PLACES[home][where]]

    def person_for(self, role: str, where: str) -> Person:
        home = ROLE_PLACE[role] or "A1"
        return self.persons[PERSON_AT[RELATIVE_PLACES[home][where]]]


_TREE = [
    # key, kind, name, parent key, code
    ("C", PlaceKind.CITY, "郑州市", None, "410100"),
    ("A", PlaceKind.DISTRICT, "二七区", "C", "410103"),
    ("A1", PlaceKind.SUBDISTRICT, "大学路街道", "A", "410103001000"),
    ("A1a", PlaceKind.COMMUNITY, "祥和社区", "A1", "410103001001"),
    ("A1a-b1", PlaceKind.BUILDING, "1号楼", "A1a", ""),
    ("A1a-b1-u1", PlaceKind.UNIT, "1单元", "A1a-b1", ""),
    ("A1a-b2", PlaceKind.BUILDING, "2号楼", "A1a", ""),
    ("A1b", PlaceKind.COMMUNITY, "学苑社区", "A1", "410103001002"),
    ("A2", PlaceKind.SUBDISTRICT, "淮河路街道", "A", "410103002000"),
    ("A2a", PlaceKind.COMMUNITY, "兴华社区", "A2", "410103002001"),
    ("B", PlaceKind.DISTRICT, "中原区", "C", "410102"),
    ("B1", PlaceKind.SUBDISTRICT, "林山寨街道", "B", "410102001000"),
    ("B1a", PlaceKind.COMMUNITY, "建设路社区", "B1", "410102001001"),
]


def build_world() -> World:
    from hearth.accounts.services import grant_create
    from hearth.places.services import dwelling_create, facility_create, place_create
    from hearth.registry.services import person_register

    w = World()
    for key, kind, name, parent, code in _TREE:
        w.places[key] = place_create(
            actor=SYSTEM, kind=kind, name=name, parent=w.places.get(parent) if parent else None, code=code
        )
    w.facility = facility_create(
        actor=SYSTEM,
        name="大学路社区卫生服务站",
        kind="station",
        place=w.places["A1"],
        served_places=[w.places["A1a"], w.places["A1b"]],
    )
    for n, key in enumerate(sorted(set(PERSON_AT.values())), start=1):
        w.dwellings[key] = dwelling_create(actor=SYSTEM, place=w.places[key], address=f"{n}0{n}室")
        born = date(1980 + n, (n % 12) + 1, (n % 27) + 1)
        w.persons[key] = person_register(
            actor=SYSTEM,
            values={
                "name": f"居民{key}",
                "sex": "F",
                "birth_date": born,
                "id_number": citizen_id.make("410103", born, 2 * n),
                "dwelling": w.dwellings[key],
            },
        )
    for role, where in ROLE_PLACE.items():
        user = User.objects.create_user(
            username=f"u_{role}", password=PASSWORD, full_name=f"测试{Role(role).label}"
        )
        w.users[role] = user
        if role == Role.CLINIC_STAFF:
            w.grants[role] = grant_create(actor=SYSTEM, user=user, role=role, facility=w.facility)
        else:
            w.grants[role] = grant_create(actor=SYSTEM, user=user, role=role, place=w.places[where])
    return w
