"""Small builders for the migrants tests, on top of the shared fixture world."""

import itertools
from datetime import date

from hearth.core import citizen_id
from hearth.migrants import services
from hearth.places.services import dwelling_create
from hearth.registry.models import Person
from hearth.registry.services import person_register
from hearth.testing import SYSTEM

INFLOW = {
    "from_region": "411721",
    "since": date(2023, 4, 1),
    "reason": "work",
    "employer": "郑州某电子厂",
    "housing": "rented",
    "certificate_held": False,
    "certificate_checked_on": None,
    "agreement_signed": True,
    "agreement_date": date(2023, 4, 2),
}
OUTFLOW = {
    "to_region": "440305",
    "to_address": "深圳市南山区",
    "since": date(2022, 9, 1),
    "contact": "",
    "informed": "",
}


def fresh(person: Person) -> Person:
    return Person.objects.for_system().select_related("dwelling__place").get(pk=person.pk)


def landlord(world, place_key: str = "A1a", *, signed: bool = False, **kw):
    values = {
        "place": world.places[place_key],
        "name": kw.pop("name", "王房东"),
        "phone": "13800138000",
        "agreement_signed": signed,
        "agreement_date": date(2024, 1, 5) if signed else None,
    }
    return services.landlord_create(actor=SYSTEM, values=values | kw)


def dwelling(world, place_key: str, address: str):
    return dwelling_create(actor=SYSTEM, place=world.places[place_key], address=address)


def tenancy(world, owner, dwelling, *, declared: int = 1, started: date = date(2024, 1, 1)):
    return services.tenancy_create(
        actor=SYSTEM, landlord=owner, dwelling=dwelling, started_on=started, declared_tenants=declared
    )


_n = itertools.count()


def resident(dwelling, name: str = "租客", **kw) -> Person:
    born = date(1995, 6, 6)
    return person_register(
        actor=SYSTEM,
        values={
            "name": name,
            "sex": "M",
            "birth_date": born,
            "id_number": citizen_id.make("411721", born, 2 * (next(_n) % 450) + 1),
            "dwelling": dwelling,
        }
        | kw,
    )
