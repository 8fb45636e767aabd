from datetime import date

from django.db import transaction
from ninja import Query, Router, Schema

from hearth.accounts.roles import Perm
from hearth.core.api import Paging

from . import selectors
from . import services as audit

router = Router(tags=["audit"])


class AuditOut(Schema):
    seq: int | None
    at: str
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    place_path: str
    ip: str
    reason: str
    row_count: int | None


class AuditPage(Schema):
    items: list[AuditOut]
    count: int


@router.get("", response=AuditPage)
def list_audit(
    request,
    paging: Query[Paging],
    person: str = "",
    actor: str = "",
    action: str = "",
    since: date | None = None,
    until: date | None = None,
):
    a = request.actor
    a.require(Perm.AUDIT_VIEW)
    flt = selectors.AuditFilter(person=person, actor=actor, action=action, since=since, until=until)
    qs = selectors.audit_search(actor=a, flt=flt)
    total = qs.count()
    rows = list(qs[paging.offset : paging.offset + paging.limit])
    with transaction.atomic():
        audit.record(
            actor=a,
            action="audit.search",
            object_type="audit",
            data={**flt.as_data(), "api": True},
            row_count=total,
        )
    return {
        "items": [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "actor": e.actor_username,
                "role": e.role,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "place_path": e.place_path,
                "ip": e.ip,
                "reason": e.reason,
                "row_count": e.row_count,
            }
            for e in rows
        ],
        "count": total,
    }
