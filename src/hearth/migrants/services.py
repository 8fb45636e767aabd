"""流动人口与以房管人: writes on inflow/outflow records, landlords and tenancies.

Each action checks its permission, validates every field at once (one DomainErrors), runs in one transaction
and writes its audit row in it. A person's own details (residence type, dwelling) change only through the
registry's services, called from here inside the same transaction.
"""

from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hearth.accounts.models import User
from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.audit.models import AuditEntry
from hearth.core import time
from hearth.core.errors import DomainError, DomainErrors, as_list
from hearth.core.phone import normalise_phone
from hearth.places.models import Dwelling, Place, PlaceKind
from hearth.places.tree import subtree_q
from hearth.registry import services as registry
from hearth.registry.codes import region_is_valid
from hearth.registry.models import EventKind, EventSource, Person, PersonStatus, ResidenceType

from .models import Housing, InflowReason, InflowRecord, Landlord, OutflowRecord, Tenancy

# A landlord is registered with a community, or a building or group inside one.
LANDLORD_PLACE_KINDS = {PlaceKind.COMMUNITY, PlaceKind.BUILDING, PlaceKind.UNIT, PlaceKind.VILLAGER_GROUP}
MAX_DECLARED_TENANTS = 50

INFLOW_FIELDS = (
    "from_region",
    "since",
    "reason",
    "employer",
    "housing",
    "certificate_held",
    "certificate_checked_on",
    "agreement_signed",
    "agreement_date",
)
OUTFLOW_FIELDS = ("to_region", "to_address", "since", "contact", "informed")


def _require(actor, perm: str) -> None:
    if not actor.is_system and not actor.can(perm):
        raise DomainError("permission.denied", _("您没有此操作的权限。"))


def _text(values: dict, key: str, limit: int, label: str, errors: list, *, required: bool = False) -> str:
    value = (values.get(key) or "").strip()
    if required and not value:
        errors.append(DomainError(f"migrants.{key}_required", _("请填写%(f)s。") % {"f": label}, key))
    elif len(value) > limit:
        errors.append(
            DomainError(
                f"migrants.{key}_length", _("%(f)s不能超过%(n)d个字。") % {"f": label, "n": limit}, key
            )
        )
    return value


def _date(
    values: dict,
    key: str,
    label: str,
    errors: list,
    *,
    required: bool = False,
    not_before: date | None = None,
    not_before_label: str = "",
) -> date | None:
    value = values.get(key)
    if value in (None, ""):
        if required:
            errors.append(DomainError(f"migrants.{key}_required", _("请填写%(f)s。") % {"f": label}, key))
        return None
    if not isinstance(value, date):
        errors.append(DomainError(f"migrants.{key}_invalid", _("%(f)s不是有效日期。") % {"f": label}, key))
        return None
    if value > time.today():
        errors.append(DomainError(f"migrants.{key}_future", _("%(f)s不能晚于今天。") % {"f": label}, key))
    elif not_before is not None and value < not_before:
        errors.append(
            DomainError(
                f"migrants.{key}_too_early",
                _("%(f)s不能早于%(g)s。") % {"f": label, "g": not_before_label},
                key,
            )
        )
    return value


def _region(values: dict, key: str, label: str, errors: list) -> str:
    code = (values.get(key) or "").strip()
    if not code:
        errors.append(
            DomainError(f"migrants.{key}_required", _("请填写%(f)s（6位行政区划代码）。") % {"f": label}, key)
        )
    elif not region_is_valid(code):
        errors.append(
            DomainError(f"migrants.{key}", _("%(f)s应为6位行政区划代码（GB/T 2260）。") % {"f": label}, key)
        )
    return code


def _stale(record, kind: str) -> DomainError:
    """Who saved the record last, and when (from the audit log): the second editor loses nothing silently."""
    last = (
        AuditEntry.objects.filter(object_type=record._meta.label_lower, object_id=str(record.public_id))
        .exclude(action__endswith=".view")
        .order_by("-id")
        .first()
    )
    if last is not None and last.actor_username:
        full_name = User.objects.filter(pk=last.actor_user_id).values_list("full_name", flat=True).first()
        message = _("该%(kind)s已被 %(who)s 于 %(when)s 修改，请刷新后重新编辑。") % {
            "kind": kind,
            "who": full_name or last.actor_username,
            "when": time.localtime_str(last.at),
        }
    else:
        message = _("该%(kind)s已被他人修改，请刷新后重新编辑。") % {"kind": kind}
    return DomainError("migrants.stale", message, "version")


# --- inflow and outflow records ------------------------------------------------------------------------


def validate_inflow(values: dict, *, birth_date: date | None = None) -> dict:
    """Check and normalise an inflow record's fields; raise every problem at once."""
    errors: list[DomainError] = []
    clean: dict = {"from_region": _region(values, "from_region", _("来自地区"), errors)}
    clean["since"] = _date(
        values,
        "since",
        _("流入日期"),
        errors,
        required=True,
        not_before=birth_date,
        not_before_label=_("出生日期"),
    )
    reason = values.get("reason")
    if reason not in InflowReason.values:
        errors.append(DomainError("migrants.reason", _("请选择流入原因。"), "reason"))
    clean["reason"] = reason
    clean["employer"] = _text(values, "employer", 100, _("工作单位或经营场所"), errors)
    housing = values.get("housing")
    if housing not in Housing.values:
        errors.append(DomainError("migrants.housing", _("请选择居住方式。"), "housing"))
    clean["housing"] = housing
    clean["certificate_held"] = bool(values.get("certificate_held"))
    clean["certificate_checked_on"] = _date(values, "certificate_checked_on", _("婚育证明查验日期"), errors)
    signed = bool(values.get("agreement_signed"))
    clean["agreement_signed"] = signed
    agreement_date = _date(values, "agreement_date", _("租房协议日期"), errors, required=signed)
    if agreement_date is not None and not signed:
        errors.append(
            DomainError(
                "migrants.agreement_date_unsigned",
                _("未签订租房协议时不应填写协议日期。"),
                "agreement_date",
            )
        )
    if signed and housing in Housing.values and housing != Housing.RENTED:
        errors.append(
            DomainError(
                "migrants.agreement_not_rented",
                _("只有居住方式为租赁房屋时才有租房协议。"),
                "agreement_signed",
            )
        )
    clean["agreement_date"] = agreement_date
    DomainErrors.raise_if_any(errors)
    return clean


def validate_outflow(values: dict, *, birth_date: date | None = None) -> dict:
    errors: list[DomainError] = []
    clean: dict = {"to_region": _region(values, "to_region", _("流往地区"), errors)}
    clean["to_address"] = _text(values, "to_address", 150, _("流往地址"), errors)
    clean["since"] = _date(
        values,
        "since",
        _("流出日期"),
        errors,
        required=True,
        not_before=birth_date,
        not_before_label=_("出生日期"),
    )
    clean["contact"] = _text(values, "contact", 50, _("联系方式"), errors)
    clean["informed"] = _text(values, "informed", 100, _("流入地告知对象"), errors)
    DomainErrors.raise_if_any(errors)
    return clean


def _save_record(*, actor, model, person: Person, clean: dict, version: int | None, kind: str, action: str):
    """Create the person's record, or update it if it is still at `version` (optimistic locking)."""
    existing = model.objects.filter(person=person).first()
    if existing is None:
        if version:
            # The form was opened on a record that no longer exists: say so rather than create anew.
            raise DomainError("migrants.stale", _("该%(kind)s已不存在，请刷新。") % {"kind": kind}, "version")
        record = model(person=person, **clean)
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError:
            # Someone else created it between the page load and this save.
            raise _stale(model.objects.get(person=person), kind) from None
        audit.record(actor=actor, action=f"{action}.create", target=record, data={"fields": sorted(clean)})
        return record
    if version is None:
        raise _stale(existing, kind)
    changed = sorted(f for f, v in clean.items() if getattr(existing, f) != v)
    now = time.now()
    updated = model.objects.filter(pk=existing.pk, version=version).update(
        **clean, version=version + 1, updated_at=now
    )
    if not updated:
        raise _stale(existing, kind)
    for name, value in clean.items():
        setattr(existing, name, value)
    existing.version, existing.updated_at = version + 1, now
    audit.record(actor=actor, action=f"{action}.update", target=existing, data={"fields": changed})
    return existing


def _set_residence(*, actor, person: Person, residence: str, person_version: int | None) -> None:
    if person.residence_type == residence:
        return
    if person_version is None:
        raise DomainError("person.stale", _("请刷新后重新保存。"), "version")
    registry.person_update(
        actor=actor, person=person, values={"residence_type": residence}, version=person_version
    )


@transaction.atomic
def inflow_save(
    *,
    actor,
    person: Person,
    values: dict,
    version: int | None,
    set_residence: bool = False,
    person_version: int | None = None,
) -> InflowRecord:
    """流入人口登记: create or edit a person's inflow record.

    `version` is the record's version the form was opened on (None when creating). The person's residence
    type is a detail of the person: it changes only when `set_residence` asks for it, through the
    registry's person_update (a details_change event), in this transaction.
    """
    _require(actor, Perm.PERSON_CHANGE)
    clean = validate_inflow(values, birth_date=person.birth_date)
    record = _save_record(
        actor=actor,
        model=InflowRecord,
        person=person,
        clean=clean,
        version=version,
        kind=_("流入登记"),
        action="migrants.inflow",
    )
    if set_residence:
        _set_residence(
            actor=actor, person=person, residence=ResidenceType.INFLOW, person_version=person_version
        )
    return record


@transaction.atomic
def outflow_save(
    *,
    actor,
    person: Person,
    values: dict,
    version: int | None,
    set_residence: bool = False,
    person_version: int | None = None,
) -> OutflowRecord:
    """流出人口登记: create or edit a person's outflow record (the same rules as inflow_save)."""
    _require(actor, Perm.PERSON_CHANGE)
    clean = validate_outflow(values, birth_date=person.birth_date)
    record = _save_record(
        actor=actor,
        model=OutflowRecord,
        person=person,
        clean=clean,
        version=version,
        kind=_("流出登记"),
        action="migrants.outflow",
    )
    if set_residence:
        _set_residence(
            actor=actor, person=person, residence=ResidenceType.OUTFLOW, person_version=person_version
        )
    return record


@transaction.atomic
def inflow_register(
    *, actor, person_values: dict, inflow_values: dict, tenancy: Tenancy | None = None
) -> InflowRecord:
    """Register an inflow migrant: the person (residence type inflow, at the counter) and the inflow record.

    Every field of both is checked before anything is written. With `tenancy`, the person lives in its
    dwelling and is added to its tenants. A blank hukou place defaults to where the person came from.
    """
    _require(actor, Perm.PERSON_CREATE)
    person_values = {**person_values, "residence_type": ResidenceType.INFLOW}
    if not (person_values.get("hukou_code") or "").strip():
        person_values["hukou_code"] = (inflow_values.get("from_region") or "").strip()
    errors: list[DomainError] = []
    if tenancy is not None:
        if tenancy.ended_on is not None:
            errors.append(DomainError("migrants.tenancy_ended", _("该租赁已退租。"), "tenancy"))
        person_values["dwelling"] = tenancy.dwelling
    try:
        registry.validate_person(actor=actor, values=person_values)
    except DomainError as exc:
        errors.extend(as_list(exc))
    birth_date = person_values.get("birth_date")
    try:
        clean = validate_inflow(
            inflow_values, birth_date=birth_date if isinstance(birth_date, date) else None
        )
    except DomainError as exc:
        errors.extend(as_list(exc))
    DomainErrors.raise_if_any(errors)
    person = registry.person_register(actor=actor, values=person_values, source=EventSource.COUNTER)
    record = InflowRecord.objects.create(person=person, **clean)
    audit.record(actor=actor, action="migrants.inflow.create", target=record, data={"fields": sorted(clean)})
    if tenancy is not None:
        tenancy.tenants.add(person)
        audit.record(
            actor=actor, action="migrants.tenancy.tenants", target=tenancy, data={"added": 1, "removed": 0}
        )
    return record


# --- landlords -----------------------------------------------------------------------------------------


def _place_errors(actor, place: Place | None) -> list[DomainError]:
    if place is None:
        return [DomainError("landlord.place_required", _("请选择登记社区。"), "place")]
    if place.kind not in LANDLORD_PLACE_KINDS or place.valid_to is not None:
        return [DomainError("landlord.place_kind", _("登记地应为社区（村）或其下的楼院、单元。"), "place")]
    if not actor.is_system and (
        actor.scope_path is None or not Place.objects.visible_to(actor).filter(pk=place.pk).exists()
    ):
        return [DomainError("landlord.place_out_of_scope", _("所选登记社区不在您的管辖范围内。"), "place")]
    return []


def _dwellings_in_scope(actor, dwellings, field: str) -> list[DomainError]:
    ids = {d.pk for d in dwellings}
    if not ids or actor.is_system:
        return []
    found = set(
        Dwelling.objects.filter(subtree_q("place__path", actor.scope_path or "x"), pk__in=ids).values_list(
            "pk", flat=True
        )
    )
    if ids - found:
        return [DomainError("landlord.dwelling_out_of_scope", _("所选房屋不在您的管辖范围内。"), field)]
    return []


def validate_landlord(*, actor, values: dict) -> dict:
    errors: list[DomainError] = []
    clean: dict = {"place": values.get("place")}
    errors.extend(_place_errors(actor, clean["place"]))
    clean["name"] = _text(values, "name", 50, _("姓名"), errors, required=True)
    try:
        clean["phone"] = normalise_phone(values.get("phone") or "")
    except DomainError as exc:
        errors.append(exc)
        clean["phone"] = ""
    signed = bool(values.get("agreement_signed"))
    clean["agreement_signed"] = signed
    clean["agreement_date"] = _date(values, "agreement_date", _("登记协议日期"), errors, required=signed)
    if clean["agreement_date"] is not None and not signed:
        errors.append(
            DomainError(
                "migrants.agreement_date_unsigned",
                _("未签订房屋出租登记协议时不应填写协议日期。"),
                "agreement_date",
            )
        )
    clean["notes"] = _text(values, "notes", 300, _("备注"), errors)
    dwellings = list(values.get("dwellings") or [])
    errors.extend(_dwellings_in_scope(actor, dwellings, "dwellings"))
    clean["dwellings"] = dwellings
    person = values.get("person")
    if person is not None and not isinstance(person, Person):
        errors.append(DomainError("landlord.person", _("对应人员无效。"), "id_number"))
    clean["person"] = person
    DomainErrors.raise_if_any(errors)
    return clean


def landlord_token(landlord: Landlord) -> str:
    """The concurrency token of a landlord (it has no version column): the time it was last saved."""
    return landlord.updated_at.isoformat()


def _parse_token(token: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(token) if token else None
    except ValueError:
        return None


@transaction.atomic
def landlord_create(*, actor, values: dict) -> Landlord:
    """房东登记: name, phone, community, the registration agreement, owned dwellings, optionally a person."""
    _require(actor, Perm.PERSON_CHANGE)
    clean = validate_landlord(actor=actor, values=values)
    dwellings = clean.pop("dwellings")
    landlord = Landlord.objects.create(**clean)
    landlord.dwellings.set(dwellings)
    audit.record(
        actor=actor,
        action="migrants.landlord.create",
        target=landlord,
        data={
            "fields": sorted(k for k, v in clean.items() if v not in ("", None, False)),
            "dwellings": len(dwellings),
        },
    )
    return landlord


@transaction.atomic
def landlord_update(*, actor, landlord: Landlord, values: dict, token: str | None) -> Landlord:
    """Edit a landlord if nobody saved it since `token` (landlord_token when the form was opened).

    `values` without "person" keeps the linked person; "person": None unlinks it.
    """
    _require(actor, Perm.PERSON_CHANGE)
    values = dict(values)
    values.setdefault("person", landlord.person)
    clean = validate_landlord(actor=actor, values=values)
    dwellings = clean.pop("dwellings")
    changed = sorted(f for f, v in clean.items() if getattr(landlord, f) != v)
    before = set(landlord.dwellings.values_list("pk", flat=True))
    after = {d.pk for d in dwellings}
    if before != after:
        changed.append("dwellings")
    stamp = _parse_token(token)
    now = time.now()
    updated = (
        Landlord.objects.for_system().filter(pk=landlord.pk, updated_at=stamp).update(**clean, updated_at=now)
        if stamp is not None
        else 0
    )
    if not updated:
        raise _stale(landlord, _("房东信息"))
    for name, value in clean.items():
        setattr(landlord, name, value)
    landlord.updated_at = now
    landlord.dwellings.set(dwellings)
    audit.record(actor=actor, action="migrants.landlord.update", target=landlord, data={"fields": changed})
    return landlord


# --- tenancies -----------------------------------------------------------------------------------------


@transaction.atomic
def tenancy_create(
    *,
    actor,
    landlord: Landlord,
    dwelling: Dwelling | None,
    started_on: date | None,
    declared_tenants: int | None,
) -> Tenancy:
    """租赁登记: a dwelling of the actor's scope rented out by `landlord`; it joins the landlord's dwellings."""
    _require(actor, Perm.PERSON_CHANGE)
    errors: list[DomainError] = []
    if dwelling is None:
        errors.append(DomainError("tenancy.dwelling_required", _("请选择出租房屋。"), "dwelling"))
    else:
        errors.extend(_dwellings_in_scope(actor, [dwelling], "dwelling"))
        # One open tenancy per dwelling, whoever registered it: an integrity check, not a read.
        if Tenancy.objects.for_system().filter(dwelling=dwelling, ended_on__isnull=True).exists():
            errors.append(
                DomainError(
                    "tenancy.dwelling_rented",
                    _("该房屋已有未退租的租赁登记，请先办理退租。"),
                    "dwelling",
                )
            )
    started = _date({"started_on": started_on}, "started_on", _("起租日期"), errors, required=True)
    if declared_tenants is None or not 0 <= declared_tenants <= MAX_DECLARED_TENANTS:
        errors.append(
            DomainError(
                "tenancy.declared_tenants",
                _("申报租住人数应为0至%(n)d之间的整数。") % {"n": MAX_DECLARED_TENANTS},
                "declared_tenants",
            )
        )
    DomainErrors.raise_if_any(errors)
    tenancy = Tenancy.objects.create(
        dwelling=dwelling, landlord=landlord, started_on=started, declared_tenants=declared_tenants
    )
    landlord.dwellings.add(dwelling)
    audit.record(actor=actor, action="migrants.tenancy.create", target=tenancy)
    return tenancy


@transaction.atomic
def tenancy_end(*, actor, tenancy: Tenancy, ended_on: date | None) -> Tenancy:
    """退租: the tenancy closes; its tenants stay registered where they live until their own events say so."""
    _require(actor, Perm.PERSON_CHANGE)
    errors: list[DomainError] = []
    ended = _date(
        {"ended_on": ended_on},
        "ended_on",
        _("退租日期"),
        errors,
        required=True,
        not_before=tenancy.started_on,
        not_before_label=_("起租日期"),
    )
    DomainErrors.raise_if_any(errors)
    # Conditional, so two officers ending it at once cannot both succeed.
    if (
        not Tenancy.objects.for_system()
        .filter(pk=tenancy.pk, ended_on__isnull=True)
        .update(ended_on=ended, updated_at=time.now())
    ):
        raise DomainError("tenancy.already_ended", _("该租赁已退租。"), "ended_on")
    tenancy.ended_on = ended
    audit.record(actor=actor, action="migrants.tenancy.end", target=tenancy)
    return tenancy


def _open(tenancy: Tenancy) -> None:
    if tenancy.ended_on is not None:
        raise DomainError("migrants.tenancy_ended", _("该租赁已退租，不能再变更租住人员。"), "tenants")


@transaction.atomic
def tenancy_tenants_set(*, actor, tenancy: Tenancy, persons: list[Person]) -> Tenancy:
    """The tenants are exactly `persons`. Anyone added must be in the actor's scope and live in the dwelling
    (someone moving in from elsewhere goes through tenancy_tenant_move_in first)."""
    _require(actor, Perm.PERSON_CHANGE)
    _open(tenancy)
    current = set(tenancy.tenants.values_list("pk", flat=True))
    wanted = {p.pk: p for p in persons}
    added = [p for pk, p in wanted.items() if pk not in current]
    visible = set(
        Person.objects.visible_to(actor).filter(pk__in=[p.pk for p in added]).values_list("pk", flat=True)
    )
    for p in added:
        if p.pk not in visible and not actor.is_system:
            raise DomainError("tenancy.tenant_out_of_scope", _("所选人员不在您的管辖范围内。"), "tenants")
        if p.dwelling_id != tenancy.dwelling_id or p.status != PersonStatus.ACTIVE:
            raise DomainError(
                "tenancy.tenant_elsewhere",
                _("%(name)s 不住在该出租房屋，请先为其登记变更住址。") % {"name": p.name},
                "tenants",
            )
    removed = current - set(wanted)
    if not added and not removed:
        return tenancy
    tenancy.tenants.remove(*removed)
    tenancy.tenants.add(*added)
    Tenancy.objects.for_system().filter(pk=tenancy.pk).update(updated_at=time.now())
    audit.record(
        actor=actor,
        action="migrants.tenancy.tenants",
        target=tenancy,
        data={"added": len(added), "removed": len(removed)},
    )
    return tenancy


@transaction.atomic
def tenancy_tenant_move_in(
    *, actor, tenancy: Tenancy, person: Person, occurred_on: date | None, version: int | None
) -> Tenancy:
    """A registry person of the actor's scope moves into the rented dwelling: a dwelling_change life event
    (registry.record_event, which checks the person's version) and the person joins the tenants."""
    _require(actor, Perm.PERSON_CHANGE)
    _open(tenancy)
    if not actor.is_system and not Person.objects.visible_to(actor).filter(pk=person.pk).exists():
        raise DomainError("tenancy.tenant_out_of_scope", _("所选人员不在您的管辖范围内。"), "id_number")
    # Where the person lives now, as stored (not as a caller's copy may say).
    person = Person.objects.for_system().select_related("dwelling__place").get(pk=person.pk)
    if person.dwelling_id != tenancy.dwelling_id:
        if occurred_on is None:
            raise DomainError("tenancy.moved_on_required", _("请填写迁入日期。"), "occurred_on")
        registry.record_event(
            actor=actor,
            person=person,
            kind=EventKind.DWELLING_CHANGE,
            occurred_on=occurred_on,
            version=version,
            source=EventSource.COUNTER,
            details={"dwelling": tenancy.dwelling},
        )
    elif person.status != PersonStatus.ACTIVE:
        raise DomainError("event.inactive", _("该人员已不在册（死亡或迁出）。"), "id_number")
    if not tenancy.tenants.filter(pk=person.pk).exists():
        tenancy.tenants.add(person)
        Tenancy.objects.for_system().filter(pk=tenancy.pk).update(updated_at=time.now())
        audit.record(
            actor=actor, action="migrants.tenancy.tenants", target=tenancy, data={"added": 1, "removed": 0}
        )
    return tenancy
