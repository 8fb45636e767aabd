"""通知单: notices to the persons a service is to be offered to — printed (one PDF, or one PDF of up to 1,000 for
a check day or a community, made in the background) and as a short SMS text.

Who gets one: the persons in the actor's worklist of the service (optionally one place) whose row is "not yet
offered" or "due" (due now, or within the service's notice days); overdue rows are the officer's own follow-up,
upcoming ones are not due yet, and a person who declined closed the cycle (no notice until the next one).
Persons no longer on the register are left out even if the nightly recomputation has not yet caught up.

A notice says only what is offered, when and where, and that it is free and voluntary and may be declined. It
never carries anything recorded (no results, no clinical values) and never mentions marriage, pregnancy or
contraception: a service whose name would (孕期随访, 避孕节育…, 产后访视) is named as 家庭健康服务 on paper and
in the SMS, since a notice may be read by anyone in the household or on the stairs.

There is no SMS gateway: the text is recorded (status 已生成) and an officer who sent it from the unit's SMS
platform or a phone marks it sent, then delivered. Each notice is an `IssuedDocument` (documents layer), one per
person and cycle of the service (`related_id` = code:due date, or code:now); generating again before it was sent
reuses it. The batch's notices are recorded in bulk when its PDF is stored.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from time import perf_counter

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_tasks import task

from hearth.accounts.models import Grant
from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError
from hearth.documents import policies, render
from hearth.documents import services as documents
from hearth.documents.models import Channel, DocumentBatch, DocumentKind, IssuedDocument
from hearth.places.models import Facility, Place, PlaceKind
from hearth.places.tree import ancestor_paths
from hearth.registry.models import Person, PersonStatus, Sex

from . import catalogue, services, worklists
from .models import Due, ServiceType

log = logging.getLogger(__name__)

NOTICE_STATUSES = ("not_offered", "due")
RELATED_TYPE = "care.due"
TEMPLATE = "care/notice.html"
LIMIT = 1000  # notices in one batch (a check day's invitations)
SMS_MAX = 70  # characters: one SMS of Chinese text
# Words a notice must never carry (marriage, pregnancy, contraception, and results): a service named with one
# is printed under a neutral name, and the tests read every notice and SMS for them.
SENSITIVE_WORDS = (
    "婚",
    "孕",
    "产",
    "避孕",
    "节育",
    "生育",
    "流产",
    "引产",
    "上环",
    "取环",
    "结扎",
    "胎",
    "哺乳",
)
CLINICAL_WORDS = ("结果", "异常", "阳性", "阴性", "诊断", "血压", "血糖", "风险", "随访")
NEUTRAL_NAME = _lazy("家庭健康服务")


# --------------------------------------------------------------------------------------------- who may


def _visible_codes(actor) -> list[str]:
    """The services whose notices the actor may see: those whose worklist they see (inactive ones too)."""
    if not actor.can(Perm.CARE_VIEW) or not actor.sees_personal_data:
        return []
    supervising = actor.role in catalogue.SUPERVISING_ROLES
    return [s.code for s in ServiceType.objects.all() if supervising or actor.role in s.roles]


# The documents layer asks who may see a notice (a volunteer must not learn of a neighbour's health check).
policies.register(DocumentKind.NOTICE, lambda actor: Q(topic__in=_visible_codes(actor)))


def can_issue(actor, service: ServiceType) -> bool:
    """Issuing notices needs care.record and the service's worklist (supervisors: all services)."""
    return (
        actor.can(Perm.CARE_RECORD)
        and documents.can_change(actor, DocumentKind.NOTICE)
        and services.services_for(actor).filter(pk=service.pk).exists()
    )


def _deny() -> DomainError:
    return DomainError("permission.denied", _("您没有此操作的权限。"))


# --------------------------------------------------------------------------------------------- text


def public_name(service: ServiceType) -> str:
    """The service's name as printed: a neutral one if the name would say more than the household should read."""
    name = service.name
    if any(w in name for w in SENSITIVE_WORDS):
        return str(NEUTRAL_NAME)
    return name


def cycle_key(service: ServiceType, due: Due) -> str:
    return f"{service.code}:{due.due_on.isoformat() if due.due_on else 'now'}"


def _cycle_key_sql(service: ServiceType):
    return Concat(
        Value(f"{service.code}:"),
        Coalesce(Cast("due_on", CharField()), Value("now")),
        output_field=CharField(),
    )


def _when(due: Due, as_of: date) -> tuple[str, str]:
    """(the long form for paper, the short form for SMS)."""
    if due.due_on is None or due.due_on <= as_of:
        start_long, start_short = _("即日起"), _("即日起")
    else:
        start_long = _("%(d)s起") % {"d": date_format(due.due_on, "Y年n月j日")}
        start_short = _("%(d)s起") % {"d": date_format(due.due_on, "n月j日")}
    if due.window_end:
        end = date_format(due.window_end, "n月j日")
        return _("%(s)s，请在%(e)s前") % {"s": start_long, "e": end}, _("%(s)s至%(e)s") % {
            "s": start_short,
            "e": end,
        }
    return start_long, start_short


class Places:
    """Facilities and community names for many persons, read once (a batch of 1,000 asks nothing per person)."""

    def __init__(self, service: ServiceType, persons: Iterable[Person]):
        paths = {p for person in persons for p in ancestor_paths(person.place_path or "")}
        self.names = {
            p.path: p.name
            for p in Place.objects.filter(path__in=paths, kind=PlaceKind.COMMUNITY).only("path", "name")
        }
        self.facilities: list[tuple[Facility, set[str]]] = []
        if service.facility_kind:
            qs = Facility.objects.filter(kind=service.facility_kind).select_related("place")
            for f in qs.prefetch_related("served_places").order_by("name"):
                served = {p.path for p in f.served_places.all()} or {f.place.path}
                self.facilities.append((f, served))

    def community(self, place_path: str) -> str:
        for path in reversed(ancestor_paths(place_path or "")):
            if path in self.names:
                return self.names[path]
        return ""

    def facility(self, place_path: str) -> Facility | None:
        """The facility of the service's kind serving the place most closely (as referrals.facilities_for)."""
        ancestors = ancestor_paths(place_path or "")
        best, depth = None, -1
        for f, served in self.facilities:
            for i, path in enumerate(ancestors):
                if path in served and i > depth:
                    best, depth = f, i
        return best


def notice_context(
    person: Person,
    due_row: Due,
    service: ServiceType,
    *,
    as_of: date | None = None,
    places: Places | None = None,
    facility: Facility | None = None,
    where: str = "",
    on: date | None = None,
) -> dict:
    """What one notice says: name, address, service, from when (or 即日), where, whom to ask, and that it is
    free and voluntary. `where`/`on` override the place and date (a check day's invitation). Always in Chinese:
    the notice is for the resident, not for the officer's screen."""
    with translation.override(render.DOCUMENT_LANGUAGE):
        return _notice_context(person, due_row, service, as_of, places, facility, where, on)


def _notice_context(person, due_row, service, as_of, places, facility, where, on) -> dict:
    as_of = as_of or time.today()
    places = places or Places(service, [person])
    if facility is None:
        facility = places.facility(person.place_path)
    community = places.community(person.place_path)
    when, when_short = _when(due_row, as_of)
    if on is not None:
        when, when_short = date_format(on, "Y年n月j日"), date_format(on, "n月j日")
    if where:
        where_text = where_short = where
    elif facility is not None:
        where_text = where_short = facility.name
    else:
        where_text = _("社区工作人员将与您联系，约定上门或到社区服务的时间")
        where_short = ""
    name = public_name(service)
    return {
        "title": _("%(s)s通知单") % {"s": name},
        "name": person.name,
        "honorific": _honorific(person),
        "address": str(person.dwelling) if person.dwelling_id and person.dwelling else "",
        "service_name": name,
        "when": when,
        "when_short": when_short,
        "where": where_text,
        "where_short": where_short,
        "community": community,
        "contact": _("%(c)s工作人员") % {"c": community} if community else _("社区工作人员"),
        "issued_on": date_format(as_of, "Y年n月j日"),
        "voluntary": _("本项服务免费，是否参加由您本人决定。如不需要，告诉我们即可，我们尊重您的选择。"),
    }


def _honorific(person: Person) -> str:
    name = person.name or ""
    if "·" in name or "•" in name or len(name) > 4:
        return name
    suffix = {Sex.FEMALE: _("女士"), Sex.MALE: _("先生")}.get(person.sex, "")
    return f"{name[:1]}{suffix}" if suffix else name


def sms_text(context: dict) -> str:
    """The SMS (in Chinese, as the notice): at most 70 characters; the place is dropped first, then the
    signature, if it is too long."""
    with translation.override(render.DOCUMENT_LANGUAGE):
        return _sms_text(context)


def _sms_text(context: dict) -> str:
    sign = f"【{context['community']}】" if context["community"] else ""
    where = _("到%(w)s") % {"w": context["where_short"]} if context["where_short"] else ""
    service = context["service_name"][:12]

    def build(sign: str, where: str) -> str:
        return _("%(sign)s%(who)s您好：%(when)s可%(where)s参加免费%(service)s，自愿参加，可谢绝。") % {
            "sign": sign, "who": context["honorific"][:8], "when": context["when_short"], "where": where,
            "service": service,
        }  # fmt: skip

    for s, w in ((sign, where), (sign, ""), ("", "")):
        text = build(s, w)
        if len(text) <= SMS_MAX:
            return text
    return text[:SMS_MAX]


def summary(context: dict) -> str:
    """What a printed notice's record says (no clinical values): its title and from when."""
    return f"{context['title']}（{context['when']}）"[:200]


# --------------------------------------------------------------------------------------------- who gets one


def candidates(
    actor, service: ServiceType, *, as_of: date, place: Place | None = None, include_notified: bool = True
) -> QuerySet[Due]:
    """The worklist rows that call for a notice: not yet offered, or due, of persons on the register."""
    qs = worklists.rows(actor, service, as_of=as_of, place=place)
    wanted = Q()
    for s in NOTICE_STATUSES:
        wanted |= worklists.status_q(service, s, as_of)
    qs = qs.filter(wanted, person__status=PersonStatus.ACTIVE)
    if not include_notified:
        printed = IssuedDocument.objects.for_system().filter(
            kind=DocumentKind.NOTICE, channel=Channel.PRINT, related_type=RELATED_TYPE,
            person_id=OuterRef("person_id"), related_id=OuterRef("cycle"),
        ).exclude(status="failed")  # fmt: skip
        qs = qs.annotate(cycle=_cycle_key_sql(service)).filter(~Exists(printed))
    return qs


def _first_per_person(rows: Iterable[Due], limit: int) -> list[Due]:
    seen: set[int] = set()
    out = []
    for row in rows:
        if row.person_id in seen:
            continue
        seen.add(row.person_id)
        out.append(row)
        if len(out) >= limit:
            break
    return out


@dataclass
class CandidateRow:
    """A worklist row needing a notice, its status on the day, and this cycle's printed notice and SMS."""

    due: Due
    status: str
    printed: IssuedDocument | None
    sms: IssuedDocument | None


def with_documents(service: ServiceType, rows: list[Due], *, as_of: date) -> list[CandidateRow]:
    """The rows of a page of candidates with their notices of this cycle (two queries for the page)."""
    pairs = [(r.person_id, cycle_key(service, r)) for r in rows]
    found = {
        channel: documents.latest_documents(
            kind=DocumentKind.NOTICE, channel=channel, related_type=RELATED_TYPE, pairs=pairs
        )
        for channel in (Channel.PRINT, Channel.SMS)
    }
    return [
        CandidateRow(
            r, worklists.status_of(r, service, as_of), found[Channel.PRINT].get(p), found[Channel.SMS].get(p)
        )
        for r, p in zip(rows, pairs, strict=True)
    ]


def person_row(actor, service: ServiceType, person: Person, *, as_of: date) -> Due:
    """The row a notice for this person is about: the earliest one not yet offered, due or overdue."""
    qs = Due.objects.visible_to(actor).filter(service=service, person=person)
    wanted = Q()
    for s in (*NOTICE_STATUSES, "overdue"):
        wanted |= worklists.status_q(service, s, as_of)
    row = qs.filter(wanted).select_related("person__dwelling").order_by("due_on").first()
    if row is None or person.status != PersonStatus.ACTIVE:
        raise DomainError("care.notice_not_due", _("人员：该人员目前不需要此项服务的通知。"), "person")
    return row


# --------------------------------------------------------------------------------------------- one person


@dataclass
class Notice:
    pdf: bytes
    document: IssuedDocument
    created: bool
    filename: str


def notice_pdf(actor, service: ServiceType, person: Person) -> Notice:
    """One person's notice as a PDF (A5), recorded as issued on paper; printing it again reuses the record."""
    if not can_issue(actor, service):
        raise _deny()
    today = time.today()
    row = person_row(actor, service, person, as_of=today)
    context = notice_context(person, row, service, as_of=today)
    pdf = render.render_pdf(TEMPLATE, context, size="A5", title=context["title"])
    doc, created = documents.issue(
        actor=actor, kind=DocumentKind.NOTICE, person=person, title=context["title"], topic=service.code,
        channel=Channel.PRINT, body_text=summary(context), related_type=RELATED_TYPE,
        related_id=cycle_key(service, row), pdf=pdf,
    )  # fmt: skip
    audit.record(
        actor=actor, action="care.notice_print", target=person,
        data={"service": service.code, "document": str(doc.public_id)},
    )  # fmt: skip
    return Notice(pdf=pdf, document=doc, created=created, filename=f"notice-{service.code}-{today}.pdf")


def notice_sms(actor, service: ServiceType, person: Person) -> tuple[IssuedDocument, bool]:
    """The SMS text for one person, recorded as issued (an officer sends it and marks it); an open one is reused."""
    if not can_issue(actor, service):
        raise _deny()
    today = time.today()
    row = person_row(actor, service, person, as_of=today)
    if not (person.phone or "").strip():
        raise DomainError(
            "care.notice_no_phone", _("联系电话：该人员没有登记联系电话，不能发短信通知。"), "phone"
        )
    context = notice_context(person, row, service, as_of=today)
    return documents.issue(
        actor=actor, kind=DocumentKind.NOTICE, person=person, title=context["title"], topic=service.code,
        channel=Channel.SMS, body_text=sms_text(context), related_type=RELATED_TYPE,
        related_id=cycle_key(service, row),
    )  # fmt: skip


# --------------------------------------------------------------------------------------------- batches


def notices_batch_start(
    actor,
    service: ServiceType,
    *,
    place: Place | None = None,
    limit: int = LIMIT,
    include_notified: bool = False,
) -> tuple[DocumentBatch, bool]:
    """Start making one PDF of the notices (生成通知单) in the background; returns (batch, started).

    By default persons who already have this cycle's printed notice are left out; at most `limit` (1,000).
    """
    if not can_issue(actor, service):
        raise _deny()
    if not 1 <= limit <= LIMIT:
        raise DomainError("care.notices_limit", _("份数：应在1到1000之间。"), "limit")
    today = time.today()
    qs = candidates(actor, service, as_of=today, place=place, include_notified=include_notified)
    total = min(qs.values("person_id").distinct().count(), limit)
    if not total:
        raise DomainError("care.notices_none", _("人员：目前没有需要发通知单的人员。"), "service")
    params = {
        "service": service.code,
        "place": str(place.public_id) if place else "",
        "limit": limit,
        "as_of": today.isoformat(),
        "include_notified": include_notified,
    }
    where = place.name if place else ""
    title = _("%(s)s通知单") % {"s": service.name} + (f"（{where}）" if where else "")
    return documents.batch_start(
        actor=actor, kind=DocumentKind.NOTICE, title=title, topic=service.code,
        place_path=place.path if place else (actor.scope_path or ""), params=params, total=total,
        task=notices_batch_task,
    )  # fmt: skip


@task()
def notices_batch_task(batch_id: int) -> str:
    """The worker's entry for a batch of notices (idempotent: a batch already started is left alone)."""
    return notices_batch_run(batch_id)


def notices_batch_run(batch_id: int) -> str:
    from hearth.accounts.actor import actor_for

    batch = documents.batch_claim(batch_id)
    if batch is None:
        return "skipped"
    started = perf_counter()
    try:
        grant = Grant.objects.select_related("place", "facility__place", "user").get(pk=batch.requested_by_id)
        if grant.revoked_at is not None:
            documents.batch_fail(batch, _("生成人的授权已撤销。"))
            return "failed"
        actor = actor_for(grant)
        params = batch.params
        service = ServiceType.objects.get(code=params["service"])
        place = None
        if params.get("place"):
            place = Place.objects.visible_to(actor).filter(public_id=params["place"]).first()
            if place is None:
                documents.batch_fail(batch, _("地区：已不在您的管辖范围内。"))
                return "failed"
        as_of = date.fromisoformat(params["as_of"])
        if not can_issue(actor, service):
            documents.batch_fail(batch, _("您已没有生成此项服务通知单的权限。"))
            return "failed"
        qs = candidates(
            actor, service, as_of=as_of, place=place, include_notified=params.get("include_notified", False)
        )
        rows = _first_per_person(qs.iterator(chunk_size=2000), params.get("limit", LIMIT))
        if not rows:
            documents.batch_fail(batch, _("人员：目前没有需要发通知单的人员。"))
            return "failed"
        documents.batch_progress(batch, stage="layout", done=0, total=len(rows))
        places = Places(service, [r.person for r in rows])
        contexts = [notice_context(r.person, r, service, as_of=as_of, places=places) for r in rows]
        pdf = render.render_many(
            TEMPLATE, contexts, size="A5", title=batch.title,
            progress=lambda n: documents.batch_progress(batch, stage="layout", done=n),
        )  # fmt: skip
        documents.batch_progress(batch, stage="save", done=len(rows))
        items = [
            documents.Item(
                person=r.person, title=c["title"], related_id=cycle_key(service, r), body_text=summary(c)
            )
            for r, c in zip(rows, contexts, strict=True)
        ]
        with transaction.atomic():
            documents.batch_finish(
                actor=actor, batch=batch, pdf=pdf, count=len(rows), seconds=perf_counter() - started
            )
            documents.issue_many(
                actor=actor, kind=DocumentKind.NOTICE, channel=Channel.PRINT, topic=service.code,
                related_type=RELATED_TYPE, items=items, batch=batch, pdf_sha256=batch.sha256,
            )  # fmt: skip
    except Exception as exc:
        log.exception("notices batch %s failed", batch_id)
        documents.batch_fail(batch, _("生成失败：%(e)s") % {"e": str(exc)[:200]})
        return "failed"
    return "done"
