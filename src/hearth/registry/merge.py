"""人员合并: two records of one person become one, audited and reversible (issue 6).

The duplicate (`other`) is never deleted and its life events stay attached to it (they are append-only): it
gets status `merged` and points at the record kept, whose timeline shows its events. What the merge changes
is written to `PersonMerge.moved` (fields filled on the kept record, the ID number, every reference moved from
the duplicate to the kept record), so that `unmerge` puts back exactly that, and refuses if any of it has
changed since. ID numbers are never written there: they stay encrypted on the two person rows.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError, DomainErrors

from . import identity
from .codes import MaritalStatus, RelationToHead
from .models import (
    EventKind,
    EventSource,
    Household,
    LifeEvent,
    MergeStatus,
    Person,
    PersonMerge,
    PersonStatus,
    TransferStatus,
)
from .selectors import field_label, mask_name, person_row
from .services import _diff, _event, _json, _save_changes, stale_error

# Fields of the kept record filled from the duplicate when empty on the kept record.
FILL_FIELDS = (
    "hukou_code",
    "education",
    "occupation",
    "phone",
    "notes",
    "former_names",
    "marital_status",
    "spouse",
    "mother",
    "father",
)
POINTERS = ("spouse", "mother", "father")

# Compared side by side on the preview: (field, the person_row key shown for it).
COMPARED = (
    ("name", "name"),
    ("sex", "sex_display"),
    ("birth_date", "birth_date"),
    ("ethnicity", "ethnicity_display"),
    ("id_number", "id_number_masked"),
    ("hukou_code", "hukou_display"),
    ("dwelling", "dwelling"),
    ("residence_type", "residence_type_display"),
    ("marital_status", "marital_status_display"),
    ("education", "education_display"),
    ("occupation", "occupation"),
    ("phone", "phone"),
    ("notes", "notes"),
    ("household", "relation_to_head_display"),
    ("status", "status_display"),
)

# Relations to Person whose rows follow the kept record: (model, field) → which rows (None: all of them; a
# one-to-one only when the kept record has none). Named by label, not imported: these apps sit above the
# registry (.importlinter). A relation in none of the three tables stays on the duplicate, and
# tests/test_merge.py fails until it is placed in one of them.
FOLLOW: dict[tuple[str, str], Q | None] = {
    # Pending only: a decided request is the duplicate's history.
    ("registry.transferrequest", "person"): Q(status=TransferStatus.PENDING),
    ("migrants.inflowrecord", "person"): None,
    ("migrants.outflowrecord", "person"): None,
    ("migrants.landlord", "person"): None,
    ("migrants.tenancy", "tenants"): None,
    ("linkage.partnerrecord", "person"): None,  # the partner row matched this person
    ("linkage.factproposal", "person"): Q(status="proposed"),  # still to be confirmed, on the kept record
    ("care.servicerecord", "person"): None,  # the services the person had, under either record
    ("care.referral", "person"): Q(closed_at__isnull=True),  # the facility keeps caring for the kept record
    ("care.invitation", "person"): Q(status="invited"),  # a pending invitation follows the kept record
    ("preconception.enrolment", "woman"): None,  # the couple's check, results and follow-ups stay hers
    ("preconception.enrolment", "man"): None,  # likewise for the man when he is on the registry
    ("preconception.examination", "person"): None,  # a partner's results follow the kept record
}
# Handled one by one in `plan`: pointers between persons and household heads.
BY_HAND = {
    ("registry.person", "spouse"),
    ("registry.person", "mother"),
    ("registry.person", "father"),
    ("registry.household", "head"),
}
# Left on the duplicate on purpose.
STAY = {
    ("registry.lifeevent", "person"),  # append-only; shown on the kept record's timeline instead
    ("registry.person", "merged_into"),
    ("registry.personmerge", "keep"),
    ("registry.personmerge", "other"),
    ("linkage.candidate", "person"),  # a review suggestion for that record; the next run finds the kept one
    ("linkage.linkdecision", "person"),  # an officer's answer about that record (one per record and row)
    ("linkage.duplicatepair", "first"),  # the pair that was merged, kept as found
    ("linkage.duplicatepair", "second"),
    ("documents.issueddocument", "person"),  # what was printed for that record, kept as printed
    ("care.due", "person"),  # derived: the nightly recomputation drops the merged record's rows
}


def _unscoped(model) -> models.QuerySet:
    manager = model._default_manager
    return manager.for_system() if hasattr(manager, "for_system") else model._base_manager.all()


def _reverse_relations() -> list:
    """Every relation pointing at Person, hidden ones (related_name="+") included."""
    rels = []
    for rel in Person._meta.get_fields(include_hidden=True):
        if not (rel.is_relation and rel.auto_created and not rel.concrete):
            continue
        if rel.related_model._meta.auto_created:
            continue  # the table behind a many-to-many: moved through its ManyToManyRel
        rels.append(rel)
    return rels


def _key(rel) -> tuple[str, str]:
    return (rel.related_model._meta.label_lower, rel.field.name)


def _label(rel) -> str:
    return f"{rel.related_model._meta.label_lower}.{rel.field.name}"


def _digest(index: str | None) -> str:
    """A record's ID index, as `moved` keeps it: enough to tell that it changed, nothing more."""
    return hashlib.sha256((index or "").encode()).hexdigest()[:16]


def _require(actor) -> None:
    if not actor.is_system and not actor.can(Perm.PERSON_MERGE):
        raise DomainError("permission.denied", _("您没有此操作的权限。"))


def _visible(actor, *persons: Person) -> None:
    """Both records must be in the actor's scope; otherwise the same answer as for a missing record."""
    if actor.is_system:
        return
    pks = {p.pk for p in persons}
    if Person.objects.visible_to(actor).filter(pk__in=pks).count() != len(pks):
        raise Http404


def _reason(reason: str, code: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError(f"{code}.reason_required", _("请填写原因。"), "reason")
    if len(reason) > 300:
        raise DomainError(f"{code}.reason_length", _("原因不能超过300个字。"), "reason")
    return reason


def refuse_if_merged(person: Person) -> None:
    """A merged record changes only by undoing its merge."""
    if person.status == PersonStatus.MERGED:
        raise DomainError(
            "person.merged", _("该记录已合并到其他记录，不能修改；如需修改，请先撤销合并。"), "status"
        )


def _verified(person: Person) -> bool:
    return bool(person.id_cipher) and not person.id_unverified


def problems(keep: Person, other: Person) -> list[DomainError]:
    """Why these two records cannot be merged; empty when they can."""
    if keep.pk == other.pk:
        return [DomainError("merge.same_person", _("不能把一条记录与它自己合并。"), "other")]
    out = []
    if keep.status == PersonStatus.MERGED:
        out.append(DomainError("merge.keep_merged", _("保留的记录已合并到其他记录，不能再合并。"), "keep"))
    if other.status == PersonStatus.MERGED:
        out.append(
            DomainError("merge.other_merged", _("要合并的记录已合并到其他记录，不能再合并。"), "other")
        )
    if _verified(keep) and _verified(other):
        # Two verified numbers are two people (one person per ID number).
        out.append(DomainError("merge.id_differs", _("证件号码不同，不能合并。"), "id_number"))
    if keep.sex != other.sex:
        out.append(DomainError("merge.sex_differs", _("性别不同，不能合并。"), "sex"))
    return out


# --- what a merge would change -----------------------------------------------------------------------


@dataclass
class Plan:
    keep_new: dict = field(default_factory=dict)  # the kept record's fields that change
    other_new: dict = field(default_factory=dict)
    swap_id: bool = False
    heads: list[tuple[int, int | None]] = field(default_factory=list)  # household pk, head afterwards
    pointers: dict[str, list[int]] = field(default_factory=dict)  # other persons' spouse/mother/father
    relations: list[tuple[object, list]] = field(default_factory=list)  # (relation, rows to move)
    kept_apart: list[str] = field(default_factory=list)  # one-to-one records the kept record already has


def _empty(name: str, value) -> bool:
    return value in (None, "", []) or (name == "marital_status" and value == MaritalStatus.UNSTATED)


def plan(keep: Person, other: Person) -> Plan:
    p = Plan()
    pair = {keep.pk, other.pk}
    for name in FILL_FIELDS:
        if name in POINTERS:
            mine, theirs = getattr(keep, f"{name}_id"), getattr(other, f"{name}_id")
            if mine == other.pk:
                p.keep_new[name] = None  # the kept record pointing at its own duplicate
            elif mine is None and theirs is not None and theirs not in pair:
                p.keep_new[name] = Person.objects.for_system().get(pk=theirs)
        elif _empty(name, getattr(keep, name)) and not _empty(name, getattr(other, name)):
            p.keep_new[name] = getattr(other, name)
    # Household: the kept record takes the duplicate's place in its household if it has none of its own.
    if other.household_id:
        if keep.household_id is None:
            p.keep_new["household"] = Household.objects.for_system().get(pk=other.household_id)
            p.keep_new["relation_to_head"] = other.relation_to_head
        p.other_new |= {"household": None, "relation_to_head": ""}
    keep_household = p.keep_new["household"].pk if "household" in p.keep_new else keep.household_id
    for household_pk in Household.objects.for_system().filter(head=other).values_list("pk", flat=True):
        # Head of a household the kept record is not in: left without a head for the officer to re-form.
        head = keep.pk if household_pk == keep_household else None
        p.heads.append((household_pk, head))
        if head is not None:
            p.keep_new["relation_to_head"] = RelationToHead.HEAD
    if "relation_to_head" in p.keep_new and p.keep_new["relation_to_head"] == keep.relation_to_head:
        del p.keep_new["relation_to_head"]
    p.swap_id = bool(other.id_cipher) and (
        not keep.id_cipher or (keep.id_unverified and not other.id_unverified)
    )
    p.other_new |= {
        "status": PersonStatus.MERGED,
        "status_since": time.today(),
        "merged_into": keep,
    }
    for name in POINTERS:
        pks = list(
            Person.objects.for_system()
            .filter(**{f"{name}_id": other.pk})
            .exclude(pk__in=pair)
            .exclude(status=PersonStatus.MERGED)
            .values_list("pk", flat=True)
        )
        if pks:
            p.pointers[name] = pks
    for rel in _reverse_relations():
        key = _key(rel)
        if key not in FOLLOW:
            continue
        if rel.many_to_many:
            through = rel.through
            mine, theirs = rel.field.m2m_field_name(), rel.field.m2m_reverse_field_name()
            rows = []
            for pk, owner in through.objects.filter(**{f"{theirs}_id": other.pk}).values_list(
                "pk", f"{mine}_id"
            ):
                had = through.objects.filter(**{f"{mine}_id": owner, f"{theirs}_id": keep.pk}).exists()
                rows.append([pk, owner, had])
        else:
            qs = _unscoped(rel.related_model).filter(**{rel.field.name: other})
            if FOLLOW[key] is not None:
                qs = qs.filter(FOLLOW[key])
            rows = list(qs.values_list("pk", flat=True))
            if (
                rows
                and rel.one_to_one
                and _unscoped(rel.related_model).filter(**{rel.field.name: keep}).exists()
            ):
                p.kept_apart.append(str(rel.related_model._meta.verbose_name))
                continue
        if rows:
            p.relations.append((rel, rows))
    return p


# --- preview -------------------------------------------------------------------------------------------


def _link_name(actor, pk: int | None) -> str:
    if pk is None:
        return ""
    person = Person.objects.for_system().filter(pk=pk).only("name").first()
    if person is None:
        return ""
    return person.name if Person.objects.visible_to(actor).filter(pk=pk).exists() else mask_name(person.name)


def _same(keep: Person, other: Person, name: str) -> bool:
    if name == "id_number":
        return keep.id_index == other.id_index
    if name in {"dwelling", "household"}:
        return getattr(keep, f"{name}_id") == getattr(other, f"{name}_id")
    return getattr(keep, name) == getattr(other, name)


def _moves(keep: Person, other: Person, p: Plan) -> list[str]:
    """What the merge will do besides filling fields, said as people read it."""
    out = []
    if p.swap_id:
        out.append(_("被合并记录的证件号码将移到保留记录。"))
        if keep.id_cipher:
            out.append(_("保留记录原有的待核实证件号码将留在被合并记录上（撤销合并时换回）。"))
    for _pk, head in p.heads:
        out.append(
            _("被合并记录是户主：户主将改为保留记录。")
            if head
            else _("被合并记录是另一户的户主：该户将暂无户主，请之后重新设置。")
        )
    for name, pks in p.pointers.items():
        out.append(
            _("%(n)d 人的“%(field)s”将改为指向保留记录。") % {"n": len(pks), "field": field_label(name)}
        )
    for rel, rows in p.relations:
        out.append(
            _("%(what)s %(n)d 条将转到保留记录。")
            % {"what": rel.related_model._meta.verbose_name, "n": len(rows)}
        )
    for what in p.kept_apart:
        out.append(_("两条记录都有%(what)s：被合并记录的那条留在被合并记录上。") % {"what": what})
    n = LifeEvent.objects.for_system().filter(person=other).count()
    out.append(_("被合并记录的 %(n)d 条事件将显示在保留记录的事件记录中。") % {"n": n})
    return out


def merge_preview(*, actor, keep: Person, other: Person) -> dict:
    """Both records side by side (masked as this actor sees persons), what differs, what the kept record
    takes from the duplicate, what else moves, and anything that blocks the merge. An audited read."""
    _require(actor)
    _visible(actor, keep, other)
    full = actor.can(Perm.PERSON_VIEW_FULL)
    rows = {
        "keep": person_row(keep, actor, detail=full),
        "other": person_row(other, actor, detail=full),
    }
    blocking = problems(keep, other)
    p = plan(keep, other) if not blocking else Plan()
    fields = []
    for name, shown in COMPARED:
        fields.append(
            {
                "field": name,
                "label": field_label(name),
                "keep": rows["keep"].get(shown, "***"),
                "other": rows["other"].get(shown, "***"),
                "differ": not _same(keep, other, name),
                "fill": name in p.keep_new,
            }
        )
    for name in POINTERS:
        mine, theirs = getattr(keep, f"{name}_id"), getattr(other, f"{name}_id")
        if mine or theirs:
            fields.append(
                {
                    "field": name,
                    "label": field_label(name),
                    "keep": _link_name(actor, mine) if full else "***",
                    "other": _link_name(actor, theirs) if full else "***",
                    "differ": mine != theirs,
                    "fill": name in p.keep_new,
                }
            )
    audit.record(
        actor=actor, action="person.merge_preview", target=keep, data={"other": str(other.public_id)}
    )
    return {
        "keep": rows["keep"],
        "other": rows["other"],
        "keep_version": keep.version,
        "other_version": other.version,
        "fields": fields,
        "moves": _moves(keep, other, p) if not blocking else [],
        "problems": [{"code": e.code, "message": str(e.message), "field": e.field} for e in blocking],
    }


# --- merging and undoing -------------------------------------------------------------------------------


def _lock(actor, keep: Person, other: Person) -> tuple[Person, Person]:
    """Both rows locked (in id order, so two merges of one pair cannot deadlock) and read afresh."""
    _visible(actor, keep, other)
    locked = {
        p.pk: p
        for p in Person.objects.for_system()
        .select_for_update(of=("self",))
        .select_related("dwelling__place")
        .filter(pk__in={keep.pk, other.pk})
        .order_by("pk")
    }
    if keep.pk not in locked or other.pk not in locked:
        raise Http404
    return locked[keep.pk], locked[other.pk]


def _swap_ids(a: Person, b: Person) -> None:
    """Exchange two records' ID numbers (type, number, unverified flag). Each number is sealed again for its
    new record, the cipher being bound to its record's public id; both are cleared first (unique index).
    A swap, not a move, so a kept record's unverified number waits on the duplicate for an undo."""
    held = {p.pk: (p.id_type, identity.reveal(p), p.id_unverified) for p in (a, b)}
    Person.objects.for_system().filter(pk__in=[a.pk, b.pk]).update(**identity.EMPTY)
    for target, source in ((a, b), (b, a)):
        id_type, number, unverified = held[source.pk]
        values = (
            identity.seal(id_type, number, target.public_id).as_fields() if number else dict(identity.EMPTY)
        )
        values |= {"id_type": id_type, "id_unverified": unverified and bool(number)}
        Person.objects.for_system().filter(pk=target.pk).update(**values)
        for name, value in values.items():
            setattr(target, name, value)


def _id_changes(keep: Person, other: Person) -> dict:
    # That the number changed, never its values (as services.person_update records it).
    out = {"id_number": ["***", "***"]}
    if keep.id_type != other.id_type:
        out["id_type"] = [keep.id_type, other.id_type]
    return out


def _move_relations(relations: list[tuple[object, list]], frm: Person, to: Person) -> list[dict]:
    moved = []
    for rel, rows in relations:
        if rel.many_to_many:
            through = rel.through
            mine, theirs = rel.field.m2m_field_name(), rel.field.m2m_reverse_field_name()
            for pk, _owner, had in rows:
                if had:
                    through.objects.filter(pk=pk).delete()
                else:
                    through.objects.filter(pk=pk).update(**{f"{theirs}_id": to.pk})
            moved.append(
                {"relation": _label(rel), "kind": "m2m", "rows": rows, "mine": mine, "theirs": theirs}
            )
        else:
            try:
                with transaction.atomic():
                    _unscoped(rel.related_model).filter(pk__in=rows).update(**{rel.field.name: to})
            except IntegrityError:
                raise DomainError(
                    "merge.conflict",
                    _("“%(what)s”中两条记录的内容冲突，请先处理后再合并。")
                    % {"what": rel.related_model._meta.verbose_name},
                    "other",
                ) from None
            moved.append({"relation": _label(rel), "kind": "fk", "rows": rows})
    return moved


@transaction.atomic
def merge_persons(
    *, actor, keep: Person, other: Person, keep_version: int, other_version: int, reason: str
) -> PersonMerge:
    """Fold `other` into `keep`: both histories kept, everything moved recorded for `unmerge`."""
    _require(actor)
    reason = _reason(reason, "merge")
    keep, other = _lock(actor, keep, other)
    DomainErrors.raise_if_any(problems(keep, other))
    for person, version in ((keep, keep_version), (other, other_version)):
        if person.version != version:
            raise stale_error(person)
    p = plan(keep, other)
    merge = PersonMerge.objects.create(
        keep=keep, other=other, reason=reason, merged_by=actor.grant, merged_at=time.now()
    )
    keep_changes = _diff(keep, p.keep_new)
    other_changes = _diff(other, p.other_new)
    if p.swap_id:
        id_changes = _id_changes(keep, other)
        _swap_ids(keep, other)
    for household_pk, head in p.heads:
        Household.objects.for_system().filter(pk=household_pk).update(head_id=head, updated_at=time.now())
    for name, pks in p.pointers.items():
        Person.objects.for_system().filter(pk__in=pks).update(**{f"{name}_id": keep.pk})
    relations = _move_relations(p.relations, other, keep)
    _save_changes(keep, None, p.keep_new)
    _save_changes(other, None, p.other_new)
    marker = {"merge": str(merge.public_id)}
    keep_event = _event(
        actor=actor,
        person=keep,
        kind=EventKind.DETAILS_CHANGE,
        occurred_on=time.today(),
        source=EventSource.COUNTER,
        data={
            "changes": keep_changes
            | (id_changes if p.swap_id else {})
            # Not a field correct_event can put back: a merge is reversed only by undoing it.
            | {"merged_from": [None, str(other.public_id)]},
        }
        | marker,
    )
    other_event = _event(
        actor=actor,
        person=other,
        kind=EventKind.DETAILS_CHANGE,
        occurred_on=time.today(),
        source=EventSource.COUNTER,
        data={"changes": other_changes | ({"id_number": ["***", "***"]} if p.swap_id else {})} | marker,
    )
    merge.moved = {
        "keep": keep_changes,
        "other": other_changes,
        "id_swapped": p.swap_id,
        "id_digests": {"keep": _digest(keep.id_index), "other": _digest(other.id_index)},
        "heads": [list(h) for h in p.heads],
        "pointers": p.pointers,
        "relations": relations,
        "kept_apart": p.kept_apart,
        "versions": {"keep": keep.version, "other": other.version},
        "events": {"keep": keep_event.pk, "other": other_event.pk},
    }
    merge.save(update_fields=["moved"])
    # Field names only, as for any change: the log is not a second copy of the personal data.
    audit.record(
        actor=actor,
        action="person.merge",
        target=keep,
        reason=reason,
        data={
            "merge": str(merge.public_id),
            "other": str(other.public_id),
            "fields": sorted(keep_changes),
            "id_moved": p.swap_id,
            "references": sorted({m["relation"] for m in relations} | set(p.pointers)),
        },
    )
    return merge


def _value(name: str, value):
    """A value as `moved` stores it (services._json), back as the field holds it."""
    if value is None:
        return None
    f = Person._meta.get_field(name)
    if f.is_relation:
        return _unscoped(f.related_model).get(public_id=value)
    if isinstance(f, models.DateField):
        return date.fromisoformat(value)
    return value


def _changed_since(merge: PersonMerge, keep: Person, other: Person) -> list[DomainError]:
    """What the merge moved that is no longer as the merge left it: undoing would overwrite later work."""
    moved = merge.moved
    out = []

    def changed(what: str) -> DomainError:
        return DomainError(
            "merge.changed_since",
            _("合并后“%(what)s”已再次变更，不能自动撤销合并。") % {"what": what},
            "merge",
        )

    if keep.status == PersonStatus.MERGED:
        return [
            DomainError(
                "merge.keep_merged",
                _("保留的记录之后又合并到了其他记录，请先撤销那次合并。"),
                "keep",
            )
        ]
    if other.status != PersonStatus.MERGED or other.merged_into_id != keep.pk:
        out.append(changed(field_label("status")))
    if keep.version != moved["versions"]["keep"]:
        for name, (_before, after) in moved["keep"].items():
            if _json(getattr(keep, name)) != after:
                out.append(changed(field_label(name)))
    digests = moved["id_digests"]
    if _digest(keep.id_index) != digests["keep"] or _digest(other.id_index) != digests["other"]:
        out.append(changed(field_label("id_number")))
    for household_pk, head in moved["heads"]:
        if not Household.objects.for_system().filter(pk=household_pk, head_id=head).exists():
            out.append(changed(str(Household._meta.get_field("head").verbose_name)))
    for name, pks in moved["pointers"].items():
        if Person.objects.for_system().filter(pk__in=pks, **{f"{name}_id": keep.pk}).count() != len(pks):
            out.append(changed(field_label(name)))
    rels = {_label(r): r for r in _reverse_relations()}
    for m in moved["relations"]:
        rel = rels.get(m["relation"])
        if rel is None:
            out.append(changed(m["relation"]))
            continue
        what = str(rel.related_model._meta.verbose_name)
        if m["kind"] == "m2m":
            owners = [owner for _pk, owner, _had in m["rows"]]
            n = rel.through.objects.filter(
                **{f"{m['mine']}_id__in": owners, f"{m['theirs']}_id": keep.pk}
            ).count()
            if n != len(owners):
                out.append(changed(what))
            continue
        # Still the kept record's, and still of the kind that moved (a request decided since is not).
        qs = _unscoped(rel.related_model).filter(pk__in=m["rows"], **{rel.field.name: keep})
        if FOLLOW.get(_key(rel)) is not None:
            qs = qs.filter(FOLLOW[_key(rel)])
        if qs.count() != len(m["rows"]):
            out.append(changed(what))
    return out


def _restore_relations(merge: PersonMerge, keep: Person, other: Person) -> None:
    rels = {_label(r): r for r in _reverse_relations()}
    for m in merge.moved["relations"]:
        rel = rels[m["relation"]]
        if m["kind"] == "m2m":
            through = rel.through
            for _pk, owner, had in m["rows"]:
                mine, theirs = f"{m['mine']}_id", f"{m['theirs']}_id"
                if had:
                    through.objects.create(**{mine: owner, theirs: other.pk})
                else:
                    through.objects.filter(**{mine: owner, theirs: keep.pk}).update(**{theirs: other.pk})
        else:
            _unscoped(rel.related_model).filter(pk__in=m["rows"]).update(**{rel.field.name: other})


@transaction.atomic
def unmerge(*, actor, merge: PersonMerge, reason: str) -> None:
    """Undo a merge exactly: the duplicate is a record of its own again, with what the merge moved."""
    _require(actor)
    reason = _reason(reason, "unmerge")
    merge = PersonMerge.objects.for_system().select_for_update().get(pk=merge.pk)
    if merge.status != MergeStatus.MERGED:
        raise DomainError("merge.undone", _("该合并已撤销。"), "merge")
    keep, other = _lock(actor, merge.keep, merge.other)
    DomainErrors.raise_if_any(_changed_since(merge, keep, other))
    moved = merge.moved
    keep_restore = {name: _value(name, before) for name, (before, _after) in moved["keep"].items()}
    other_restore = {name: _value(name, before) for name, (before, _after) in moved["other"].items()}
    keep_changes, other_changes = _diff(keep, keep_restore), _diff(other, other_restore)
    if moved["id_swapped"]:
        id_changes = _id_changes(keep, other)
        _swap_ids(keep, other)
    for household_pk, _head in moved["heads"]:
        Household.objects.for_system().filter(pk=household_pk).update(head_id=other.pk, updated_at=time.now())
    for name, pks in moved["pointers"].items():
        Person.objects.for_system().filter(pk__in=pks).update(**{f"{name}_id": other.pk})
    _restore_relations(merge, keep, other)
    _save_changes(keep, None, keep_restore)
    _save_changes(other, None, other_restore)
    marker = {"unmerge": str(merge.public_id), "reason": reason}
    events = LifeEvent.objects.for_system().in_bulk([moved["events"]["keep"], moved["events"]["other"]])
    _event(
        actor=actor,
        person=keep,
        kind=EventKind.CORRECTION,
        occurred_on=time.today(),
        source=EventSource.COUNTER,
        data={
            "changes": keep_changes
            | (id_changes if moved["id_swapped"] else {})
            | {"merged_from": [str(other.public_id), None]}
        }
        | marker,
        corrects=events.get(moved["events"]["keep"]),
    )
    _event(
        actor=actor,
        person=other,
        kind=EventKind.CORRECTION,
        occurred_on=time.today(),
        source=EventSource.COUNTER,
        data={"changes": other_changes | ({"id_number": ["***", "***"]} if moved["id_swapped"] else {})}
        | marker,
        corrects=events.get(moved["events"]["other"]),
    )
    merge.status = MergeStatus.UNDONE
    merge.undone_by = actor.grant
    merge.undone_at = time.now()
    merge.undo_reason = reason
    merge.save(update_fields=["status", "undone_by", "undone_at", "undo_reason", "updated_at"])
    audit.record(
        actor=actor,
        action="person.unmerge",
        target=keep,
        reason=reason,
        data={"merge": str(merge.public_id), "other": str(other.public_id)},
    )


# --- reads for the person page ---------------------------------------------------------------------------


def _link(actor, person: Person) -> dict:
    """A record as this actor may see it: openable within scope, otherwise masked."""
    if Person.objects.visible_to(actor).filter(pk=person.pk).exists():
        return {"name": person.name, "id": str(person.public_id), "openable": True}
    return {"name": mask_name(person.name), "id": None, "openable": False}


def merge_links(*, actor, person: Person) -> dict:
    """Where a merged record went (and whether this actor may undo it); the records folded into this one."""
    out: dict = {"merged_into": None, "merge": None, "can_undo": False, "folded": []}
    may_merge = actor.can(Perm.PERSON_MERGE)
    if person.status == PersonStatus.MERGED:
        merge = (
            PersonMerge.objects.for_system()
            .filter(other=person, status=MergeStatus.MERGED)
            .select_related("keep")
            .first()
        )
        keep = merge.keep if merge is not None else person.merged_into
        if keep is not None:
            out["merged_into"] = _link(actor, keep)
            out["merge"] = merge
            out["can_undo"] = merge is not None and may_merge and out["merged_into"]["openable"]
    for merge in (
        PersonMerge.objects.for_system()
        .filter(keep=person, status=MergeStatus.MERGED)
        .select_related("other")
        .order_by("-merged_at", "-id")
    ):
        link = _link(actor, merge.other)
        out["folded"].append(link | {"merge": merge, "can_undo": may_merge and link["openable"]})
    return out
