"""Registering and changing persons. Reads of personal data are audited in selectors/views."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.core import citizen_id, time
from hearth.core.errors import DomainError, DomainErrors
from hearth.places.models import Dwelling
from hearth.places.tree import subtree_q

from .models import Person, ResidenceType, Sex

EDITABLE = ("name", "sex", "birth_date", "id_number", "dwelling", "residence_type")


def _dwelling_in_scope(actor, dwelling: Dwelling | None) -> list[DomainError]:
    if dwelling is None:
        return [DomainError("person.dwelling_required", _("请选择现住房屋。"), "dwelling")]
    if actor.is_system:
        return []
    if (
        actor.scope_path is None
        or not Dwelling.objects.filter(subtree_q("place__path", actor.scope_path), pk=dwelling.pk).exists()
    ):
        return [DomainError("person.dwelling_out_of_scope", _("所选房屋不在您的管辖范围内。"), "dwelling")]
    return []


def validate_person(*, actor, values: dict, exclude_pk: int | None = None) -> dict:
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
    residence_type = values.get("residence_type") or ResidenceType.HUKOU_RESIDENT
    if residence_type not in ResidenceType.values:
        errors.append(DomainError("person.residence_type", _("居住类型无效。"), "residence_type"))
    number = None
    raw_id = (values.get("id_number") or "").strip()
    if raw_id:
        try:
            parsed = citizen_id.parse(raw_id)
        except DomainError as exc:
            errors.append(exc)
        else:
            number = parsed.number
            errors.extend(citizen_id.validate_against(parsed, sex=sex, birth_date=birth_date))
            dup = Person.objects.for_system().filter(id_number=number)
            if exclude_pk:
                dup = dup.exclude(pk=exclude_pk)
            if dup.exists():
                # Said without showing where: the other record may be outside the actor's scope.
                errors.append(DomainError("id.duplicate", _("该身份证号码已在系统中登记。"), "id_number"))
    errors.extend(_dwelling_in_scope(actor, values.get("dwelling")))
    DomainErrors.raise_if_any(errors)
    return {
        "name": name,
        "sex": sex,
        "birth_date": birth_date,
        "id_number": number,
        "dwelling": values["dwelling"],
        "residence_type": residence_type,
    }


def _require(actor, perm: str) -> None:
    if not actor.is_system and not actor.can(perm):
        raise DomainError("permission.denied", _("您没有此操作的权限。"))


@transaction.atomic
def person_register(*, actor, values: dict) -> Person:
    _require(actor, Perm.PERSON_CREATE)
    clean = validate_person(actor=actor, values=values)
    try:
        with transaction.atomic():
            person = Person.objects.create(**clean)
    except IntegrityError:
        raise DomainError("id.duplicate", _("该身份证号码已在系统中登记。"), "id_number") from None
    audit.record(actor=actor, action="person.create", target=person)
    return person


@transaction.atomic
def person_update(*, actor, person: Person, values: dict, version: int) -> Person:
    """Apply an edit made on `version`; a stale version (someone saved in between) is refused."""
    _require(actor, Perm.PERSON_CHANGE)
    merged = {f: getattr(person, f) for f in EDITABLE} | {k: v for k, v in values.items() if k in EDITABLE}
    clean = validate_person(actor=actor, values=merged, exclude_pk=person.pk)
    changed = sorted(f for f in EDITABLE if clean[f] != getattr(person, f))
    try:
        with transaction.atomic():
            updated = (
                Person.objects.for_system()
                .filter(pk=person.pk, version=version)
                .update(**clean, version=version + 1, updated_at=time.now())
            )
    except IntegrityError:
        raise DomainError("id.duplicate", _("该身份证号码已在系统中登记。"), "id_number") from None
    if not updated:
        raise DomainError("person.stale", _("该记录已被他人修改，请刷新后重新编辑。"), "version")
    person.refresh_from_db()
    # Field names only: the audit log must not become a second copy of the personal data.
    audit.record(actor=actor, action="person.update", target=person, data={"fields": changed})
    return person


@transaction.atomic
def person_reveal_id(*, actor, person: Person, reason: str) -> str:
    """Show an ID number in full: a permission, a stated reason, one audit row."""
    _require(actor, Perm.PERSON_REVEAL_ID)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError("reveal.reason_required", _("请填写查看完整号码的事由。"), "reason")
    audit.record(actor=actor, action="person.reveal_id", target=person, reason=reason)
    return person.id_number or ""
