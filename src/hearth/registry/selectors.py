"""Scoped reads of persons. Every list and search request writes one audit row (filter and count)."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.core import citizen_id, time
from hearth.core.errors import DomainError

from .models import Person


def persons_visible(actor) -> QuerySet[Person]:
    return Person.objects.visible_to(actor).select_related("dwelling__place")


@dataclass
class PersonFilter:
    q: str = ""  # name fragment
    id_number: str = ""  # full number or the last 4–6 characters; only ever received by POST

    def as_audit(self) -> dict:
        data = {"q": self.q} if self.q else {}
        if self.id_number:
            data["id_tail"] = self.id_number[-4:]  # never the whole number in the log
        return data


def person_search(*, actor, flt: PersonFilter, limit: int, offset: int) -> tuple[list[Person], int]:
    qs = persons_visible(actor)
    if flt.q:
        qs = qs.filter(name__contains=flt.q.strip())
    if flt.id_number:
        number = citizen_id.normalise(flt.id_number)
        if len(number) == 18:
            qs = qs.filter(id_number=number)
        elif 4 <= len(number) <= 6:
            qs = qs.filter(id_number__endswith=number)
        else:
            raise DomainError("search.id_length", _("请输入完整的18位号码或末4至6位。"), "id_number")
    total = qs.count()
    rows = list(qs.order_by("name", "id")[offset : offset + limit])
    audit.record(
        actor=actor, action="person.list", object_type="registry.person", row_count=total, data=flt.as_audit()
    )
    return rows, total


def person_open(*, actor, public_id, via_api: bool = False) -> Person:
    from hearth.accounts.scoping import get_visible_or_404

    person = get_visible_or_404(persons_visible(actor), actor, public_id)
    audit.record(actor=actor, action="person.view", target=person, data={"api": True} if via_api else None)
    return person


def age_band(age: int) -> str:
    if age < 18:
        return "0–17"
    if age < 30:
        return "18–29"
    if age >= 60:
        return "60+"
    lower = age // 10 * 10
    return f"{lower}–{lower + 9}"


def person_row(person: Person, actor, *, detail: bool = False) -> dict:
    """What this actor may see of a person. Volunteers: name, dwelling, sex, age band, residence type."""
    today = time.today()
    age = time.age_on(person.birth_date, today)
    row = {
        "id": str(person.public_id),
        "name": person.name,
        "sex": person.sex,
        "sex_display": person.get_sex_display(),
        "dwelling": str(person.dwelling),
        "residence_type": person.residence_type,
        "residence_type_display": person.get_residence_type_display(),
    }
    if not actor.can(Perm.PERSON_VIEW_FULL):
        row["age_band"] = age_band(age)
        return row
    row["age"] = age
    row["id_number_masked"] = person.id_masked
    row["version"] = person.version
    if detail:
        row["birth_date"] = person.birth_date.isoformat()
        row["dwelling_id"] = str(person.dwelling.public_id)
    return row
