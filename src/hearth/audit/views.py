import hashlib

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hearth.accounts.roles import Perm
from hearth.core.errors import DomainError
from hearth.places.models import Place

from . import exports, selectors
from . import services as audit
from .forms import AuditSearchForm
from .models import ExportRequest

AUDIT_EXPORT_HEADER = [
    "序号",
    "时间",
    "用户",
    "角色",
    "操作",
    "对象类型",
    "对象",
    "地区路径",
    "IP",
    "事由",
    "行数",
]


def _filter(actor, data):
    places = (
        Place.objects.visible_to(actor)
        .current()
        .filter(kind__in=["city", "district", "subdistrict", "community"])
    )
    form = AuditSearchForm(data or None, places=places)
    flt = selectors.AuditFilter()
    if form.is_valid():
        d = form.cleaned_data
        place = places.filter(public_id=d["place"]).first() if d["place"] else None
        flt = selectors.AuditFilter(
            person=str(d["person"] or ""),
            actor=d["actor"],
            place_path=place.path if place else "",
            action=d["action"],
            since=d["since"],
            until=d["until"],
        )
    return form, flt


def audit_log(request):
    actor = request.actor
    actor.require(Perm.AUDIT_VIEW)
    form, flt = _filter(actor, request.GET)
    qs = selectors.audit_search(actor=actor, flt=flt)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    # Reading the log is itself recorded: who looked at whose trail.
    audit.record(
        actor=actor,
        action="audit.search",
        object_type="audit",
        data=flt.as_data(),
        row_count=page.paginator.count,
    )
    return render(request, "audit/log.html", {"form": form, "page": page, "query": request.GET.urlencode()})


@require_POST
def audit_export(request):
    actor = request.actor
    actor.require(Perm.AUDIT_EXPORT)
    _form, flt = _filter(actor, request.POST)
    rows = [
        [
            e.seq or "",
            e.at.isoformat(),
            e.actor_username,
            e.role,
            e.action,
            e.object_type,
            e.object_id,
            e.place_path,
            e.ip,
            e.reason,
            e.row_count or "",
        ]
        for e in selectors.audit_search(actor=actor, flt=flt)[:100_000]
    ]
    content = exports.workbook_bytes(AUDIT_EXPORT_HEADER, rows)
    audit.record(
        actor=actor,
        action="audit.export",
        object_type="audit",
        row_count=len(rows),
        data={**flt.as_data(), "sha256": hashlib.sha256(content).hexdigest()},
    )
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="audit.xlsx"'
    return response


def export_list(request):
    actor = request.actor
    if not (actor.can(Perm.PERSON_EXPORT) or actor.can(Perm.EXPORT_APPROVE)):
        raise Http404
    mine = list(
        ExportRequest.objects.filter(requested_by__user=actor.user).select_related("requested_by")[:100]
    )
    for r in mine:
        r.download_url = exports.download_url(r)
    pending = exports.approvable_by(actor).filter(status=ExportRequest.Status.PENDING)[:100]
    return render(
        request,
        "audit/export_list.html",
        {"mine": mine, "pending": pending, "threshold": exports.approval_threshold()},
    )


@require_POST
def export_decide(request, public_id):
    actor = request.actor
    actor.require(Perm.EXPORT_APPROVE)
    req = exports.approvable_by(actor).filter(public_id=public_id).first()
    if req is None:
        raise Http404
    try:
        exports.export_decide(
            actor=actor,
            request=req,
            approve=request.POST.get("decision") == "approve",
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已审批。"))
    return redirect("audit:export_list")
