"""Scoped reads of migrants' records, landlords and tenancies. Lists and opened records are audited.

Everything here is personal data for those who see persons in full (Perm.PERSON_VIEW_FULL) through a place
grant: volunteers, clinic staff and the administrative roles are refused as "not found".
"""

from dataclasses import dataclass

from django.db.models import F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core.phone import mask_phone
from hearth.places.models import Dwelling, Place
from hearth.places.tree import ancestor_paths
from hearth.registry import identity
from hearth.registry.models import Person, PersonStatus
from hearth.registry.selectors import mask_name, person_row

from .models import InflowRecord, Landlord, OutflowRecord, Tenancy
from .services import LANDLORD_PLACE_KINDS


def can_read(actor) -> bool:
    return (
        actor is not None
        and actor.sees_personal_data
        and actor.can(Perm.PERSON_VIEW_FULL)
        and actor.facility is None
        and actor.scope_path is not None
    )


def require_read(actor) -> None:
    if not can_read(actor):
        raise Http404


def require_write(actor, perm: str = Perm.PERSON_CHANGE) -> None:
    require_read(actor)
    actor.require(perm)


def in_scope(actor, path: str) -> bool:
    scope = actor.scope_path or ""
    return bool(scope) and path.startswith(scope)


# --- persons and their inflow/outflow records ----------------------------------------------------------


def person_open(*, actor, public_id, action: str, via_api: bool = False) -> Person:
    """A person of the actor's scope, opened for their migrant record: one audited read."""
    require_read(actor)
    person = get_visible_or_404(Person.objects.select_related("dwelling__place"), actor, public_id)
    audit.record(actor=actor, action=action, target=person, data={"api": True} if via_api else None)
    return person


def inflow_of(person: Person) -> InflowRecord | None:
    return InflowRecord.objects.for_system().filter(person=person).first()


def outflow_of(person: Person) -> OutflowRecord | None:
    return OutflowRecord.objects.for_system().filter(person=person).first()


def person_by_document(id_type: str, raw_number: str, *, field: str = "id_number") -> Person | None:
    """Anyone in the system with this document number, through the blind index (the number is never stored
    or logged). The caller decides what the actor may see of the person found."""
    number = identity.normalise_document(id_type, raw_number, field=field)
    return Person.objects.for_system().filter(id_index=identity.index_of(id_type, number)).first()


def visible_person_by_document(actor, id_type: str, raw_number: str, *, field: str = "id_number"):
    number = identity.normalise_document(id_type, raw_number, field=field)
    return (
        Person.objects.visible_to(actor)
        .select_related("dwelling__place")
        .filter(id_index=identity.index_of(id_type, number))
        .first()
    )


def person_link(actor, person: Person | None) -> dict | None:
    """A linked person as this actor may see them: openable within scope, otherwise masked and not openable."""
    if person is None:
        return None
    if Person.objects.visible_to(actor).filter(pk=person.pk).exists():
        return {"id": str(person.public_id), "name": person.name, "openable": True}
    return {"id": None, "name": mask_name(person.name), "openable": False}


# --- choices for forms ---------------------------------------------------------------------------------


def landlord_places(actor) -> QuerySet[Place]:
    """Where a landlord may be registered: current communities (and places below them) in scope."""
    return Place.objects.visible_to(actor).current().filter(kind__in=LANDLORD_PLACE_KINDS).order_by("path")


def place_labels(places) -> dict[int, str]:
    """'祥和社区 / 1号楼' for each place, from the places themselves (no tree walk per row)."""
    name_by_path = {p.path: p.name for p in places}
    return {
        p.pk: " / ".join(name_by_path[a] for a in ancestor_paths(p.path) if a in name_by_path) for p in places
    }


def community_labels(places) -> dict[int, str]:
    """'祥和社区 / 1号楼' for places read elsewhere (list rows, a detail page): one query for any number."""
    paths = {a for p in places for a in ancestor_paths(p.path)}
    names = dict(
        Place.objects.filter(path__in=paths, kind__in=LANDLORD_PLACE_KINDS).values_list("path", "name")
    )
    return {
        p.pk: " / ".join(names[a] for a in ancestor_paths(p.path) if a in names) or p.name for p in places
    }


def residents_of(actor, dwelling: Dwelling) -> QuerySet[Person]:
    return (
        Person.objects.visible_to(actor)
        .filter(dwelling=dwelling, status=PersonStatus.ACTIVE)
        .select_related("dwelling__place")
        .order_by("name", "id")
    )


# --- landlords -----------------------------------------------------------------------------------------


def landlords_visible(actor) -> QuerySet[Landlord]:
    if not can_read(actor):
        return Landlord.objects.none()
    return Landlord.objects.visible_to(actor)


def _landlord_condition(q: str) -> Q:
    q = q.strip()
    digits = q.replace("-", "").replace(" ", "")
    if digits.isdigit() and len(digits) >= 3:
        return Q(phone__contains=digits)
    return Q(name__contains=q)


def landlord_search(*, actor, q: str, limit: int, offset: int) -> tuple[list[Landlord], int]:
    """Landlords registered in the actor's subtree, by name or phone; one audit row per request."""
    require_read(actor)
    qs = landlords_visible(actor)
    if q.strip():
        qs = qs.filter(_landlord_condition(q))
    total = qs.count()
    rows = list(
        qs.select_related("place")
        .annotate(
            n_dwellings=_count(
                Landlord.dwellings.through.objects.filter(landlord=OuterRef("pk")), "landlord"
            ),
            # A count joined to landlords already scoped above: no tenancy row is read.
            n_open=_count(
                Tenancy.objects.for_system().filter(landlord=OuterRef("pk"), ended_on__isnull=True),
                "landlord",
            ),
        )
        .order_by("name", "id")[offset : offset + limit]
    )
    labels = community_labels([r.place for r in rows])
    for r in rows:
        r.place_label = labels[r.place.pk]
    audit.record(
        actor=actor,
        action="migrants.landlord.list",
        object_type="migrants.landlord",
        row_count=total,
        data={"q": q} if q else None,
    )
    return rows, total


def landlord_row(landlord: Landlord) -> dict:
    return {
        "id": str(landlord.public_id),
        "name": landlord.name,
        "phone_masked": mask_phone(landlord.phone),
        "place": getattr(landlord, "place_label", landlord.place.name),
        "agreement_signed": landlord.agreement_signed,
        "agreement_date": landlord.agreement_date,
        "dwellings": getattr(landlord, "n_dwellings", None),
        "open_tenancies": getattr(landlord, "n_open", None),
    }


def landlord_open(*, actor, public_id, via_api: bool = False) -> Landlord:
    require_read(actor)
    landlord = get_visible_or_404(Landlord.objects.select_related("place", "person"), actor, public_id)
    audit.record(
        actor=actor, action="migrants.landlord.view", target=landlord, data={"api": True} if via_api else None
    )
    return landlord


def landlord_for_change(*, actor, public_id) -> Landlord:
    require_write(actor)
    return get_visible_or_404(Landlord.objects.select_related("place", "person"), actor, public_id)


def _tenant_row(actor, person: Person, tenancy: Tenancy, visible: set[int]) -> dict:
    lives_here = person.dwelling_id == tenancy.dwelling_id and person.status == PersonStatus.ACTIVE
    if person.pk in visible:
        row = person_row(person, actor) | {"openable": True}
    else:
        # A tenant who has since moved out of the actor's scope: named as relatives are, not openable.
        row = {"id": None, "name": mask_name(person.name), "openable": False}
    row["lives_here"] = lives_here
    return row


@dataclass
class LandlordDetail:
    landlord: Landlord
    place: str
    person: dict | None
    dwellings: list[Dwelling]
    tenancies: list[dict]


def landlord_detail(actor, landlord: Landlord) -> LandlordDetail:
    """Owned dwellings and tenancies (open first) with their tenants as lists show persons, masked."""
    # The landlord was opened through the scope; each tenant below is shown masked unless visible.
    tenancies = list(
        Tenancy.objects.for_system()
        .filter(landlord=landlord)
        .select_related("dwelling__place")
        .prefetch_related(
            Prefetch("tenants", queryset=Person.objects.for_system().select_related("dwelling__place"))
        )
        .order_by(F("ended_on").desc(nulls_first=True), "-started_on", "id")
    )
    tenant_ids = {p.pk for t in tenancies for p in t.tenants.all()}
    visible = set(Person.objects.visible_to(actor).filter(pk__in=tenant_ids).values_list("pk", flat=True))
    scope = actor.scope_path or ""
    rows = []
    for t in tenancies:
        tenants = [_tenant_row(actor, p, t, visible) for p in t.tenants.all()]
        registered = sum(1 for r in tenants if r["lives_here"])
        rows.append(
            {
                "tenancy": t,
                "in_scope": t.dwelling.place.path.startswith(scope),
                "tenants": tenants,
                "registered": registered,
                "reasons": reasons_for(t, registered, landlord.agreement_signed)
                if t.ended_on is None
                else [],
            }
        )
    return LandlordDetail(
        landlord=landlord,
        place=community_labels([landlord.place])[landlord.place.pk],
        person=person_link(actor, landlord.person),
        dwellings=list(landlord.dwellings.select_related("place").order_by("full_address")),
        tenancies=rows,
    )


# --- tenancies and the rental worklist -----------------------------------------------------------------


def tenancy_open(*, actor, public_id, write: bool = True) -> Tenancy:
    if write:
        require_write(actor)
    else:
        require_read(actor)
    return get_visible_or_404(
        Tenancy.objects.select_related("dwelling__place", "landlord__place"), actor, public_id
    )


def _count(qs: QuerySet, key: str) -> Coalesce:
    """A correlated COUNT(*) subquery: no GROUP BY on the outer query, so filters stay plain WHERE."""
    counted = qs.order_by().values(key).annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _with_registered(qs: QuerySet[Tenancy]) -> QuerySet[Tenancy]:
    """Tenants count as registered while the registry has them living in the rented dwelling."""
    links = Tenancy.tenants.through.objects.filter(
        tenancy=OuterRef("pk"), person__dwelling=OuterRef("dwelling"), person__status=PersonStatus.ACTIVE
    )
    return qs.annotate(registered=_count(links, "tenancy"))


def worklist_queryset(actor) -> QuerySet[Tenancy]:
    """以房管人 worklist: open tenancies whose tenants are not (all) registered, or whose landlord has not
    signed the registration agreement."""
    if not can_read(actor):
        return Tenancy.objects.none()
    qs = _with_registered(Tenancy.objects.visible_to(actor).filter(ended_on__isnull=True))
    return qs.filter(
        Q(registered=0) | Q(declared_tenants__gt=F("registered")) | Q(landlord__agreement_signed=False)
    )


def worklist_count(actor) -> int:
    """One aggregate query (the home page asks this on every visit)."""
    if not can_read(actor):
        return 0
    return worklist_queryset(actor).count()


REASON_NO_TENANTS = "no_tenants"
REASON_TENANTS_MISSING = "tenants_missing"
REASON_AGREEMENT = "agreement_unsigned"


def reasons_for(tenancy: Tenancy, registered: int, landlord_signed: bool) -> list[dict]:
    out = []
    if registered == 0:
        out.append({"code": REASON_NO_TENANTS, "text": _("未登记租住人员")})
    elif tenancy.declared_tenants > registered:
        out.append(
            {
                "code": REASON_TENANTS_MISSING,
                "text": _("申报租住 %(d)d 人，已登记 %(r)d 人")
                % {"d": tenancy.declared_tenants, "r": registered},
            }
        )
    if not landlord_signed:
        out.append({"code": REASON_AGREEMENT, "text": _("房东未签订房屋出租登记协议")})
    return out


def worklist(*, actor, limit: int, offset: int) -> tuple[list[dict], int]:
    """Worklist rows, each with why it is there; a fixed number of queries and one audit row."""
    require_read(actor)
    qs = worklist_queryset(actor)
    total = qs.count()
    tenancies = list(
        qs.select_related("dwelling__place", "landlord__place").order_by("started_on", "id")[
            offset : offset + limit
        ]
    )
    rows = [
        {
            "tenancy": t,
            "id": str(t.public_id),
            "dwelling": str(t.dwelling),
            "landlord": t.landlord,
            "landlord_in_scope": in_scope(actor, t.landlord.place.path),
            "declared_tenants": t.declared_tenants,
            "registered": t.registered,
            "reasons": reasons_for(t, t.registered, t.landlord.agreement_signed),
        }
        for t in tenancies
    ]
    audit.record(
        actor=actor, action="migrants.rental_worklist", object_type="migrants.tenancy", row_count=total
    )
    return rows, total
