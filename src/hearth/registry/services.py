"""Registering persons and changing them through life events. Reads are audited in selectors/views.

A person's state changes only here, and only with a life event written in the same transaction. Each
event stores what it changed as {field: [before, after]}, so a correcting event can put it back and the
event stream is a complete feed for the services and exchanges that read it.
"""

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.core import citizen_id, time
from hearth.core.errors import DomainError, DomainErrors
from hearth.core.phone import normalise_phone
from hearth.places.models import Dwelling
from hearth.places.tree import subtree_q

from . import identity, names
from .codes import DocumentType, Education, Ethnicity, MaritalStatus, RelationToHead, region_is_valid
from .models import EventKind, EventSource, Household, LifeEvent, Person, PersonStatus, ResidenceType, Sex

# Fields the details form changes (a details_change or correction event). Dwelling, marital status and
# status change through their own events.
DETAIL_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "id_type",
    "id_number",
    "hukou_code",
    "residence_type",
    "education",
    "occupation",
    "phone",
    "notes",
)
# Fields a correcting event may put back from an earlier event's "before" values.
REVERTIBLE = {
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "hukou_code",
    "residence_type",
    "education",
    "occupation",
    "phone",
    "notes",
    "marital_status",
    "status",
    "status_since",
    "dwelling",
    "spouse",
    "household",
    "relation_to_head",
}
ATTACHMENT_TYPES = {".pdf", ".jpg", ".jpeg", ".png"}
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024

DUPLICATE_MESSAGE = _("该证件号码已在其他地方登记，请向该地社区申请迁移，不要重复登记。")


def _require(actor, perm: str) -> None:
    if not actor.is_system and not actor.can(perm):
        raise DomainError("permission.denied", _("您没有此操作的权限。"))


def _dwelling_in_scope(actor, dwelling: Dwelling | None, field: str = "dwelling") -> list[DomainError]:
    if dwelling is None:
        return [DomainError("person.dwelling_required", _("请选择现住房屋。"), field)]
    if actor.is_system:
        return []
    if (
        actor.scope_path is None
        or not Dwelling.objects.filter(subtree_q("place__path", actor.scope_path), pk=dwelling.pk).exists()
    ):
        return [DomainError("person.dwelling_out_of_scope", _("所选房屋不在您的管辖范围内。"), field)]
    return []


@dataclass
class CleanPerson:
    fields: dict
    id_number: str | None  # normalised plaintext, only to be sealed; never stored as such
    id_unverified: bool


def _choice(values: dict, key: str, choices, default, errors, code: str, message: str):
    value = values.get(key)
    if value in (None, ""):
        return default
    if value not in choices.values:
        errors.append(DomainError(code, message, key))
        return default
    return value


def validate_person(*, actor, values: dict, exclude_pk: int | None = None, allow_unverified: bool = False):
    """Check and normalise one person's fields together; raise every problem at once."""
    errors: list[DomainError] = []
    name = (values.get("name") or "").strip()
    if not name:
        errors.append(DomainError("person.name_required", _("请填写姓名。"), "name"))
    elif len(name) > 50:
        errors.append(DomainError("person.name_length", _("姓名不能超过50个字。"), "name"))
    sex = values.get("sex")
    if sex not in Sex.values:
        errors.append(DomainError("person.sex", _("请选择性别。"), "sex"))
    birth_date = values.get("birth_date")
    if not isinstance(birth_date, date):
        errors.append(DomainError("person.birth_date_required", _("请填写有效的出生日期。"), "birth_date"))
        birth_date = None
    elif birth_date > time.today():
        errors.append(DomainError("person.birth_date_future", _("出生日期不能晚于今天。"), "birth_date"))
    elif birth_date.year < 1880:
        errors.append(DomainError("person.birth_date_past", _("出生日期过早，请核对。"), "birth_date"))
    fields = {
        "name": name,
        "sex": sex,
        "birth_date": birth_date,
        "ethnicity": _choice(
            values, "ethnicity", Ethnicity, Ethnicity.HAN, errors, "person.ethnicity", _("民族代码无效。")
        ),
        "id_type": _choice(
            values, "id_type", DocumentType, DocumentType.RESIDENT_ID, errors, "id.type", _("证件类型无效。")
        ),
        "residence_type": _choice(
            values,
            "residence_type",
            ResidenceType,
            ResidenceType.HUKOU_RESIDENT,
            errors,
            "person.residence_type",
            _("居住类型无效。"),
        ),
        "education": _choice(
            values, "education", Education, "", errors, "person.education", _("学历代码无效。")
        ),
        "marital_status": _choice(
            values,
            "marital_status",
            MaritalStatus,
            MaritalStatus.UNSTATED,
            errors,
            "person.marital_status",
            _("婚姻状况代码无效。"),
        ),
    }
    hukou = (values.get("hukou_code") or "").strip()
    if hukou and not region_is_valid(hukou):
        errors.append(
            DomainError("person.hukou_code", _("户籍地应为6位行政区划代码（GB/T 2260）。"), "hukou_code")
        )
    fields["hukou_code"] = hukou
    occupation = (values.get("occupation") or "").strip()
    if len(occupation) > 50:
        errors.append(DomainError("person.occupation_length", _("职业不能超过50个字。"), "occupation"))
    fields["occupation"] = occupation
    notes = (values.get("notes") or "").strip()
    if len(notes) > 500:
        errors.append(DomainError("person.notes_length", _("备注不能超过500个字。"), "notes"))
    fields["notes"] = notes
    try:
        fields["phone"] = normalise_phone(values.get("phone") or "")
    except DomainError as exc:
        errors.append(exc)
        fields["phone"] = ""
    number, unverified = None, False
    raw_id = (values.get("id_number") or "").strip()
    if raw_id:
        try:
            number = identity.normalise_document(fields["id_type"], raw_id)
        except DomainError as exc:
            if allow_unverified and exc.code not in {"id.spreadsheet_number"}:
                # A legacy number kept as given, flagged for the unverified-ID worklist.
                number, unverified = identity.lenient_normalise(raw_id), True
            else:
                errors.append(exc)
        else:
            if fields["id_type"] == DocumentType.RESIDENT_ID:
                parsed = citizen_id.parse(number)
                errors.extend(citizen_id.validate_against(parsed, sex=sex, birth_date=birth_date))
        if number is not None and _number_taken(fields["id_type"], number, exclude_pk):
            # Said without showing where: the other record may be outside the actor's scope.
            errors.append(DomainError("id.duplicate", DUPLICATE_MESSAGE, "id_number"))
    dwelling = values.get("dwelling")
    errors.extend(_dwelling_in_scope(actor, dwelling))
    DomainErrors.raise_if_any(errors)
    fields["dwelling"] = dwelling
    return CleanPerson(fields=fields, id_number=number, id_unverified=unverified)


def _number_taken(id_type: str, number: str, exclude_pk: int | None) -> bool:
    qs = Person.objects.for_system().filter(id_index=identity.index_of(id_type, number))
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _seal_into(person: Person, id_type: str, number: str | None) -> None:
    sealed = identity.seal(id_type, number, person.public_id).as_fields() if number else identity.EMPTY
    for name, value in sealed.items():
        setattr(person, name, value)


def _set_name(person: Person, name: str) -> None:
    person.name = name
    person.pinyin, person.initials = names.pinyin_keys(name)


def _check_attachment(attachment) -> None:
    if attachment is None:
        return
    suffix = "." + attachment.name.rsplit(".", 1)[-1].lower() if "." in attachment.name else ""
    if suffix not in ATTACHMENT_TYPES:
        raise DomainError("event.attachment_type", _("附件只接受 PDF、JPG 或 PNG 文件。"), "attachment")
    if attachment.size > ATTACHMENT_MAX_BYTES:
        raise DomainError("event.attachment_size", _("附件不能超过5MB。"), "attachment")


def _event(
    *,
    actor,
    person: Person,
    kind: str,
    occurred_on: date,
    source: str,
    reporter: str = "",
    data: dict | None = None,
    attachment=None,
    corrects: LifeEvent | None = None,
    change_report=None,
) -> LifeEvent:
    if source not in EventSource.values:
        raise DomainError("event.source", _("事件来源无效。"), "source")
    if not isinstance(occurred_on, date):
        raise DomainError("event.date_required", _("请填写发生日期。"), "occurred_on")
    if occurred_on > time.today():
        raise DomainError("event.date_future", _("发生日期不能晚于今天。"), "occurred_on")
    if len(reporter or "") > 100:
        raise DomainError("event.reporter_length", _("报告人不能超过100个字。"), "reporter")
    _check_attachment(attachment)
    event = LifeEvent(
        person=person,
        kind=kind,
        occurred_on=occurred_on,
        source=source,
        reporter=(reporter or "").strip(),
        recorded_by=actor.grant,
        data=data or {},
        corrects=corrects,
        change_report=change_report,
    )
    if attachment is not None:
        event.attachment.save(attachment.name, attachment, save=False)
    event.save()
    return event


def _json(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Person | Dwelling | Household):
        return str(value.public_id)
    return value


def _diff(person: Person, new: dict) -> dict:
    """{field: [before, after]} for the fields whose value changes, JSON-ready."""
    out = {}
    for name, value in new.items():
        before = getattr(person, name)
        if before != value:
            out[name] = [_json(before), _json(value)]
    return out


def _save_changes(person: Person, version: int | None, new: dict) -> None:
    """Apply `new` to the row if it is still at `version` (None: the caller holds the row locked)."""
    for name, value in new.items():
        if name == "name":
            _set_name(person, value)
        elif name == "dwelling":
            person.dwelling = value
            person.place_path = value.place.path
        else:
            setattr(person, name, value)
    changed = set(new) | {"updated_at", "version"}
    if "name" in new:
        changed |= {"pinyin", "initials"}
    if "dwelling" in new:
        changed |= {"place_path"}
    if {"id_cipher"} & set(new):
        changed |= {"id_key", "id_index", "id_tail6", "id_tail4"}
    person.updated_at = time.now()
    qs = Person.objects.for_system().filter(pk=person.pk)
    if version is not None:
        qs = qs.filter(version=version)
    else:
        version = person.version
    values = {f: getattr(person, f) for f in changed if f not in {"version", "dwelling"}}
    if "dwelling" in new:
        values["dwelling"] = person.dwelling
    try:
        with transaction.atomic():
            updated = qs.update(**values, version=version + 1)
    except IntegrityError:
        raise DomainError("id.duplicate", DUPLICATE_MESSAGE, "id_number") from None
    if not updated:
        raise stale_error(person)
    person.version = version + 1


def _refuse_merged(person: Person) -> None:
    """A duplicate folded into another record (registry/merge.py) is history: it changes only by an undo."""
    if person.status == PersonStatus.MERGED:
        raise DomainError(
            "person.merged", _("该记录已合并到其他记录，不能修改；如需修改，请先撤销合并。"), "status"
        )


def stale_error(person: Person) -> DomainError:
    """Who changed the record, and when: the second of two officers sees this instead of losing work."""
    last = (
        LifeEvent.objects.for_system()
        .filter(person_id=person.pk)
        .select_related("recorded_by__user")
        .order_by("-id")
        .first()
    )
    if last is not None and last.recorded_by is not None:
        message = _("该记录已被 %(who)s 于 %(when)s 修改，请刷新后重新编辑。") % {
            "who": last.recorded_by.user.full_name or last.recorded_by.user.username,
            "when": time.localtime_str(last.created_at),
        }
    else:
        message = _("该记录已被他人修改，请刷新后重新编辑。")
    return DomainError("person.stale", message, "version")


# --- registering -------------------------------------------------------------------------------------


@transaction.atomic
def person_register(
    *,
    actor,
    values: dict,
    source: str = EventSource.COUNTER,
    reporter: str = "",
    occurred_on: date | None = None,
    allow_unverified: bool = False,
    event_kind: str = EventKind.REGISTERED,
    change_report=None,
) -> Person:
    """Register a person; the first life event (registered, move in or birth) is written with them."""
    _require(actor, Perm.PERSON_CREATE)
    clean = validate_person(actor=actor, values=values, allow_unverified=allow_unverified)
    person = Person(**{k: v for k, v in clean.fields.items() if k != "name"})
    _set_name(person, clean.fields["name"])
    person.place_path = clean.fields["dwelling"].place.path
    person.id_unverified = clean.id_unverified
    for rel in ("mother", "father"):
        if values.get(rel) is not None:
            setattr(person, rel, values[rel])
    _seal_into(person, clean.fields["id_type"], clean.id_number)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        raise DomainError("id.duplicate", DUPLICATE_MESSAGE, "id_number") from None
    _event(
        actor=actor,
        person=person,
        kind=event_kind,
        occurred_on=occurred_on
        or (clean.fields["birth_date"] if event_kind == EventKind.BIRTH else time.today()),
        source=source,
        reporter=reporter,
        data={"dwelling": str(person.dwelling.public_id)},
        change_report=change_report,
    )
    audit.record(actor=actor, action="person.create", target=person)
    return person


@transaction.atomic
def register_birth(
    *,
    actor,
    mother: Person,
    values: dict,
    father: Person | None = None,
    source: str = EventSource.COUNTER,
    reporter: str = "",
    change_report=None,
) -> Person:
    """A newborn: the child is registered with a birth event; the mother gets a childbirth event."""
    _require(actor, Perm.PERSON_CHANGE)
    _refuse_merged(mother)
    if mother.sex != Sex.FEMALE:
        raise DomainError("birth.mother_sex", _("母亲的性别应为女。"), "mother")
    values = {"dwelling": mother.dwelling, "hukou_code": mother.hukou_code, **values}
    values["marital_status"] = MaritalStatus.SINGLE
    child = person_register(
        actor=actor,
        values=values | {"mother": mother, "father": father},
        source=source,
        reporter=reporter,
        event_kind=EventKind.BIRTH,
        change_report=change_report,
    )
    for parent in (p for p in (mother, father) if p is not None):
        _event(
            actor=actor,
            person=parent,
            kind=EventKind.CHILDBIRTH,
            occurred_on=child.birth_date,
            source=source,
            reporter=reporter,
            data={"child": str(child.public_id)},
            change_report=change_report,
        )
    if mother.household_id and mother.dwelling_id == child.dwelling_id:
        relation = _child_relation(mother.relation_to_head, child.sex)
        Person.objects.for_system().filter(pk=child.pk).update(
            household=mother.household_id, relation_to_head=relation
        )
        child.household_id, child.relation_to_head = mother.household_id, relation
    return child


def _child_relation(mother_relation: str, sex: str) -> str:
    """The newborn's relation to the head (GB/T 4761), from the mother's."""
    if mother_relation in {RelationToHead.HEAD, RelationToHead.SPOUSE}:
        return RelationToHead.SON if sex == Sex.MALE else RelationToHead.DAUGHTER
    if mother_relation in {RelationToHead.SON, RelationToHead.DAUGHTER}:
        return RelationToHead.GRANDCHILD
    return RelationToHead.OTHER_RELATIVE


# --- changing through events -------------------------------------------------------------------------


@transaction.atomic
def person_update(
    *,
    actor,
    person: Person,
    values: dict,
    version: int,
    correction: bool = False,
    source: str = EventSource.COUNTER,
    reporter: str = "",
) -> Person:
    """Change recorded details (a details_change event, or a correction of an entry error)."""
    _require(actor, Perm.PERSON_CHANGE)
    _refuse_merged(person)
    current = {f: getattr(person, f) for f in DETAIL_FIELDS if f != "id_number"}
    merged = current | {"dwelling": person.dwelling, "marital_status": person.marital_status}
    merged |= {k: v for k, v in values.items() if k in DETAIL_FIELDS}
    id_given = "id_number" in values and values["id_number"] is not None
    if not id_given:
        merged.pop("id_number", None)
    clean = validate_person(actor=actor, values=merged, exclude_pk=person.pk)
    new = {f: clean.fields[f] for f in DETAIL_FIELDS if f != "id_number"}
    changes = _diff(person, new)
    if id_given:
        old_number = identity.reveal(person)
        if clean.id_number != old_number or clean.fields["id_type"] != person.id_type:
            _seal_into(person, clean.fields["id_type"], clean.id_number)
            person.id_unverified = False
            new |= {"id_cipher": person.id_cipher, "id_unverified": False}
            changes["id_number"] = ["***", "***"]  # that it changed, never the values
    if not changes:
        return person
    if "name" in new and new["name"] != person.name and not correction:
        new["former_names"] = [*person.former_names, person.name]
    _save_changes(person, version, new)
    _event(
        actor=actor,
        person=person,
        kind=EventKind.CORRECTION if correction else EventKind.DETAILS_CHANGE,
        occurred_on=time.today(),
        source=source,
        reporter=reporter,
        data={"changes": changes},
    )
    # Field names only: the audit log must not become a second copy of the personal data.
    audit.record(actor=actor, action="person.update", target=person, data={"fields": sorted(changes)})
    return person


def _visible(actor, person: Person | None) -> bool:
    if person is None:
        return False
    return actor.is_system or Person.objects.visible_to(actor).filter(pk=person.pk).exists()


@transaction.atomic
def record_event(
    *,
    actor,
    person: Person,
    kind: str,
    occurred_on: date,
    version: int | None,
    source: str = EventSource.COUNTER,
    reporter: str = "",
    details: dict | None = None,
    attachment=None,
    change_report=None,
    dwelling_checked: bool = False,
) -> LifeEvent:
    """Record a life event and apply it to the person, in one transaction.

    `dwelling_checked`: the new dwelling's scope was checked for another grant (an approved transfer).

    details by kind: marriage {spouse?}, dwelling_change / move_in {dwelling}, hukou_change {hukou_code,
    residence_type?}, move_out {to_region?, to_address?}. Birth goes through register_birth.
    """
    _require(actor, Perm.PERSON_CHANGE)
    _refuse_merged(person)
    details = details or {}
    new: dict = {}
    data: dict = {}
    if kind == EventKind.DEATH:
        if person.status == PersonStatus.DECEASED:
            raise DomainError("event.already_deceased", _("该人员已登记死亡。"), "kind")
        new = {"status": PersonStatus.DECEASED, "status_since": occurred_on}
    elif kind == EventKind.MARRIAGE:
        spouse = details.get("spouse")
        if spouse is not None and spouse.pk == person.pk:
            raise DomainError("event.spouse_self", _("配偶不能是本人。"), "spouse")
        new = {"marital_status": MaritalStatus.MARRIED, "spouse": spouse}
    elif kind == EventKind.DIVORCE:
        new = {"marital_status": MaritalStatus.DIVORCED, "spouse": None}
    elif kind == EventKind.WIDOWHOOD:
        new = {"marital_status": MaritalStatus.WIDOWED, "spouse": None}
    elif kind in {EventKind.DWELLING_CHANGE, EventKind.MOVE_IN}:
        dwelling = details.get("dwelling")
        if dwelling is None or not dwelling_checked:
            DomainErrors.raise_if_any(_dwelling_in_scope(actor, dwelling))
        new = {"dwelling": dwelling}
        if kind == EventKind.MOVE_IN:
            new |= {"status": PersonStatus.ACTIVE, "status_since": occurred_on}
    elif kind == EventKind.MOVE_OUT:
        new = {"status": PersonStatus.DEPARTED, "status_since": occurred_on}
        for key, limit in (("to_region", 6), ("to_address", 150)):
            value = (details.get(key) or "").strip()
            if len(value) > limit:
                raise DomainError("event.detail_length", _("内容过长。"), key)
            if value:
                data[key] = value
        if data.get("to_region") and not region_is_valid(data["to_region"]):
            raise DomainError("person.hukou_code", _("去向应为6位行政区划代码（GB/T 2260）。"), "to_region")
    elif kind == EventKind.HUKOU_CHANGE:
        code = (details.get("hukou_code") or "").strip()
        if not region_is_valid(code):
            raise DomainError(
                "person.hukou_code", _("户籍地应为6位行政区划代码（GB/T 2260）。"), "hukou_code"
            )
        new = {"hukou_code": code}
        residence = details.get("residence_type")
        if residence:
            if residence not in ResidenceType.values:
                raise DomainError("person.residence_type", _("居住类型无效。"), "residence_type")
            new["residence_type"] = residence
    else:
        raise DomainError("event.kind", _("不能在此登记该类事件。"), "kind")
    if kind in {EventKind.DEATH, EventKind.MOVE_OUT, EventKind.DWELLING_CHANGE} and person.household_id:
        # Whoever leaves the dwelling (or dies) leaves its household; re-forming it is the officer's call.
        new |= {"household": None, "relation_to_head": ""}
    if person.status != PersonStatus.ACTIVE and kind not in {EventKind.MOVE_IN}:
        raise DomainError("event.inactive", _("该人员已不在册（死亡或迁出），只能登记迁入或更正。"), "kind")
    changes = _diff(person, new)
    _save_changes(person, version, new)
    event = _event(
        actor=actor,
        person=person,
        kind=kind,
        occurred_on=occurred_on,
        source=source,
        reporter=reporter,
        data=data | {"changes": changes},
        attachment=attachment,
        change_report=change_report,
    )
    if kind == EventKind.MARRIAGE and new.get("spouse") is not None and _visible(actor, new["spouse"]):
        spouse = Person.objects.select_for_update().get(pk=new["spouse"].pk)
        spouse_new = {"marital_status": MaritalStatus.MARRIED, "spouse": person}
        spouse_changes = _diff(spouse, spouse_new)
        _save_changes(spouse, None, spouse_new)
        _event(
            actor=actor,
            person=spouse,
            kind=kind,
            occurred_on=occurred_on,
            source=source,
            reporter=reporter,
            data={"changes": spouse_changes},
            change_report=change_report,
        )
    audit.record(actor=actor, action=f"person.event.{kind}", target=person, data={"fields": sorted(changes)})
    return event


def _from_json(field: str, value):
    if value is None:
        return None
    if field in {"birth_date", "status_since"}:
        return date.fromisoformat(value)
    if field == "dwelling":
        return Dwelling.objects.select_related("place").get(public_id=value)
    if field == "spouse":
        return Person.objects.for_system().get(public_id=value)
    if field == "household":
        return Household.objects.for_system().get(public_id=value)
    return value


@transaction.atomic
def correct_event(*, actor, event: LifeEvent, reason: str, version: int | None) -> LifeEvent:
    """Undo what a mistaken event changed with a correcting event; the mistaken one stays in history."""
    _require(actor, Perm.PERSON_CHANGE)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError("event.reason_required", _("请填写更正原因。"), "reason")
    if len(reason) > 300:
        raise DomainError("event.reason_length", _("更正原因不能超过300个字。"), "reason")
    if LifeEvent.objects.for_system().filter(corrects=event).exists():
        raise DomainError("event.already_corrected", _("该事件已被更正。"), "event")
    changes = event.data.get("changes", {})
    if not changes or set(changes) - REVERTIBLE or event.kind in {EventKind.REGISTERED, EventKind.BIRTH}:
        raise DomainError("event.not_revertible", _("该事件不能自动更正，请通过修改信息更正。"), "event")
    person = Person.objects.for_system().select_related("dwelling__place").get(pk=event.person_id)
    _refuse_merged(person)
    restore = {}
    for field, (before, after) in changes.items():
        if _json(getattr(person, field)) != after:
            raise DomainError(
                "event.superseded",
                _("该事件之后“%(field)s”已再次变更，请先更正后来的事件。")
                % {"field": Person._meta.get_field(field).verbose_name},
                "event",
            )
        restore[field] = _from_json(field, before)
    if "dwelling" in restore:
        DomainErrors.raise_if_any(_dwelling_in_scope(actor, restore["dwelling"]))
    diff = _diff(person, restore)
    _save_changes(person, version, restore)
    correction = _event(
        actor=actor,
        person=person,
        kind=EventKind.CORRECTION,
        occurred_on=time.today(),
        source=EventSource.COUNTER,
        data={"changes": diff, "reason": reason},
        corrects=event,
    )
    audit.record(
        actor=actor, action="person.event.correct", target=person, data={"event": str(event.public_id)}
    )
    return correction


@transaction.atomic
def person_reveal_id(*, actor, person: Person, reason: str) -> str:
    """Show an ID number in full: a permission, a stated reason, one audit row."""
    _require(actor, Perm.PERSON_REVEAL_ID)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError("reveal.reason_required", _("请填写查看完整号码的事由。"), "reason")
    audit.record(actor=actor, action="person.reveal_id", target=person, reason=reason)
    return identity.reveal(person)


# --- households --------------------------------------------------------------------------------------


@transaction.atomic
def household_set(*, actor, dwelling: Dwelling, head: Person | None, members: dict[Person, str]):
    """Form (or re-form) the household of a dwelling: a head and each member's relation (GB/T 4761).

    Re-forming keeps the dwelling's household (the head's, else the oldest there) rather than adding one;
    residents left out stop being members. The head may appear in `members` only as the head.
    """

    _require(actor, Perm.PERSON_CHANGE)
    DomainErrors.raise_if_any(_dwelling_in_scope(actor, dwelling))
    if head is None:
        raise DomainError("household.head_required", _("请选择户主。"), "head")
    # One writer per dwelling at a time, so two officers cannot each create "the" household.
    Dwelling.objects.select_for_update().filter(pk=dwelling.pk).first()
    members = dict(members)
    if head in members and members.pop(head) not in ("", RelationToHead.HEAD):
        raise DomainError(
            "household.head_relation",
            _("户主 %(name)s 不能同时有其他关系。") % {"name": head.name},
            "head",
        )
    everyone = {head, *members}
    for p in everyone:
        if p.dwelling_id != dwelling.pk:
            raise DomainError(
                "household.member_elsewhere", _("%(name)s 不住在该房屋。") % {"name": p.name}, "members"
            )
        if p.status != PersonStatus.ACTIVE:
            raise DomainError(
                "household.member_inactive",
                _("%(name)s 已不在册（死亡或迁出），不能列为户内成员。") % {"name": p.name},
                "members",
            )
    for p, relation in members.items():
        if relation not in RelationToHead.values or relation == RelationToHead.HEAD:
            raise DomainError(
                "household.relation", _("请为 %(name)s 选择与户主关系。") % {"name": p.name}, "members"
            )
    household = (
        Household.objects.for_system().filter(dwelling=dwelling, members=head).first()
        or Household.objects.for_system().filter(dwelling=dwelling).order_by("id").first()
        or Household.objects.create(dwelling=dwelling)
    )
    household.head = head
    household.save(update_fields=["head", "updated_at"])
    Person.objects.for_system().filter(household=household).exclude(pk__in=[p.pk for p in everyone]).update(
        household=None, relation_to_head=""
    )
    Person.objects.for_system().filter(pk=head.pk).update(
        household=household, relation_to_head=RelationToHead.HEAD
    )
    for p, relation in members.items():
        Person.objects.for_system().filter(pk=p.pk).update(household=household, relation_to_head=relation)
    audit.record(actor=actor, action="household.set", target=household, row_count=len(everyone))
    return household
