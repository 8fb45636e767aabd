"""Reading the worklists: each row's status on a date, filters, counts per service and per community.

Statuses, for a row of a service with `lead_days` L, on day D:
- not offered (从未提供): no due date and never contacted about the service;
- upcoming (未到期): due after D + L;
- overdue (已逾期): the due date passed (or, after an event, the window ended) before D;
- due (待服务): the rest — no due date but contacted (not yet reached), in its window, or due within L days.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext_lazy as _lazy

from hearth.accounts.roles import Perm
from hearth.core import time
from hearth.places.models import Place
from hearth.places.tree import subtree_q
from hearth.registry.selectors import age_band

from .models import Due, Outcome, ServiceType

STATUSES = {
    "not_offered": _lazy("从未提供"),
    "overdue": _lazy("已逾期"),
    "due": _lazy("待服务"),
    "upcoming": _lazy("未到期"),
}
ACTIONABLE = ("not_offered", "overdue", "due")


def status_q(service: ServiceType, status: str, as_of: date) -> Q:
    never = Q(due_on__isnull=True, offered=False)
    upcoming = Q(due_on__gt=as_of + timedelta(days=service.lead_days))
    late = Q(window_end__lt=as_of) | Q(window_end__isnull=True, due_on__lt=as_of)
    return {
        "not_offered": never,
        "upcoming": upcoming,
        "overdue": late,
        "due": ~never & ~upcoming & ~late,
    }[status]


def status_of(row: Due, service: ServiceType, as_of: date) -> str:
    """The same in Python, for a row already read."""
    if row.due_on is None:
        return "due" if row.offered else "not_offered"
    if row.due_on > as_of + timedelta(days=service.lead_days):
        return "upcoming"
    if (row.window_end or row.due_on) < as_of:
        return "overdue"
    return "due"


def rows(
    actor, service: ServiceType, *, as_of: date, status: str | None = None, place: Place | None = None
) -> QuerySet[Due]:
    qs = Due.objects.visible_to(actor).filter(service=service)
    if place is not None:
        qs = qs.filter(subtree_q("place_path", place.path))
    if status:
        qs = qs.filter(status_q(service, status, as_of))
    return qs.select_related("person", "dwelling").order_by(
        F("due_on").asc(nulls_first=True), "place_path", "person_id"
    )


def counts(actor, service: ServiceType, *, as_of: date, place: Place | None = None) -> dict[str, int]:
    qs = Due.objects.visible_to(actor).filter(service=service)
    if place is not None:
        qs = qs.filter(subtree_q("place_path", place.path))
    return qs.aggregate(**{s: Count("pk", filter=status_q(service, s, as_of)) for s in STATUSES})


@dataclass
class ServiceSummary:
    service: ServiceType
    counts: dict[str, int]

    @property
    def actionable(self) -> int:
        return sum(self.counts[s] for s in ACTIONABLE)


def summaries(actor, services, *, as_of: date, place: Place | None = None) -> list[ServiceSummary]:
    return [ServiceSummary(s, counts(actor, s, as_of=as_of, place=place)) for s in services]


# --------------------------------------------------------------------------------------------- export

EXPORT_KIND = "care.worklist"
EXPORT_HEADER = [
    _lazy("姓名"), _lazy("性别"), _lazy("年龄"), _lazy("住址"), _lazy("状态"), _lazy("应服务日期"),
    _lazy("最迟服务日期"), _lazy("最近联系日期"), _lazy("最近联系情况"),
]  # fmt: skip


def export_queryset(
    actor, service: ServiceType, *, as_of: date, status: str, place: Place | None
) -> QuerySet[Due]:
    """The rows the page's tab shows: one status, or (none) every row needing service."""
    qs = rows(actor, service, as_of=as_of, status=status or None, place=place)
    return qs if status else qs.filter(~status_q(service, "upcoming", as_of))


def export_rows(actor, service: ServiceType, *, as_of: date, status: str, place: Place | None) -> list[list]:
    """The worklist as a spreadsheet (工作清单导出): who, where, when, and only the outcome of the last contact
    (done, declined, not met), never what was recorded: no result, no method, nothing clinical."""
    full = actor.can(Perm.PERSON_VIEW_FULL)
    out = []
    for due in export_queryset(actor, service, as_of=as_of, status=status, place=place).iterator(
        chunk_size=2000
    ):
        age = time.age_on(due.person.birth_date, as_of)
        out.append([
            due.person.name, due.person.get_sex_display(), age if full else age_band(age), str(due.dwelling or ""),
            str(STATUSES[status_of(due, service, as_of)]), due.due_on.isoformat() if due.due_on else str(_lazy("即日")),
            due.window_end.isoformat() if due.window_end else "", due.last_on.isoformat() if due.last_on else "",
            str(Outcome(due.last_outcome).label) if due.last_outcome else "",
        ])  # fmt: skip
    return out
