"""Care services (入户服务): maintaining the catalogue and recording contacts; every change audited.

A contact is recorded once: a retry with the same client token, or a second submission for the same person,
service and day, returns the first record instead of writing another (a double tap on a phone, a flaky
connection). Recording updates the person's worklist rows in the same transaction.
"""

from datetime import date
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError, DomainErrors, as_list
from hearth.places.models import Facility
from hearth.registry.models import Person, PersonStatus

from . import catalogue, schedule
from .models import Outcome, ServiceRecord, ServiceType, ServiceTypeVersion

NOTE_MAX = 300


def _deny(message: str | None = None) -> DomainError:
    return DomainError("permission.denied", message or _("您没有此操作的权限。"))


# --------------------------------------------------------------------------------------------- catalogue


def catalogue_list(*, include_inactive: bool = True) -> QuerySet[ServiceType]:
    qs = ServiceType.objects.all()
    return qs if include_inactive else qs.filter(active=True)


def services_for(actor) -> QuerySet[ServiceType]:
    """The active services whose worklists the actor sees: supervisors see all, others those naming their role."""
    if not actor.can(Perm.CARE_VIEW) or not actor.sees_personal_data:
        return ServiceType.objects.none()
    qs = ServiceType.objects.filter(active=True)
    if actor.role in catalogue.SUPERVISING_ROLES:
        return qs
    return qs.filter(pk__in=[s.pk for s in qs if actor.role in s.roles])


def can_deliver(actor, service: ServiceType) -> bool:
    return actor.can(Perm.CARE_RECORD) and actor.role in service.roles


def _save_version(actor, service: ServiceType) -> None:
    ServiceTypeVersion.objects.create(
        service=service, version=service.version, snapshot=catalogue.snapshot(service),
        changed_by=actor.grant, changed_at=time.now(),
    )  # fmt: skip


@transaction.atomic
def service_type_create(*, actor, code: str, values: dict) -> ServiceType:
    """A new service type (新增服务项目); its first version is kept and audited."""
    if not actor.can(Perm.CARE_MANAGE):
        raise _deny()
    errors: list[DomainError] = []
    code = (code or "").strip()
    if not catalogue.NAME_RE.match(code):
        errors.append(
            DomainError(
                "care.code", _("代码：应以小写字母开头，只含小写字母、数字和下划线，不超过40个字符。"), "code"
            )
        )
    elif code in catalogue.RESERVED_CODES:
        errors.append(DomainError("care.code_reserved", _("代码：此代码为系统保留，请换一个。"), "code"))
    elif ServiceType.objects.filter(code=code).exists():
        errors.append(DomainError("care.code_taken", _("代码：已有服务项目使用此代码。"), "code"))
    try:
        clean = catalogue.check_definition(values)
    except DomainError as exc:
        errors.extend(as_list(exc))
    DomainErrors.raise_if_any(errors)
    service = ServiceType.objects.create(code=code, **clean)
    _save_version(actor, service)
    audit.record(actor=actor, action="care.service_create", target=service, data=catalogue.snapshot(service))
    return service


@transaction.atomic
def service_type_update(*, actor, service: ServiceType, values: dict, version: int) -> ServiceType:
    """Change a service type (修改服务项目): optimistic locking on `version`; each version kept and audited.

    Worklists follow the new rule at their next recomputation, which is started here.
    """
    if not actor.can(Perm.CARE_MANAGE):
        raise _deny()
    clean = catalogue.check_definition(values)
    current = ServiceType.objects.select_for_update().get(pk=service.pk)
    if current.version != version:
        raise DomainError(
            "care.stale",
            _("版本：该服务项目已被他人修改（当前为第 %(v)d 版），请刷新后重新编辑。")
            % {"v": current.version},
            "version",
        )
    previous = catalogue.snapshot(current)
    for k, v in clean.items():
        setattr(current, k, v)
    current.version = version + 1
    current.save()
    _save_version(actor, current)
    audit.record(
        actor=actor, action="care.service_update", target=current,
        data={"version": current.version, "now": catalogue.snapshot(current), "before": previous},
    )  # fmt: skip
    transaction.on_commit(lambda: _enqueue_recompute(current.pk))
    for k in ("version", "updated_at", *clean):
        setattr(service, k, getattr(current, k))
    return service


def _enqueue_recompute(service_id: int) -> None:
    from .tasks import recompute_service

    recompute_service.enqueue(service_id)


# --------------------------------------------------------------------------------------------- contacts


def record_contact(
    *,
    actor,
    person: Person,
    service: ServiceType,
    occurred_on: date | None = None,
    outcome: str,
    data: dict | None = None,
    consent: bool | None = None,
    note: str = "",
    client_token: UUID | None = None,
    facility: Facility | None = None,
) -> tuple[ServiceRecord, bool]:
    """Record one contact (服务记录); returns (record, created). A repeat returns the first record, unchanged."""
    if not can_deliver(actor, service) or not service.active:
        raise _deny(_("您的角色不提供此项服务，不能记录。"))
    if not Person.objects.visible_to(actor).filter(pk=person.pk).exists():
        raise _deny()
    if client_token is not None:
        found = ServiceRecord.objects.for_system().filter(client_token=client_token).first()
        if found is not None:
            if found.person_id != person.pk or found.service_id != service.pk:
                raise DomainError(
                    "care.token_reused", _("提交编号已用于另一条记录，请刷新页面后重试。"), "client_token"
                )
            return found, False
    today = time.today()
    occurred_on = occurred_on or today
    errors: list[DomainError] = []
    if occurred_on > today:
        errors.append(DomainError("care.date_future", _("服务日期：不能晚于今天。"), "occurred_on"))
    elif occurred_on < person.birth_date:
        errors.append(DomainError("care.date_before_birth", _("服务日期：不能早于出生日期。"), "occurred_on"))
    if outcome not in Outcome.values:
        errors.append(
            DomainError("care.outcome", _("结果：请选择已服务、需随访、本人谢绝或未见到本人。"), "outcome")
        )
    if person.status != PersonStatus.ACTIVE:
        errors.append(
            DomainError("care.person_inactive", _("人员：该人员不在册（已死亡、迁出或已合并）。"), "person")
        )
    given = outcome in (Outcome.DONE, Outcome.FOLLOW_UP)
    if given and service.consent_required and consent is not True:
        errors.append(DomainError("care.consent", _("知情同意：此项服务须先记录本人同意。"), "consent"))
    clean: dict = {}
    if given:
        clinical = actor.can(Perm.CARE_CLINICAL)
        for f in service.form:
            if f.get("clinical") and not clinical and (data or {}).get(f["name"]) not in (None, ""):
                errors.append(
                    DomainError("care.data_clinical", _("%(l)s：只有服务机构人员可以记录此项。") % {"l": f["label"]},
                                f"data.{f['name']}")
                )  # fmt: skip
        try:
            clean = catalogue.check_data(service.form, data)
        except DomainError as exc:
            errors.extend(as_list(exc))
    elif data:
        # Nothing is recorded about a person who declined or was not met, beyond that.
        errors.append(DomainError("care.data_not_given", _("记录内容：未提供服务时不填写记录内容。"), "data"))
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors.append(DomainError("care.note", _("备注：不能超过300个字。"), "note"))
    DomainErrors.raise_if_any(errors)
    same_day = Q(person=person, service=service, occurred_on=occurred_on)
    try:
        with transaction.atomic():
            record = ServiceRecord.objects.create(
                person=person, service=service, service_version=service.version, occurred_on=occurred_on,
                outcome=outcome, data=clean, consent=consent, note=note, place_path=person.place_path,
                facility=facility or actor.facility, recorded_by=actor.grant, client_token=client_token,
            )  # fmt: skip
            schedule.recompute(service, persons=[person.pk])
            audit.record(
                actor=actor, action="care.record", target=record,
                data={"service": service.code, "outcome": outcome, "person": str(person.public_id)},
            )  # fmt: skip
    except IntegrityError:
        # The same person, service and day (or token) was recorded meanwhile: that is this visit.
        found = ServiceRecord.objects.for_system().filter(same_day | Q(client_token=client_token)).first()
        if found is None:
            raise
        return found, False
    return record, True


def shows_clinical(actor, service: ServiceType) -> bool:
    """Whether the actor may see what was recorded (a community officer sees only 已服务/需随访)."""
    return not service.clinical or actor.can(Perm.CARE_CLINICAL)


def record_view(actor, record: ServiceRecord) -> dict:
    """A record as shown to the actor: the form's values only where the service is not clinical or may be seen."""
    visible = shows_clinical(actor, record.service)
    data = record.data
    if visible and not actor.can(Perm.CARE_CLINICAL):
        hidden = {f["name"] for f in record.service.form if f.get("clinical")}
        data = {k: v for k, v in data.items() if k not in hidden}
    return {
        "id": str(record.public_id),
        "service": record.service.code,
        "service_name": record.service.name,
        "occurred_on": record.occurred_on,
        "outcome": record.outcome,
        "outcome_label": str(Outcome(record.outcome).label),
        "data": data if visible else None,
        "clinical_hidden": not visible,
        "consent": record.consent,
        "note": record.note if visible else "",
    }


def person_records(actor, person: Person) -> list[dict]:
    """A person's contacts, newest first, as the actor may see them; reading clinical results is audited."""
    records = list(
        ServiceRecord.objects.visible_to(actor).filter(person=person).select_related("service")[:200]
    )
    rows = [record_view(actor, r) for r in records]
    if any(r.service.clinical and r.data for r in records) and actor.can(Perm.CARE_CLINICAL):
        audit.record(actor=actor, action="care.clinical_view", target=person, row_count=len(records))
    return rows
