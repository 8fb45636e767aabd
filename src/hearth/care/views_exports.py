"""Exporting a worklist (导出工作清单) as a spreadsheet, under the same export control as the registry's lists:
small exports download at once, large ones wait for the grant above; each is audited with its file's hash."""

from datetime import date

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import exports
from hearth.audit.models import ExportRequest
from hearth.core import time
from hearth.core.errors import DomainError
from hearth.places.models import Place

from . import services, worklists
from .models import ServiceType


class WorklistExportForm(forms.Form):
    reason = forms.CharField(max_length=300)
    status = forms.ChoiceField(choices=[("", "")] + [(k, k) for k in worklists.STATUSES], required=False)
    place = forms.UUIDField(required=False)


def can_export(actor) -> bool:
    return actor.can(Perm.PERSON_EXPORT) and actor.can(Perm.CARE_VIEW) and actor.sees_personal_data


def _service(actor, code: str) -> ServiceType:
    if not can_export(actor):
        raise Http404
    service = services.services_for(actor).filter(code=code).first()
    if service is None:
        raise Http404
    return service


def _place(actor, public_id) -> Place | None:
    if not public_id:
        return None
    place = Place.objects.visible_to(actor).filter(public_id=public_id).first()
    if place is None:
        raise Http404  # a place outside the scope is as unknown as a missing one
    return place


def worklist_export(request, code):
    """POST from the worklist page: the tab and place shown, and what the file is for."""
    actor = request.actor
    service = _service(actor, code)
    form = WorklistExportForm(request.POST)
    back = reverse("care:worklist", kwargs={"code": service.code})
    if not form.is_valid():
        if "reason" in form.errors:
            messages.error(request, _("导出用途：请填写导出用途。"))
        else:
            messages.error(request, _("筛选条件：状态或地区无效，请刷新页面后重试。"))
        return redirect(back)
    data = form.cleaned_data
    place = _place(actor, data["place"])
    today = time.today()
    count = worklists.export_queryset(actor, service, as_of=today, status=data["status"], place=place).count()
    try:
        req = exports.export_request(
            actor=actor, kind=worklists.EXPORT_KIND, row_count=count, reason=data["reason"],
            params={"service": service.code, "status": data["status"], "as_of": today.isoformat(),
                    "place": str(place.public_id) if place else ""},
        )  # fmt: skip
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(back)
    if req.status == ExportRequest.Status.PENDING:
        messages.info(request, _("导出 %(n)d 行超过审批阈值，已提交上级审批。") % {"n": count})
        return redirect("audit:export_list")
    return _file(actor, req)


def worklist_export_download(request, public_id):
    """The requester downloads an approved worklist export once, built now within today's scope."""
    actor = request.actor
    if not can_export(actor):
        raise Http404
    req = exports.approved_request(actor, public_id, worklists.EXPORT_KIND)
    if req is None:
        raise Http404
    try:
        return _file(actor, req)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("audit:export_list")


def _file(actor, req: ExportRequest) -> HttpResponse:
    params = req.params
    service = services.services_for(actor).filter(code=params.get("service", "")).first()
    if service is None:
        raise Http404
    place = _place(actor, params.get("place"))
    as_of = date.fromisoformat(params["as_of"])
    rows = worklists.export_rows(actor, service, as_of=as_of, status=params.get("status", ""), place=place)
    content = exports.workbook_bytes([str(h) for h in worklists.EXPORT_HEADER], rows)
    exports.export_deliver(actor=actor, request=req, content=content, row_count=len(rows))
    return exports.xlsx_response(
        content, f"worklist-{service.code}-{as_of:%Y%m%d}-{req.public_id.hex[:8]}.xlsx"
    )
