"""Scoped reads of persons. Every list and search request writes one audit row (filter and count)."""

from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.core import citizen_id, time
from hearth.core.errors import DomainError
from hearth.core.phone import mask_phone
from hearth.places.models import Dwelling
from hearth.places.tree import subtree_q

from . import identity
from .codes import region_label
from .models import LifeEvent, Person, PersonStatus
from .names import is_pinyin_query

# A 5-digit tail has no index of its own: candidates come from the 4-digit tail index, then are checked
# by decrypting at most this many of them.
TAIL5_CANDIDATES = 2000


def persons_visible(actor) -> QuerySet[Person]:
    return Person.objects.visible_to(actor).select_related("dwelling__place")


@dataclass
class PersonFilter:
    q: str = ""  # name (exact or partial), pinyin (full or initials), or phone
    id_number: str = ""  # full number or the last 4–6 characters; only ever received by POST
    dwelling: str = ""  # a dwelling's public id
    include_inactive: bool = False  # deceased and departed persons too (merged duplicates never)

    def as_audit(self) -> dict:
        data = {"q": self.q} if self.q else {}
        if self.id_number:
            data["id_tail"] = self.id_number[-4:]  # never the whole number in the log
        if self.dwelling:
            data["dwelling"] = self.dwelling
        if self.include_inactive:
            data["inactive"] = True
        return data


def text_condition(q: str) -> tuple[Q, str]:
    """The condition for a search box entry, and the exact value that ranks first (names only)."""
    q = q.strip()
    lower = q.lower().replace(" ", "")
    if is_pinyin_query(lower):
        # Variants are space-separated, so a prefix of any variant is "starts with" or "contains ' q'".
        cond = Q()
        for field in ("pinyin", "initials"):
            cond |= Q(**{f"{field}__startswith": lower}) | Q(**{f"{field}__contains": " " + lower})
        return cond, ""
    digits = q.replace("-", "").replace(" ", "")
    if digits.isdigit() and len(digits) >= 7:
        return Q(phone=digits), ""
    return Q(name__contains=q), q


def _id_condition(raw: str) -> Q | None:
    number = citizen_id.normalise(raw)
    if len(number) == 15 and number.isdigit():
        number = citizen_id.upgrade15(number)
    if len(number) >= 7:
        # Any document type: the index is per type, so ask for each.
        from .codes import DocumentType

        return Q(id_index__in=[identity.index_of(t, number) for t in DocumentType.values])
    if len(number) in (4, 6):
        field = "id_tail6" if len(number) == 6 else "id_tail4"
        return Q(**{field: identity.tail_index(number)})
    if len(number) == 5:
        return None
    raise DomainError("search.id_length", _("请输入完整的证件号码或末4至6位。"), "id_number")


def person_search(*, actor, flt: PersonFilter, limit: int, offset: int) -> tuple[list[Person], int]:
    qs = persons_visible(actor)
    if not flt.include_inactive:
        qs = qs.filter(status=PersonStatus.ACTIVE)
    else:
        qs = qs.exclude(status=PersonStatus.MERGED)
    # By pinyin, as people look names up in Chinese lists (names alone would sort by code point).
    order = ["pinyin", "name", "id"]
    if flt.q.strip():
        cond, exact = text_condition(flt.q)
        qs = qs.filter(cond)
        # Ranking by an expression also stops the planner walking the name index for a LIMIT.
        rank = Case(When(name=exact, then=Value(0)), default=Value(1), output_field=IntegerField())
        order = [rank, "pinyin", "name", "id"]
    if flt.dwelling:
        qs = qs.filter(dwelling__public_id=flt.dwelling)
    exact_id = False
    if flt.id_number:
        cond = _id_condition(flt.id_number)
        exact_id = cond is not None and "id_index__in" in dict(cond.children)
        if cond is None:  # five characters: narrow by the last four, then check by decrypting
            tail = citizen_id.normalise(flt.id_number)
            candidates = qs.filter(id_tail4=identity.tail_index(tail[-4:]))[:TAIL5_CANDIDATES]
            qs = qs.filter(pk__in=[p.pk for p in candidates if identity.reveal(p).endswith(tail)])
        else:
            qs = qs.filter(cond)
    if flt.q.strip():
        # Two steps: the page's ids from the scope index alone (it includes the searched columns), then
        # those rows. One step would fetch and drop every heap row of the scope.
        ids = list(qs.order_by(*order).values_list("id", flat=True)[offset : offset + limit])
        found = {p.pk: p for p in persons_visible(actor).filter(pk__in=ids)}
        rows = [found[pk] for pk in ids if pk in found]
    elif exact_id and not offset:
        # A whole number is one person per document type: sorted here, the query compiles and runs faster.
        rows = sorted(qs.order_by(), key=lambda p: (p.pinyin, p.name, p.pk))
    else:
        rows = list(qs.order_by(*order)[offset : offset + limit])
    # A short first page is the whole result: no second scan to count it.
    total = len(rows) if offset == 0 and len(rows) < limit else qs.count()
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


def mask_name(name: str) -> str:
    """A relative outside the actor's scope: the surname and a mark per remaining character."""
    return name[:1] + "*" * max(len(name) - 1, 1)


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
    row["status"] = person.status
    row["status_display"] = person.get_status_display()
    row["id_type"] = person.id_type
    row["id_number_masked"] = identity.masked(person)
    row["id_unverified"] = person.id_unverified
    row["phone_masked"] = mask_phone(person.phone)
    row["version"] = person.version
    if detail:
        row |= {
            "birth_date": person.birth_date.isoformat(),
            "dwelling_id": str(person.dwelling.public_id),
            "former_names": list(person.former_names),
            "pinyin": person.pinyin.split(" ")[0] if person.pinyin else "",
            "ethnicity": person.ethnicity,
            "ethnicity_display": person.get_ethnicity_display(),
            "id_type_display": person.get_id_type_display(),
            "hukou_code": person.hukou_code,
            "hukou_display": region_label(person.hukou_code),
            "marital_status": person.marital_status,
            "marital_status_display": person.get_marital_status_display(),
            "education": person.education,
            "education_display": person.get_education_display() if person.education else "",
            "occupation": person.occupation,
            "phone": person.phone,
            "notes": person.notes,
            "status_since": person.status_since.isoformat() if person.status_since else None,
            "household_id": str(person.household.public_id) if person.household_id else None,
            "relation_to_head": person.relation_to_head,
            "relation_to_head_display": person.get_relation_to_head_display()
            if person.relation_to_head
            else "",
        }
    return row


def relatives(actor, person: Person) -> list[dict]:
    """Spouse, parents and children; a relative outside the actor's scope is masked and not openable."""
    links: list[tuple[str, int]] = []
    if person.spouse_id:
        links.append((_("配偶"), person.spouse_id))
    if person.mother_id:
        links.append((_("母亲"), person.mother_id))
    if person.father_id:
        links.append((_("父亲"), person.father_id))
    children = (
        Person.objects.for_system()
        .filter(Q(mother_id=person.pk) | Q(father_id=person.pk))
        .exclude(status=PersonStatus.MERGED)  # a duplicate's pointers stay as they were; it is not a child
        .order_by("birth_date")
    )
    ids = [pk for _label, pk in links]
    child_rows = list(children.values_list("pk", "sex"))
    ids += [pk for pk, _sex in child_rows]
    links += [(_("儿子") if sex == "M" else _("女儿"), pk) for pk, sex in child_rows]
    found = {p.pk: p for p in Person.objects.for_system().filter(pk__in=ids)}
    visible = set(Person.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))
    out = []
    for label, pk in links:
        p = found.get(pk)
        if p is None:
            continue
        if pk in visible:
            out.append({"relation": label, "name": p.name, "id": str(p.public_id), "openable": True})
        else:
            out.append({"relation": label, "name": mask_name(p.name), "id": None, "openable": False})
    return out


_FIELD_LABELS = {"id_number": _lazy("证件号码"), "merged_from": _lazy("合并的重复记录")}


def field_label(name: str) -> str:
    """A changed field's name as people read it (events store field names)."""
    if name in _FIELD_LABELS:
        return str(_FIELD_LABELS[name])
    try:
        return str(Person._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a field since removed: show its stored name
        return name


def folded_into(person: Person) -> dict[int, Person]:
    """The duplicate records merged into this one, and into those in turn (registry/merge.py)."""
    found: dict[int, Person] = {}
    frontier = [person.pk]
    while frontier:
        rows = list(
            Person.objects.for_system()
            .filter(merged_into_id__in=frontier, status=PersonStatus.MERGED)
            .exclude(pk__in=[person.pk, *found])
        )
        found |= {p.pk: p for p in rows}
        frontier = [p.pk for p in rows]
    return found


def timeline(person: Person, actor=None) -> list[LifeEvent]:
    """The person's events, newest first, with those of the duplicates merged into them: both histories are
    kept, each event marked with the merged record it belongs to (openable if `actor` may see it)."""
    folded = folded_into(person)
    events = list(
        LifeEvent.objects.for_system()
        .filter(person_id__in=[person.pk, *folded])
        .select_related("recorded_by__user", "corrects")
        .order_by("-occurred_on", "-id")
    )
    visible = set()
    if folded and actor is not None:
        visible = set(Person.objects.visible_to(actor).filter(pk__in=folded).values_list("pk", flat=True))
    for event in events:
        event.change_labels = [field_label(f) for f in event.data.get("changes", {})]
        source = folded.get(event.person_id)
        event.merged_from = (
            None
            if source is None
            else {
                "name": source.name if source.pk in visible else mask_name(source.name),
                "id": str(source.public_id) if source.pk in visible else None,
            }
        )
    return events


def dwellings_in_scope(actor) -> QuerySet[Dwelling]:
    """The dwellings the actor may register or move a person to: in scope, of places not retired."""
    if actor.scope_path is None:
        return Dwelling.objects.none()
    return Dwelling.objects.filter(
        subtree_q("place__path", actor.scope_path), place__valid_to__isnull=True
    ).order_by("full_address")


def dwelling_in_scope(actor, public_id) -> Dwelling | None:
    """The API's dwelling_id: None when not given, else the dwelling in scope or the error on that field."""
    if public_id is None:
        return None
    found = (
        Dwelling.objects.filter(subtree_q("place__path", actor.scope_path or "x"), public_id=public_id)
        .select_related("place")
        .first()
    )
    if found is None:
        raise DomainError(
            "person.dwelling_out_of_scope", _("所选房屋不存在或不在您的管辖范围内。"), "dwelling_id"
        )
    return found
