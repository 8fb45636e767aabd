"""Derived lists (派生名单) pages: the index, a list as of a date, its export, and editing its condition."""

import json
from datetime import date

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hearth.accounts.roles import Perm
from hearth.audit import exports
from hearth.audit.models import ExportRequest
from hearth.core import time
from hearth.core.errors import DomainError
from hearth.core.forms import StyledForm, add_domain_error

from . import conditions, lists
from .models import ListDefinition

PAGE = 50
EXPORT_KIND = "list"


class ListExportForm(StyledForm):
    reason = forms.CharField(label=gettext_lazy("导出用途"), max_length=300)
    as_of = forms.CharField(required=False, max_length=10, widget=forms.HiddenInput)


class ListDefinitionForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=lists.NAME_MAX)
    description = forms.CharField(
        label=gettext_lazy("说明"),
        required=False,
        max_length=lists.DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    spec = forms.CharField(
        label=gettext_lazy("条件（JSON）"),
        max_length=conditions.MAX_TEXT,
        widget=forms.Textarea(
            attrs={"rows": 12, "class": "form-control font-monospace", "spellcheck": "false"}
        ),
        help_text=gettext_lazy(
            '条件语言第 1 版：顶层写 "v": 1 和一个判断；判断有 all、any、not、sex、age、residence、'
            "marital、status、place、event、list、id_unverified。"
        ),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


def _page_number(raw: str | None) -> int:
    try:
        return max(int(raw or "1"), 1)
    except ValueError:
        return 1


def list_index(request):
    actor = request.actor
    lists.require_reader(actor)
    today = time.today()
    return render(
        request,
        "registry/lists/index.html",
        {
            "summaries": lists.list_summaries(actor=actor, as_of=today),
            "as_of": today,
            "can_manage": actor.can(Perm.LIST_MANAGE),
        },
    )


def list_detail(request, code):
    actor = request.actor
    lists.require_reader(actor)
    definition = lists.definition_get(code)
    page = _page_number(request.GET.get("page"))
    rule, error = lists.describe(definition)
    rows, total, as_of = [], 0, None
    as_of_raw = request.GET.get("as_of", "")[:20]
    try:
        as_of = lists.parse_as_of(as_of_raw)
        persons, total = lists.list_members(
            actor=actor, definition=definition, as_of=as_of, limit=PAGE, offset=(page - 1) * PAGE
        )
        rows = lists.member_rows(persons, actor, as_of)
    except DomainError as exc:
        error = str(exc.message)
    return render(
        request,
        "registry/lists/detail.html",
        {
            "definition": definition,
            "rule": rule,
            "error": error,
            "rows": rows,
            "total": total,
            "as_of": as_of,
            "as_of_raw": as_of.isoformat() if as_of else as_of_raw,
            "page": page,
            "has_next": page * PAGE < total,
            "can_export": actor.can(Perm.PERSON_EXPORT),
            "can_manage": actor.can(Perm.LIST_MANAGE),
            "export_form": ListExportForm(initial={"as_of": as_of.isoformat() if as_of else ""}),
        },
    )


@require_POST
def list_export(request, code):
    """Small exports download at once; large ones become a request for the grant above to approve."""
    actor = request.actor
    lists.require_reader(actor)
    actor.require(Perm.PERSON_EXPORT)
    definition = lists.definition_get(code)
    form = ListExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写导出用途。"))
        return redirect("registry:list_detail", code=definition.code)
    try:
        as_of = lists.parse_as_of(form.cleaned_data["as_of"])
        count = lists.members_queryset(actor=actor, definition=definition, as_of=as_of).count()
        req = exports.export_request(
            actor=actor,
            kind=EXPORT_KIND,
            params={"list": definition.code, "as_of": as_of.isoformat(), "version": definition.version},
            row_count=count,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("registry:list_detail", code=definition.code)
    if req.status == ExportRequest.Status.PENDING:
        messages.info(request, _("导出 %(n)d 行超过审批阈值，已提交上级审批。") % {"n": count})
        return redirect("audit:export_list")
    return _export_file(actor, req)


def _export_file(actor, req: ExportRequest) -> HttpResponse:
    """Build the file now, within the actor's scope today, for the list version the request named."""
    definition = ListDefinition.objects.filter(code=req.params.get("list", "")).first()
    if definition is None or definition.version != req.params.get("version"):
        raise DomainError("export.list_changed", _("名单条件已修改，请重新申请导出。"), "list")
    as_of = date.fromisoformat(req.params["as_of"])
    rows = lists.export_rows(actor=actor, definition=definition, as_of=as_of)
    content = exports.workbook_bytes(lists.EXPORT_HEADER, rows)
    exports.export_deliver(actor=actor, request=req, content=content, row_count=len(rows))
    return exports.xlsx_response(
        content, f"list-{definition.code}-{as_of:%Y%m%d}-{req.public_id.hex[:8]}.xlsx"
    )


def list_export_download(request, public_id):
    """The requester downloads an approved list export once; the file is built now, within today's scope."""
    actor = request.actor
    lists.require_reader(actor)
    actor.require(Perm.PERSON_EXPORT)
    req = exports.approved_request(actor, public_id, EXPORT_KIND)
    if req is None:
        raise Http404
    try:
        return _export_file(actor, req)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("audit:export_list")


def list_edit(request, code):
    """Edit a list's condition as JSON; the Chinese rendering is previewed before saving."""
    actor = request.actor
    actor.require(Perm.LIST_MANAGE)
    definition = lists.definition_get(code, include_inactive=True)
    initial = {
        "name": definition.name,
        "description": definition.description,
        "spec": json.dumps(definition.spec, ensure_ascii=False, indent=2),
        "version": definition.version,
    }
    form = ListDefinitionForm(request.POST or None, initial=initial)
    preview, preview_count = lists.describe(definition)[0], None
    if request.method == "POST":
        preview = ""
        if form.is_valid():
            data = form.cleaned_data
            try:
                spec = conditions.parse(data["spec"])
                conditions.validate(spec, code=definition.code)
                preview = conditions.describe(spec)
                if request.POST.get("action") == "preview":
                    preview_count = lists.preview_count(actor=actor, spec=spec, code=definition.code)
                else:
                    lists.list_definition_update(
                        actor=actor,
                        definition=definition,
                        spec=spec,
                        name=data["name"],
                        description=data["description"],
                        version=data["version"],
                    )
                    messages.success(
                        request, _("已保存名单条件（第 %(v)d 版）。") % {"v": definition.version}
                    )
                    if definition.active:
                        return redirect("registry:list_detail", code=definition.code)
                    return redirect("registry:list_index")
            except DomainError as exc:
                add_domain_error(form, exc)
    return render(
        request,
        "registry/lists/edit.html",
        {"definition": definition, "form": form, "preview": preview, "preview_count": preview_count},
    )
