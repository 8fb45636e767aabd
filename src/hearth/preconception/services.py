"""Actions of the free pre-pregnancy eugenic check (免费孕前优生健康检查); each audited in its transaction.

- `enrol`: a couple is enrolled with the woman's agreement, at a station serving her place (the man's agreement
  may come then or later: `consent_set`). A repeat for a woman with an enrolment in progress returns it.
- `record_examination`: clinic staff enter one partner's items, risk and advice; only with that partner's own
  consent; changeable until the assessment is delivered.
- `deliver`: the assessment reached the person as they asked; abnormal results only into their own hands.
- `add_follow_up`, `record_outcome` (only with the woman's separate agreement), `withdraw` (at any time, with
  no reason asked), `reschedule`.
Audit rows never hold results.
"""

import re
from datetime import date

from django.db import IntegrityError, transaction
from django.utils.timezone import localdate
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.care.referrals import serves
from hearth.core import citizen_id, time
from hearth.core.errors import DomainError, DomainErrors
from hearth.places.models import Facility
from hearth.registry.models import Person, PersonStatus, Sex

from . import selectors
from .items import BY_CODE, VALUE_MAX, items_for
from .models import (
    IN_PROGRESS,
    Delivery,
    DeliveryMethod,
    Enrolment,
    Examination,
    FollowUp,
    OutcomeKind,
    Partner,
    PregnancyOutcome,
    Risk,
    Status,
)

NAME_MAX = 50
NOTE_MAX = 500
ADVICE_MAX = 2000
# A masked number as typed: the last four characters, with or without the asterisks before them.
_MASKED = re.compile(r"^\**[0-9X]{4}$")
_FULL = re.compile(r"^(\d{17}[0-9X]|\d{15})$")


def _deny() -> DomainError:
    return DomainError("permission.denied", _("您没有此操作的权限。"))


def _visible(actor, enrolment: Enrolment) -> None:
    if not selectors.enrolments_for(actor).filter(pk=enrolment.pk).exists():
        raise _deny()


def _open(enrolment: Enrolment) -> None:
    if enrolment.status == Status.WITHDRAWN:
        raise DomainError("precon.withdrawn", _("登记：本人已退出孕前优生检查，不再记录。"), "enrolment")


def _past_date(value: date | None, field: str, label: str, *, not_before: date | None = None) -> list:
    today = time.today()
    if value is None:
        return []
    if value > today:
        return [DomainError("precon.date_future", _("%(f)s：不能晚于今天。") % {"f": label}, field)]
    if not_before is not None and value < not_before:
        return [DomainError("precon.date_early", _("%(f)s：不能早于%(d)s。") % {"f": label, "d": not_before},
                            field)]  # fmt: skip
    return []


def mask_id_text(raw: str) -> str:
    """A man's ID number typed as text, kept masked (last four characters): a full number is masked here and
    never stored; anything else than a full or masked number is refused."""
    text = citizen_id.normalise((raw or "").strip())
    if not text:
        return ""
    if _FULL.match(text) or _MASKED.match(text):
        return citizen_id.mask(text)
    raise DomainError(
        "precon.man_id",
        _("男方证件号码：请填写后四位（如 ****1234），或完整的身份证号码（只保存后四位）。"),
        "man_id_masked",
    )


def _refresh_status(enrolment: Enrolment) -> None:
    """enrolled → examined → assessed → delivered, read from the examinations of the partners who consented."""
    if enrolment.status == Status.WITHDRAWN:
        return
    exams = {e.who: e for e in Examination.objects.for_system().filter(enrolment=enrolment)}
    expected = [Partner.WOMAN] + ([Partner.MAN] if enrolment.man_consent else [])
    # A partner examined before withdrawing their consent still counts.
    expected += [w for w in exams if w not in expected]
    delivered = set(
        Delivery.objects.for_system()
        .filter(examination__enrolment=enrolment)
        .values_list("examination__who", flat=True)
    )
    if not exams:
        status = Status.ENROLLED
    elif all(w in exams and exams[w].assessed and w in delivered for w in expected):
        status = Status.DELIVERED
    elif all(w in exams and exams[w].assessed for w in expected):
        status = Status.ASSESSED
    else:
        status = Status.EXAMINED
    if status != enrolment.status:
        enrolment.status = status
        try:
            with transaction.atomic():
                enrolment.save(update_fields=["status", "updated_at"])
        except IntegrityError:
            raise DomainError(
                "precon.newer_enrolment",
                _("登记：女方已有一份进行中的新登记，请在新登记中记录。"),
                "enrolment",
            ) from None


# --------------------------------------------------------------------------------------------- enrol


def enrol(
    *,
    actor,
    woman: Person,
    man: Person | None = None,
    man_name: str = "",
    man_id_masked: str = "",
    facility: Facility | None = None,
    agreed_on: date | None = None,
    woman_consent: bool = False,
    man_consent: bool = False,
    outcome_consent: bool = False,
) -> tuple[Enrolment, bool]:
    """登记 a couple; returns (enrolment, created). Officers enrol a woman in their scope at a station serving
    her place; clinic staff a woman their station reaches, at their own station."""
    if not selectors.can_enrol(actor):
        raise _deny()
    visible = Person.objects.visible_to(actor)
    if not visible.filter(pk=woman.pk).exists():
        raise _deny()
    errors: list[DomainError] = []
    if woman.sex != Sex.FEMALE:
        errors.append(DomainError("precon.woman_sex", _("女方：所选人员不是女性。"), "woman"))
    if woman.status != PersonStatus.ACTIVE:
        errors.append(
            DomainError("precon.inactive", _("女方：该人员不在册（已死亡、迁出或已合并）。"), "woman")
        )
    if actor.facility is not None:
        if facility is not None and facility.pk != actor.facility.pk:
            errors.append(DomainError("precon.facility", _("检查机构：只能登记到本机构。"), "facility"))
        facility = actor.facility
    if facility is None:
        errors.append(DomainError("precon.facility", _("检查机构：请选择检查机构。"), "facility"))
    elif not serves(facility, woman):
        errors.append(DomainError("precon.facility", _("检查机构：该机构不服务女方所在地区。"), "facility"))
    if man is not None:
        man_name = man_id_masked = ""
        if not visible.filter(pk=man.pk).exists():
            errors.append(DomainError("precon.man", _("男方：没有找到此人，可直接填写姓名。"), "man"))
        elif man.sex != Sex.MALE:
            errors.append(DomainError("precon.man_sex", _("男方：所选人员不是男性。"), "man"))
        elif man.status != PersonStatus.ACTIVE:
            errors.append(
                DomainError("precon.inactive", _("男方：该人员不在册（已死亡、迁出或已合并）。"), "man")
            )
    else:
        man_name = (man_name or "").strip()
        if not man_name:
            errors.append(DomainError("precon.man_name", _("男方姓名：请填写男方姓名。"), "man_name"))
        elif len(man_name) > NAME_MAX:
            errors.append(DomainError("precon.man_name", _("男方姓名：不能超过50个字。"), "man_name"))
        try:
            man_id_masked = mask_id_text(man_id_masked)
        except DomainError as exc:
            errors.append(exc)
    if woman_consent is not True:
        errors.append(
            DomainError("precon.consent", _("女方同意：登记和检查须经女方本人同意。"), "woman_consent")
        )
    if agreed_on is not None and agreed_on < time.today():
        errors.append(DomainError("precon.agreed_past", _("约定检查日期：不能早于今天。"), "agreed_on"))
    DomainErrors.raise_if_any(errors)
    existing = Enrolment.objects.for_system().filter(woman=woman, status__in=IN_PROGRESS).first()
    if existing is not None:
        if selectors.enrolments_for(actor).filter(pk=existing.pk).exists():
            return existing, False
        raise DomainError(
            "precon.enrolled_elsewhere", _("女方：已在其他机构登记孕前优生检查，尚未完成。"), "woman"
        )
    now = time.now()
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(
                woman=woman, man=man, man_name=man_name, man_id_masked=man_id_masked, facility=facility,
                agreed_on=agreed_on, woman_consent=True, woman_consent_at=now,
                man_consent=bool(man_consent), man_consent_at=now if man_consent else None,
                outcome_consent=bool(outcome_consent), outcome_consent_at=now if outcome_consent else None,
                place_path=woman.place_path, created_by=actor.grant,
            )  # fmt: skip
            audit.record(
                actor=actor, action="preconception.enrol", target=enrolment,
                data={"woman": str(woman.public_id), "man": str(man.public_id) if man else None,
                      "facility": facility.name, "man_consent": bool(man_consent),
                      "outcome_consent": bool(outcome_consent)},
            )  # fmt: skip
    except IntegrityError:  # enrolled by someone else a moment ago
        existing = Enrolment.objects.for_system().filter(woman=woman, status__in=IN_PROGRESS).first()
        if existing is None:
            raise
        return existing, False
    return enrolment, True


@transaction.atomic
def consent_set(*, actor, enrolment: Enrolment, who: str, given: bool) -> Enrolment:
    """Record the man's agreement to be examined, or the woman's to the outcome follow-up; or its withdrawal
    (a withdrawal of the woman's own agreement is `withdraw`)."""
    if not (selectors.can_enrol(actor) or selectors.can_examine(actor)):
        raise _deny()
    _visible(actor, enrolment)
    _open(enrolment)
    fields = {"man": ("man_consent", "man_consent_at"), "outcome": ("outcome_consent", "outcome_consent_at")}
    if who not in fields:
        raise DomainError("precon.consent_who", _("同意事项：请选择男方同意检查或同意妊娠结局随访。"), "who")
    flag, at = fields[who]
    locked = Enrolment.objects.for_system().select_for_update().get(pk=enrolment.pk)
    if getattr(locked, flag) != bool(given):
        setattr(locked, flag, bool(given))
        setattr(locked, at, time.now() if given else None)
        locked.save(update_fields=[flag, at, "updated_at"])
        audit.record(actor=actor, action="preconception.consent", target=locked, data={"who": who,
                     "given": bool(given)})  # fmt: skip
        _refresh_status(locked)
    return locked


@transaction.atomic
def reschedule(*, actor, enrolment: Enrolment, agreed_on: date | None) -> Enrolment:
    """约定检查日期: agree (or change) the date of the check."""
    if not (selectors.can_enrol(actor) or selectors.can_examine(actor)):
        raise _deny()
    _visible(actor, enrolment)
    _open(enrolment)
    if agreed_on is None:
        raise DomainError("precon.agreed_on", _("约定检查日期：请填写日期。"), "agreed_on")
    if agreed_on < time.today():
        raise DomainError("precon.agreed_past", _("约定检查日期：不能早于今天。"), "agreed_on")
    if enrolment.agreed_on != agreed_on:
        enrolment.agreed_on = agreed_on
        enrolment.save(update_fields=["agreed_on", "updated_at"])
        audit.record(actor=actor, action="preconception.reschedule", target=enrolment,
                     data={"agreed_on": agreed_on.isoformat()})  # fmt: skip
    return enrolment


@transaction.atomic
def withdraw(*, actor, enrolment: Enrolment) -> Enrolment:
    """本人退出: the couple leaves the programme at any time; nothing more is asked of them (no reason), and
    nothing more is recorded or sent (no follow-up, no outcome). Idempotent."""
    if not (selectors.can_enrol(actor) or selectors.can_examine(actor)):
        raise _deny()
    _visible(actor, enrolment)
    locked = Enrolment.objects.for_system().select_for_update().get(pk=enrolment.pk)
    if locked.status != Status.WITHDRAWN:
        locked.status, locked.withdrawn_at = Status.WITHDRAWN, time.now()
        locked.outcome_consent, locked.outcome_consent_at = False, None
        locked.save(update_fields=["status", "withdrawn_at", "outcome_consent", "outcome_consent_at",
                                   "updated_at"])  # fmt: skip
        audit.record(actor=actor, action="preconception.withdraw", target=locked)
    return locked


# --------------------------------------------------------------------------------------------- results


def _check_items(who: str, items) -> tuple[dict, list[DomainError]]:
    if not isinstance(items, dict) or not items:
        return {}, [DomainError("precon.items", _("检查项目：请至少填写一项检查结果。"), "items")]
    allowed = {i.code for i in items_for(who)}
    clean: dict = {}
    errors: list[DomainError] = []
    for code, entry in items.items():
        if code not in allowed:
            label = str(BY_CODE[code].label) if code in BY_CODE else str(code)[:40]
            errors.append(DomainError("precon.item_unknown",
                                      _("检查项目：“%(i)s”不是%(w)s的检查项目。")
                                      % {"i": label, "w": Partner(who).label}, "items"))  # fmt: skip
            continue
        if not isinstance(entry, dict):
            errors.append(DomainError("precon.item_shape", _("检查项目：“%(i)s”的结果格式无效。")
                                      % {"i": BY_CODE[code].label}, "items"))  # fmt: skip
            continue
        value = entry.get("value", "")
        abnormal = entry.get("abnormal", False)
        if value is None:
            value = ""
        if not isinstance(value, str) or len(value.strip()) > VALUE_MAX:
            errors.append(DomainError("precon.item_value", _("检查项目：“%(i)s”的结果应为不超过200字的文字。")
                                      % {"i": BY_CODE[code].label}, "items"))  # fmt: skip
            continue
        if not isinstance(abnormal, bool):
            errors.append(DomainError("precon.item_abnormal", _("检查项目：“%(i)s”是否异常应为是或否。")
                                      % {"i": BY_CODE[code].label}, "items"))  # fmt: skip
            continue
        clean[code] = {"value": value.strip(), "abnormal": abnormal}
    return clean, errors


def record_examination(
    *,
    actor,
    enrolment: Enrolment,
    who: str,
    items: dict,
    risk: str = "",
    advice: str = "",
    examined_on: date | None = None,
) -> tuple[Examination, bool]:
    """检查结果 of one partner (clinic staff only), with that partner's own consent. Entered again until the
    assessment is delivered (results come in over days); returns (examination, created)."""
    if not selectors.can_examine(actor):
        raise _deny()
    _visible(actor, enrolment)
    _open(enrolment)
    if who not in Partner.values:
        raise DomainError("precon.who", _("参检人：请选择女方或男方。"), "who")
    if not enrolment.consent_of(who):
        field = f"{who}_consent"
        raise DomainError(
            "precon.consent",
            _("%(w)s同意：%(w)s本人同意后才能检查。") % {"w": Partner(who).label},
            field,
        )
    existing = Examination.objects.for_system().filter(enrolment=enrolment, who=who).first()
    if existing is not None and Delivery.objects.for_system().filter(examination=existing).exists():
        raise DomainError("precon.delivered", _("检查结果：评估建议书已送达，不能再修改。"), "who")
    examined_on = examined_on or time.today()
    clean, errors = _check_items(who, items)
    risk = risk or ""
    advice = (advice or "").strip()
    if risk not in ("", *Risk.values):
        errors.append(DomainError("precon.risk", _("风险评估：请选择一般人群或高风险人群。"), "risk"))
    if len(advice) > ADVICE_MAX:
        errors.append(DomainError("precon.advice", _("咨询指导建议：不能超过2000个字。"), "advice"))
    elif risk == Risk.HIGH and not advice:
        errors.append(DomainError("precon.advice", _("咨询指导建议：高风险人群须填写指导建议。"), "advice"))
    errors += _past_date(examined_on, "examined_on", _("检查日期"),
                         not_before=localdate(enrolment.created_at))  # fmt: skip
    DomainErrors.raise_if_any(errors)
    needs = any(e["abnormal"] for e in clean.values()) or risk == Risk.HIGH
    person = enrolment.woman if who == Partner.WOMAN else enrolment.man
    with transaction.atomic():
        exam, created = Examination.objects.for_system().update_or_create(
            enrolment=enrolment, who=who,
            defaults={"items": clean, "risk": risk, "advice": advice, "needs_follow_up": needs,
                      "examined_on": examined_on, "examined_by": actor.grant, "person": person,
                      "place_path": enrolment.place_path},
        )  # fmt: skip
        _refresh_status(enrolment)
        # The items' count and the assessment's being made, never their values.
        audit.record(
            actor=actor, action="preconception.examination", target=enrolment,
            data={"who": who, "items": len(clean), "assessed": bool(risk), "created": created},
        )  # fmt: skip
    return exam, created


def _exam(enrolment: Enrolment, who: str) -> Examination:
    if who not in Partner.values:
        raise DomainError("precon.who", _("参检人：请选择女方或男方。"), "who")
    exam = Examination.objects.for_system().filter(enrolment=enrolment, who=who).first()
    if exam is None:
        raise DomainError(
            "precon.not_examined", _("参检人：%(w)s尚未检查。") % {"w": Partner(who).label}, "who"
        )
    return exam


def deliver(
    *,
    actor,
    enrolment: Enrolment,
    who: str,
    method: str,
    recipient: str = "",
    delivered_on: date | None = None,
) -> tuple[Delivery, bool]:
    """送达 the assessment as the person asked; returns (delivery, created) — a repeat returns the first.

    Abnormal results (any item abnormal, or high risk) reach the person themself only (seed 004: 必须将告知书
    送达参检对象本人手中): 本人签收."""
    if not (selectors.can_enrol(actor) or selectors.can_examine(actor)):
        raise _deny()
    _visible(actor, enrolment)
    _open(enrolment)
    exam = _exam(enrolment, who)
    found = Delivery.objects.for_system().filter(examination=exam).first()
    if found is not None:
        return found, False
    errors: list[DomainError] = []
    if not exam.assessed:
        errors.append(DomainError("precon.not_assessed", _("参检人：尚未完成风险评估，不能送达。"), "who"))
    recipient = (recipient or "").strip()
    if method not in DeliveryMethod.values:
        errors.append(DomainError("precon.method", _("送达方式：请选择本人签收、家属代收、邮寄或代为保存。"),
                                  "method"))  # fmt: skip
    elif exam.needs_follow_up and method != DeliveryMethod.SELF:
        errors.append(DomainError("precon.delivery_in_person",
                                  _("送达方式：检查结果有异常，评估建议书须送达本人手中，由本人签收。"),
                                  "method"))  # fmt: skip
    elif method == DeliveryMethod.FAMILY and not recipient:
        errors.append(DomainError("precon.recipient", _("代收人：家属代收须填写代收人姓名。"), "recipient"))
    if len(recipient) > NAME_MAX:
        errors.append(DomainError("precon.recipient", _("代收人：不能超过50个字。"), "recipient"))
    delivered_on = delivered_on or time.today()
    errors += _past_date(delivered_on, "delivered_on", _("送达日期"), not_before=exam.examined_on)
    DomainErrors.raise_if_any(errors)
    if method in (DeliveryMethod.SELF, DeliveryMethod.KEPT):
        recipient = ""
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                examination=exam, method=method, recipient=recipient, delivered_on=delivered_on,
                delivered_by=actor.grant,
            )  # fmt: skip
            _refresh_status(enrolment)
            audit.record(actor=actor, action="preconception.deliver", target=enrolment,
                         data={"who": who, "method": method})  # fmt: skip
    except IntegrityError:  # recorded by someone else a moment ago
        found = Delivery.objects.for_system().filter(examination=exam).first()
        if found is None:
            raise
        return found, False
    return delivery, True


@transaction.atomic
def add_follow_up(
    *, actor, enrolment: Enrolment, who: str, note: str, occurred_on: date | None = None
) -> FollowUp:
    """随访 about abnormal results. A note by clinic staff is clinical (read only with the clinical permission)."""
    if not (selectors.can_enrol(actor) or selectors.can_examine(actor)):
        raise _deny()
    _visible(actor, enrolment)
    _open(enrolment)
    exam = _exam(enrolment, who)
    errors: list[DomainError] = []
    if not exam.needs_follow_up:
        errors.append(DomainError("precon.no_follow_up", _("参检人：检查结果未见异常，无需随访。"), "who"))
    note = (note or "").strip()
    if not note:
        errors.append(DomainError("precon.note", _("随访情况：请填写随访情况。"), "note"))
    elif len(note) > NOTE_MAX:
        errors.append(DomainError("precon.note", _("随访情况：不能超过500个字。"), "note"))
    occurred_on = occurred_on or time.today()
    errors += _past_date(occurred_on, "occurred_on", _("随访日期"), not_before=exam.examined_on)
    DomainErrors.raise_if_any(errors)
    follow_up = FollowUp.objects.create(
        examination=exam, occurred_on=occurred_on, note=note, clinical=actor.can(Perm.CARE_CLINICAL),
        recorded_by=actor.grant,
    )  # fmt: skip
    audit.record(actor=actor, action="preconception.follow_up", target=enrolment,
                 data={"who": who, "occurred_on": occurred_on.isoformat()})  # fmt: skip
    return follow_up


@transaction.atomic
def record_outcome(
    *, actor, enrolment: Enrolment, kind: str, occurred_on: date | None = None, note: str = ""
) -> PregnancyOutcome:
    """妊娠结局随访 (clinic staff): only if the woman agreed to be followed up on the outcome."""
    if not selectors.can_examine(actor):
        raise _deny()
    _visible(actor, enrolment)
    _open(enrolment)
    if not enrolment.outcome_consent:
        raise DomainError(
            "precon.outcome_consent",
            _("同意妊娠结局随访：女方本人未同意妊娠结局随访，不能记录。"),
            "outcome_consent",
        )
    errors: list[DomainError] = []
    if kind not in OutcomeKind.values:
        errors.append(DomainError("precon.outcome_kind", _("随访结果：请选择随访结果。"), "kind"))
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors.append(DomainError("precon.note", _("备注：不能超过500个字。"), "note"))
    occurred_on = occurred_on or time.today()
    errors += _past_date(occurred_on, "occurred_on", _("日期"),
                         not_before=localdate(enrolment.created_at))  # fmt: skip
    DomainErrors.raise_if_any(errors)
    outcome = PregnancyOutcome.objects.create(
        enrolment=enrolment, kind=kind, occurred_on=occurred_on, note=note, recorded_by=actor.grant
    )
    audit.record(actor=actor, action="preconception.outcome", target=enrolment)
    return outcome
