"""变动报告: what a building volunteer (信息员) saw at a dwelling, and the officer's decision on it.

A volunteer reports that someone moved in or out, was born, died or married at a dwelling of their building,
with a short text. It asks nothing about pregnancy, contraception or marital life. A community officer
confirms the report, turning it into persons and life events through the registry services (source
"volunteer_report", linked to the report), or rejects it with a reason the volunteer reads. The time from
report to decision is kept (`lead_time`) for an indicator.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, DurationField, ExpressionWrapper, F, IntegerField, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import gettext as _

from hearth.accounts.models import Grant
from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError, DomainErrors, as_list
from hearth.places.models import Dwelling
from hearth.places.tree import subtree_q

from . import identity
from .codes import DocumentType
from .models import (
    ChangeKind,
    ChangeReport,
    ChangeStatus,
    EventKind,
    EventSource,
    LifeEvent,
    Person,
    PersonStatus,
)
from .services import _require, person_register, record_event, register_birth, validate_person

TEXT_MAX = 500
REASON_MAX = 300
# Two identical reports from one grant within this window are one report (a double tap on a slow phone).
DUPLICATE_WINDOW = timedelta(minutes=1)
REJECTED_RECENT_DAYS = 30

MOVE_IN_NEW = "new"
# What a volunteer's report can tell about a newcomer; the rest is filled in later at the counter.
NEW_PERSON_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "id_type",
    "id_number",
    "residence_type",
    "hukou_code",
    "phone",
)
MOVE_IN_EXISTING = "existing"


# --- reading -----------------------------------------------------------------------------------------


def with_lead_time(qs: QuerySet[ChangeReport]) -> QuerySet[ChangeReport]:
    """`lead_time`: from report to decision (None while pending); the indicator reads confirmed ones."""
    return qs.annotate(
        lead_time=ExpressionWrapper(F("decided_at") - F("created_at"), output_field=DurationField())
    )


def lead_time(report: ChangeReport) -> timedelta | None:
    if report.decided_at is None:
        return None
    return report.decided_at - report.created_at


def can_read_reports(actor) -> bool:
    return actor.can(Perm.CHANGE_REPORT_DECIDE) or actor.can(Perm.CHANGE_REPORT_CREATE)


def change_reports_for(actor) -> QuerySet[ChangeReport]:
    """Deciders read every report in their scope; reporters (volunteers) only their own, in their scope."""
    qs = ChangeReport.objects.visible_to(actor)
    if actor.can(Perm.CHANGE_REPORT_DECIDE):
        pass
    elif actor.can(Perm.CHANGE_REPORT_CREATE) and actor.user is not None:
        qs = qs.filter(reported_by__user_id=actor.user.pk)
    else:
        return ChangeReport.objects.none()
    return with_lead_time(qs.select_related("dwelling__place", "reported_by__user", "decided_by__user"))


def change_report_list(*, actor, status: str = "", limit: int, offset: int) -> tuple[list[ChangeReport], int]:
    """One page of reports; deciders get pending ones first (oldest waiting first), then decided ones
    (latest decision first). One audit row per request."""
    if not can_read_reports(actor):
        raise Http404
    qs = change_reports_for(actor)
    if status:
        if status not in ChangeStatus.values:
            raise DomainError("report.status", _("状态筛选条件无效。"), "status")
        qs = qs.filter(status=status)
    if actor.can(Perm.CHANGE_REPORT_DECIDE):
        pending_first = Case(
            When(status=ChangeStatus.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        order = [pending_first, F("decided_at").desc(nulls_last=True), "created_at", "id"]
    else:
        order = ["-created_at", "-id"]
    total = qs.count()
    rows = list(qs.order_by(*order)[offset : offset + limit])
    audit.record(
        actor=actor,
        action="change_report.list",
        object_type="registry.changereport",
        row_count=total,
        data={"status": status} if status else None,
    )
    return rows, total


def change_report_open(*, actor, public_id, via_api: bool = False) -> ChangeReport:
    """Open one report (404 when missing, out of scope or someone else's for a volunteer); audited."""
    if not can_read_reports(actor):
        raise Http404
    report = get_visible_or_404(change_reports_for(actor), actor, public_id)
    audit.record(
        actor=actor, action="change_report.view", target=report, data={"api": True} if via_api else None
    )
    return report


def report_dwellings(actor) -> QuerySet[Dwelling]:
    """The dwellings a reporter may choose: those of their grant's place (a volunteer: their building)."""
    if actor.scope_path is None or not actor.sees_personal_data:
        return Dwelling.objects.none()
    return Dwelling.objects.filter(
        subtree_q("place__path", actor.scope_path), place__valid_to__isnull=True
    ).order_by("full_address", "id")


def report_residents(actor, report: ChangeReport) -> list[Person]:
    """The dwelling's current residents, to choose whom a report is about."""
    return list(
        Person.objects.visible_to(actor)
        .filter(dwelling_id=report.dwelling_id, status=PersonStatus.ACTIVE)
        .select_related("dwelling")
        .order_by("birth_date", "id")
    )


def report_events(actor, report: ChangeReport) -> list[LifeEvent]:
    """The events a confirmed report became (those the actor may see)."""
    return list(
        LifeEvent.objects.visible_to(actor)
        .filter(change_report=report)
        .select_related("person")
        .order_by("id")
    )


def pending_count(actor) -> int:
    if not actor.can(Perm.CHANGE_REPORT_DECIDE):
        return 0
    return ChangeReport.objects.visible_to(actor).filter(status=ChangeStatus.PENDING).count()


def recently_rejected_count(actor) -> int:
    """A reporter's own reports rejected in the last 30 days (their to-do: read the reason, report again)."""
    if not actor.can(Perm.CHANGE_REPORT_CREATE) or actor.user is None:
        return 0
    since = time.now() - timedelta(days=REJECTED_RECENT_DAYS)
    return (
        ChangeReport.objects.visible_to(actor)
        .filter(reported_by__user_id=actor.user.pk, status=ChangeStatus.REJECTED, decided_at__gte=since)
        .count()
    )


# --- reporting ---------------------------------------------------------------------------------------


@transaction.atomic
def change_report_create(*, actor, dwelling: Dwelling | None, kind: str, text: str = "") -> ChangeReport:
    """A volunteer's report. The same report sent twice within a minute (same grant, dwelling, kind and
    text) is the report already made, not a second one."""
    _require(actor, Perm.CHANGE_REPORT_CREATE)
    errors = []
    if kind not in ChangeKind.values:
        errors.append(DomainError("report.kind", _("请选择变动类型。"), "kind"))
    text = (text or "").strip()
    if len(text) > TEXT_MAX:
        errors.append(DomainError("report.text_length", _("情况说明不能超过500个字。"), "text"))
    elif kind == ChangeKind.OTHER and not text:
        errors.append(DomainError("report.text_required", _("选择“其他”时请填写情况说明。"), "text"))
    if dwelling is None:
        errors.append(DomainError("report.dwelling_required", _("请选择房屋。"), "dwelling"))
    elif not report_dwellings(actor).filter(pk=dwelling.pk).exists():
        errors.append(
            DomainError("report.dwelling_out_of_scope", _("所选房屋不在您负责的范围内。"), "dwelling")
        )
    DomainErrors.raise_if_any(errors)
    # Serialise one grant's reports so two taps arriving together cannot both pass the duplicate check.
    Grant.objects.select_for_update().filter(pk=actor.grant.pk).first()
    earlier = (
        ChangeReport.objects.for_system()
        .filter(
            reported_by=actor.grant,
            dwelling=dwelling,
            kind=kind,
            text=text,
            created_at__gte=time.now() - DUPLICATE_WINDOW,
        )
        .order_by("-id")
        .first()
    )
    if earlier is not None:
        return earlier
    report = ChangeReport.objects.create(dwelling=dwelling, kind=kind, text=text, reported_by=actor.grant)
    # The kind only: the free text may name people.
    audit.record(actor=actor, action="change_report.create", target=report, data={"kind": kind})
    return report


# --- deciding ----------------------------------------------------------------------------------------


@dataclass
class Decision:
    """What the officer chose when confirming; which fields count depends on the report's kind.

    moved_in: `mode` "new" registers a person from `values` (name, sex, birth_date, id_type, id_number,
    residence_type, hukou_code, phone); "existing" moves the person with `id_type`/`id_number` here.
    moved_out: `person`, `to_region`, `to_address`. birth: `mother` and the child's `values` (name, sex,
    birth_date, id_number). death: `person`. marriage: `person`, and `spouse` (a resident) or
    `spouse_id_number`, both optional. other: `note` (required). Persons are public ids of the dwelling's
    residents.
    """

    occurred_on: date | None = None
    note: str = ""
    mode: str = MOVE_IN_NEW
    values: dict = field(default_factory=dict)
    id_type: str = DocumentType.RESIDENT_ID
    id_number: str = ""
    person: str = ""
    mother: str = ""
    spouse: str = ""
    spouse_id_number: str = ""
    to_region: str = ""
    to_address: str = ""


def _decidable(actor) -> QuerySet[ChangeReport]:
    if actor.is_system:
        return ChangeReport.objects.for_system()
    return ChangeReport.objects.visible_to(actor)


def _already_decided(report: ChangeReport) -> DomainError:
    current = ChangeReport.objects.for_system().select_related("decided_by__user").get(pk=report.pk)
    who = ""
    if current.decided_by is not None:
        who = current.decided_by.user.full_name or current.decided_by.user.username
    message = _("该报告已由 %(who)s 于 %(when)s 处理（%(what)s），请勿重复处理。") % {
        "who": who or _("他人"),
        "when": time.localtime_str(current.decided_at) if current.decided_at else "",
        "what": current.get_status_display(),
    }
    return DomainError("report.decided", message, "status")


def _claim(actor, report: ChangeReport, status: str, reason: str) -> None:
    """A conditional update on the status: of two officers deciding at once, the second is refused.

    The UPDATE filters on the row's own columns only (no join), so PostgreSQL re-checks `status` on the
    row the first officer committed and updates nothing.
    """
    if not _decidable(actor).filter(pk=report.pk).exists():
        raise Http404
    now = time.now()
    claimed = (
        ChangeReport.objects.for_system()
        .filter(pk=report.pk, status=ChangeStatus.PENDING)
        .update(status=status, decided_by=actor.grant, decided_at=now, decision_reason=reason, updated_at=now)
    )
    if not claimed:
        raise _already_decided(report)
    report.status, report.decided_by, report.decided_at = status, actor.grant, now
    report.decision_reason, report.updated_at = reason, now


@transaction.atomic
def change_report_reject(*, actor, report: ChangeReport, reason: str) -> ChangeReport:
    """Return the report to the volunteer with a reason they will read."""
    _require(actor, Perm.CHANGE_REPORT_DECIDE)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError("report.reason_required", _("请填写退回原因，信息员会看到它。"), "reason")
    if len(reason) > REASON_MAX:
        raise DomainError("report.reason_length", _("退回原因不能超过300个字。"), "reason")
    _claim(actor, report, ChangeStatus.REJECTED, reason)
    audit.record(actor=actor, action="change_report.reject", target=report, data={"kind": report.kind})
    return report


def _reporter(report: ChangeReport) -> str:
    user = report.reported_by.user
    # Stored data, not UI: in Chinese whatever language the confirming officer reads.
    return f"信息员 {user.full_name or user.username}"[:100]


def _resident(actor, report: ChangeReport, public_id: str, field_name: str) -> Person:
    """A current resident of the report's dwelling, locked for the change."""
    if not public_id:
        raise DomainError("report.person_required", _("请选择人员。"), field_name)
    qs = (
        Person.objects.visible_to(actor)
        .filter(dwelling_id=report.dwelling_id, status=PersonStatus.ACTIVE)
        .select_for_update(of=("self",))
        .select_related("dwelling__place")
    )
    try:
        return qs.get(public_id=public_id)
    except (Person.DoesNotExist, ValueError, ValidationError):
        raise DomainError("report.not_resident", _("所选人员不是该房屋的在册居民。"), field_name) from None


def _by_number(id_type: str, raw: str, field_name: str) -> Person | None:
    """A person anywhere, found through the blind index (the number itself is never stored or logged)."""
    if id_type not in DocumentType.values:
        raise DomainError("id.type", _("证件类型无效。"), "id_type")
    number = identity.normalise_document(id_type, raw or "", field=field_name)
    return Person.objects.for_system().filter(id_index=identity.index_of(id_type, number)).first()


def _occurred_on(decision: Decision) -> date:
    if not isinstance(decision.occurred_on, date):
        raise DomainError("report.date_required", _("请填写发生日期。"), "occurred_on")
    return decision.occurred_on


def _confirm_moved_in(actor, report, decision, reporter) -> list:
    if decision.mode == MOVE_IN_NEW:
        values = {k: decision.values.get(k) for k in NEW_PERSON_FIELDS} | {"dwelling": report.dwelling}
        try:
            occurred_on = _occurred_on(decision)
        except DomainError as missing:
            # Said together with the newcomer's own problems, so the officer fixes the form once.
            errors = [missing]
            try:
                validate_person(actor=actor, values=values)
            except DomainError as exc:
                errors += as_list(exc)
            DomainErrors.raise_if_any(errors)
        person = person_register(
            actor=actor,
            values=values,
            source=EventSource.VOLUNTEER_REPORT,
            reporter=reporter,
            occurred_on=occurred_on,
            event_kind=EventKind.MOVE_IN,
            change_report=report,
        )
        return [person]
    if decision.mode != MOVE_IN_EXISTING:
        raise DomainError("report.mode", _("请选择新登记或已登记人员。"), "mode")
    occurred_on = _occurred_on(decision)
    if not (decision.id_number or "").strip():
        raise DomainError("report.id_required", _("请填写迁入人员的证件号码。"), "id_number")
    found = _by_number(decision.id_type, decision.id_number, "id_number")
    if found is None:
        raise DomainError(
            "report.person_unknown", _("系统中没有该证件号码的人员，请选择“新登记”。"), "id_number"
        )
    person = (
        Person.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("dwelling__place")
        .filter(pk=found.pk)
        .first()
    )
    if person is None:
        # Said without showing where: the record is outside the officer's scope.
        raise DomainError(
            "report.person_elsewhere",
            _("该人员在其他地方登记，请通过迁移申请办理，不要重复登记。"),
            "id_number",
        )
    if person.status == PersonStatus.DECEASED:
        raise DomainError("report.person_deceased", _("该人员已登记死亡。"), "id_number")
    if person.status == PersonStatus.ACTIVE and person.dwelling_id == report.dwelling_id:
        raise DomainError("report.already_resident", _("该人员已登记住在该房屋。"), "id_number")
    kind = EventKind.DWELLING_CHANGE if person.status == PersonStatus.ACTIVE else EventKind.MOVE_IN
    return [
        record_event(
            actor=actor,
            person=person,
            kind=kind,
            occurred_on=occurred_on,
            version=None,
            source=EventSource.VOLUNTEER_REPORT,
            reporter=reporter,
            details={"dwelling": report.dwelling},
            change_report=report,
        )
    ]


def _confirm_simple_event(kind: str):
    def confirm(actor, report, decision, reporter) -> list:
        occurred_on = _occurred_on(decision)
        person = _resident(actor, report, decision.person, "person")
        details: dict = {}
        if kind == EventKind.MOVE_OUT:
            details = {"to_region": decision.to_region, "to_address": decision.to_address}
        elif kind == EventKind.MARRIAGE:
            details = {"spouse": _spouse(actor, report, decision)}
        return [
            record_event(
                actor=actor,
                person=person,
                kind=kind,
                occurred_on=occurred_on,
                version=None,
                source=EventSource.VOLUNTEER_REPORT,
                reporter=reporter,
                details=details,
                change_report=report,
            )
        ]

    return confirm


def _spouse(actor, report, decision) -> Person | None:
    if decision.spouse:
        return _resident(actor, report, decision.spouse, "spouse")
    if (decision.spouse_id_number or "").strip():
        spouse = _by_number(DocumentType.RESIDENT_ID, decision.spouse_id_number, "spouse_id_number")
        if spouse is None:
            raise DomainError(
                "event.spouse_unknown", _("系统中没有该证件号码的人员，可不填配偶。"), "spouse_id_number"
            )
        # record_event links back only a spouse the officer may see; one outside stays a masked relative.
        return spouse
    return None


def _confirm_birth(actor, report, decision, reporter) -> list:
    mother = _resident(actor, report, decision.mother, "mother")
    father = None
    if mother.spouse_id:
        father = Person.objects.visible_to(actor).filter(pk=mother.spouse_id).first()
    values = {k: decision.values.get(k) for k in ("name", "sex", "birth_date", "id_number")}
    child = register_birth(
        actor=actor,
        mother=mother,
        father=father,
        values=values,
        source=EventSource.VOLUNTEER_REPORT,
        reporter=reporter,
        change_report=report,
    )
    return [child]


def _confirm_other(actor, report, decision, reporter) -> list:
    if len((decision.note or "").strip()) < 2:
        raise DomainError("report.note_required", _("请填写处理说明。"), "note")
    return []


_CONFIRM = {
    ChangeKind.MOVED_IN: _confirm_moved_in,
    ChangeKind.MOVED_OUT: _confirm_simple_event(EventKind.MOVE_OUT),
    ChangeKind.BIRTH: _confirm_birth,
    ChangeKind.DEATH: _confirm_simple_event(EventKind.DEATH),
    ChangeKind.MARRIAGE: _confirm_simple_event(EventKind.MARRIAGE),
    ChangeKind.OTHER: _confirm_other,
}


@transaction.atomic
def change_report_confirm(*, actor, report: ChangeReport, decision: Decision) -> ChangeReport:
    """Confirm the report and turn it into persons and life events, all in one transaction.

    Any refusal (a bad field, a person not living there) undoes the whole decision, the status included.
    """
    _require(actor, Perm.CHANGE_REPORT_DECIDE)
    note = (decision.note or "").strip()
    if len(note) > REASON_MAX:
        raise DomainError("report.note_length", _("处理说明不能超过300个字。"), "note")
    _claim(actor, report, ChangeStatus.CONFIRMED, note)
    report = (
        ChangeReport.objects.for_system()
        .select_related("dwelling__place", "reported_by__user")
        .get(pk=report.pk)
    )
    made = _CONFIRM[report.kind](actor, report, decision, _reporter(report))
    audit.record(
        actor=actor,
        action="change_report.confirm",
        target=report,
        data={"kind": report.kind, "records": len(made)},
    )
    return report
