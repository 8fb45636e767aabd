"""户: reads for household pages. Members are listed as lists show persons (`selectors.person_row`), each
with their relation to the head (GB/T 4761). A relative or head outside the actor's scope is shown masked
and cannot be opened. The household is (re)formed by `services.household_set`.
"""

from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.places.models import Dwelling
from hearth.places.tree import subtree_q

from .models import Household, Person, PersonStatus
from .selectors import mask_name, person_row

# Head first, then by the GB/T 4761 code (spouse, children, grandchildren, parents…), an unset one last.
_RELATION_ORDER = Case(
    When(relation_to_head="", then=Value(1)), default=Value(0), output_field=IntegerField()
)


def household_open(*, actor, public_id) -> Household:
    actor.require(Perm.PERSON_VIEW)
    return get_visible_or_404(Household.objects.select_related("dwelling__place", "head"), actor, public_id)


def household_members(*, actor, household: Household) -> list[Person]:
    """Members the actor may see. Volunteers see current residents only (they are not shown a status)."""
    qs = Person.objects.visible_to(actor).filter(household=household).select_related("dwelling")
    if not actor.can(Perm.PERSON_VIEW_FULL):
        qs = qs.filter(status=PersonStatus.ACTIVE)
    return list(qs.order_by(_RELATION_ORDER, "relation_to_head", "birth_date", "id"))


def relative_links(actor, persons: list[Person]) -> dict[int, list[dict]]:
    """Spouse and parents of each person, in two queries whatever the number of persons."""
    attrs = (("spouse_id", _("配偶")), ("mother_id", _("母亲")), ("father_id", _("父亲")))
    wanted = {getattr(p, a) for p in persons for a, _label in attrs if getattr(p, a)}
    if not wanted:
        return {}
    # Unscoped only to show a masked name for a relative outside the scope, as selectors.relatives does.
    found = {
        p.pk: p for p in Person.objects.for_system().filter(pk__in=wanted).only("id", "public_id", "name")
    }
    visible = set(Person.objects.visible_to(actor).filter(pk__in=wanted).values_list("pk", flat=True))
    out: dict[int, list[dict]] = {}
    for p in persons:
        for attr, label in attrs:
            pk = getattr(p, attr)
            other = found.get(pk) if pk else None
            if other is None:
                continue
            if pk in visible:
                link = {"relation": label, "name": other.name, "id": str(other.public_id), "openable": True}
            else:
                link = {"relation": label, "name": mask_name(other.name), "id": None, "openable": False}
            out.setdefault(p.pk, []).append(link)
    return out


def member_rows(*, actor, household: Household, members: list[Person]) -> list[dict]:
    full = actor.can(Perm.PERSON_VIEW_FULL)
    links = relative_links(actor, members) if full else {}
    rows = []
    for p in members:
        row = person_row(p, actor)
        row["relation_to_head"] = p.relation_to_head
        row["relation_to_head_display"] = p.get_relation_to_head_display() if p.relation_to_head else ""
        row["is_head"] = p.pk == household.head_id
        # A member who has since moved (a dwelling change) stays listed until the household is re-formed.
        row["lives_here"] = p.dwelling_id == household.dwelling_id
        if full:
            row["relatives"] = links.get(p.pk, [])
        rows.append(row)
    return rows


def head_link(*, actor, household: Household, members: list[Person]) -> dict | None:
    if household.head_id is None:
        return None
    for p in members:
        if p.pk == household.head_id:
            return {"name": p.name, "id": str(p.public_id), "openable": True}
    if Person.objects.visible_to(actor).filter(pk=household.head_id).exists():
        return {"name": household.head.name, "id": str(household.head.public_id), "openable": True}
    return {"name": mask_name(household.head.name), "id": None, "openable": False}


def household_view(*, actor, household: Household, via_api: bool = False) -> dict:
    """Everything a household page shows, with one audit row for the read."""
    members = household_members(actor=actor, household=household)
    view = {
        "id": str(household.public_id),
        "number": household.number,
        "dwelling": str(household.dwelling),
        "dwelling_id": str(household.dwelling.public_id),
        "head": head_link(actor=actor, household=household, members=members),
        "members": member_rows(actor=actor, household=household, members=members),
    }
    audit.record(
        actor=actor,
        action="household.view",
        target=household,
        row_count=len(members),
        data={"api": True} if via_api else None,
    )
    return view


# --- forming the household of a dwelling --------------------------------------------------------------


def dwelling_open(*, actor, public_id, permission: str = Perm.PERSON_CHANGE) -> Dwelling:
    """A dwelling in the actor's scope (404 otherwise), for the household form."""
    actor.require(permission)
    if not actor.sees_personal_data or actor.scope_path is None or actor.facility is not None:
        raise Http404
    try:
        return Dwelling.objects.select_related("place").get(
            subtree_q("place__path", actor.scope_path), public_id=public_id
        )
    except (Dwelling.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def dwelling_household(dwelling: Dwelling) -> Household | None:
    """The household of a dwelling (the oldest, if several were formed there)."""
    return (
        Household.objects.for_system().filter(dwelling=dwelling).select_related("head").order_by("id").first()
    )


def dwelling_residents(*, actor, dwelling: Dwelling) -> QuerySet[Person]:
    """Current residents of the dwelling, the persons a household is formed from."""
    return (
        Person.objects.visible_to(actor)
        .filter(dwelling=dwelling, status=PersonStatus.ACTIVE)
        .select_related("dwelling")
        .order_by("birth_date", "id")
    )
