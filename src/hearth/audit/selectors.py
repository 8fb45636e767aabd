"""Reading the audit log: the auditor's search, scoped to the auditor's place."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from hearth.places.tree import subtree_q

from .models import AuditEntry


@dataclass
class AuditFilter:
    person: str = ""
    actor: str = ""
    place_path: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None

    def as_data(self) -> dict:
        return {k: str(v) for k, v in self.__dict__.items() if v}


def audit_search(*, actor, flt: AuditFilter) -> QuerySet[AuditEntry]:
    """The auditor sees rows of their place's subtree, and rows with no place (logins, settings)."""
    path = actor.scope_path or ""
    qs = (
        AuditEntry.objects.filter(subtree_q("place_path", path) | Q(place_path=""))
        if path
        else AuditEntry.objects.none()
    )
    if flt.person:
        qs = qs.filter(object_id=flt.person)
    if flt.actor:
        qs = qs.filter(actor_username=flt.actor)
    if flt.place_path:
        qs = qs.filter(subtree_q("place_path", flt.place_path))
    if flt.action:
        qs = qs.filter(action__startswith=flt.action)
    tz = timezone.get_current_timezone()
    if flt.since:
        qs = qs.filter(at__gte=datetime.combine(flt.since, time.min, tz))
    if flt.until:
        qs = qs.filter(at__lt=datetime.combine(flt.until + timedelta(days=1), time.min, tz))
    return qs.order_by("-id")
