from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import exports
from hearth.audit.models import ExportRequest
from hearth.core.errors import DomainError
from hearth.core.forms import add_domain_error
from hearth.places.models import Dwelling
from hearth.places.tree import subtree_q

from . import selectors, services
from .forms import ExportForm, IdSearchForm, PersonForm, RevealForm
from .models import Person

PAGE = 50


def _dwellings(actor):
    if actor.scope_path is None:
        return Dwelling.objects.none()
    return Dwelling.objects.filter(
        subtree_q("place__path", actor.scope_path), place__valid_to__isnull=True
    ).order_by("full_address")


def person_list(request):
    """GET searches by name; POST searches by ID number, so a number never sits in a URL or access log."""
    actor = request.actor
    actor.require(Perm.PERSON_VIEW)
    flt = selectors.PersonFilter(q=request.GET.get("q", "")[:50])
    id_form = IdSearchForm(request.POST or None)
    if request.method == "POST" and id_form.is_valid():
        flt.id_number = id_form.cleaned_data["id_number"]
    try:
        page = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page = 1
    try:
        rows, total = selectors.person_search(actor=actor, flt=flt, limit=PAGE, offset=(page - 1) * PAGE)
    except DomainError as exc:
        add_domain_error(id_form, exc)
        rows, total = [], 0
    context = {
        "rows": [selectors.person_row(p, actor) for p in rows],
        "total": total,
        "flt": flt,
        "page": page,
        "has_next": page * PAGE < total,
        "id_form": id_form,
        "full": actor.can(Perm.PERSON_VIEW_FULL),
        "export_form": ExportForm(initial={"q": flt.q}),
    }
    template = "registry/person_list.html#results" if request.htmx else "registry/person_list.html"
    return render(request, template, context)


def person_create(request):
    actor = request.actor
    actor.require(Perm.PERSON_CREATE)
    form = PersonForm(request.POST or None, dwellings=_dwellings(actor))
    if request.method == "POST" and form.is_valid():
        try:
            person = services.person_register(actor=actor, values=form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记 %(name)s。") % {"name": person.name})
            return redirect("registry:person_detail", public_id=person.public_id)
    return render(request, "registry/person_form.html", {"form": form, "creating": True})


def person_detail(request, public_id):
    actor = request.actor
    person = selectors.person_open(actor=actor, public_id=public_id)
    return render(
        request,
        "registry/person_detail.html",
        {
            "person": person,
            "row": selectors.person_row(person, actor, detail=True),
            "full": actor.can(Perm.PERSON_VIEW_FULL),
            "can_edit": actor.can(Perm.PERSON_CHANGE),
            "can_reveal": actor.can(Perm.PERSON_REVEAL_ID) and bool(person.id_number),
            "reveal_form": RevealForm(),
        },
    )


def person_edit(request, public_id):
    actor = request.actor
    actor.require(Perm.PERSON_CHANGE)
    person = get_visible_or_404(Person.objects.select_related("dwelling__place"), actor, public_id)
    initial = {
        "name": person.name,
        "sex": person.sex,
        "birth_date": person.birth_date,
        "dwelling": person.dwelling,
        "residence_type": person.residence_type,
        "version": person.version,
        "id_number": person.id_masked,
    }
    form = PersonForm(request.POST or None, initial=initial, dwellings=_dwellings(actor))
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        # The form shows the masked number; an unchanged mask means "keep the number on file".
        if values.get("id_number") == person.id_masked:
            values.pop("id_number")
        try:
            services.person_update(
                actor=actor, person=person, values=values, version=values.pop("version") or 0
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("registry:person_detail", public_id=person.public_id)
    return render(request, "registry/person_form.html", {"form": form, "person": person})


@require_POST
def person_reveal(request, public_id):
    actor = request.actor
    actor.require(Perm.PERSON_REVEAL_ID)
    person = get_visible_or_404(Person.objects.select_related("dwelling__place"), actor, public_id)
    form = RevealForm(request.POST)
    number, error = None, None
    if form.is_valid():
        try:
            number = services.person_reveal_id(actor=actor, person=person, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            error = str(exc.message)
    else:
        error = _("请填写查看完整号码的事由。")
    response = render(
        request,
        "registry/person_detail.html#reveal",
        {"number": number, "error": error, "person": person, "reveal_form": form, "can_reveal": True},
    )
    response["Cache-Control"] = "no-store"
    return response


EXPORT_HEADER = ["姓名", "性别", "年龄", "身份证号码（末四位）", "现住址", "居住类型"]


def _export_rows(actor, q: str) -> list[list]:
    qs = selectors.persons_visible(actor)
    if q:
        qs = qs.filter(name__contains=q)
    return [
        [
            r["name"],
            r["sex_display"],
            r.get("age", r.get("age_band")),
            r.get("id_number_masked", ""),
            r["dwelling"],
            r["residence_type_display"],
        ]
        for r in (selectors.person_row(p, actor) for p in qs.order_by("name", "id"))
    ]


@require_POST
def person_export(request):
    """Small exports download at once; large ones become a request for the grant above to approve."""
    actor = request.actor
    actor.require(Perm.PERSON_EXPORT)
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写导出用途。"))
        return redirect("registry:person_list")
    q = form.cleaned_data["q"] or ""
    qs = selectors.persons_visible(actor)
    count = (qs.filter(name__contains=q) if q else qs).count()
    req = exports.export_request(
        actor=actor, kind="persons", params={"q": q}, row_count=count, reason=form.cleaned_data["reason"]
    )
    if req.status == ExportRequest.Status.PENDING:
        messages.info(request, _("导出 %(n)d 行超过审批阈值，已提交上级审批。") % {"n": count})
        return redirect("audit:export_list")
    return export_file(actor, req)


def export_file(actor, req: ExportRequest) -> HttpResponse:
    rows = _export_rows(actor, req.params.get("q", ""))
    content = exports.workbook_bytes(EXPORT_HEADER, rows)
    exports.export_deliver(actor=actor, request=req, content=content, row_count=len(rows))
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="persons-{req.public_id.hex[:8]}.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


def person_export_download(request, public_id):
    """The requester downloads an approved export once; the file is built now, within today's scope."""
    actor = request.actor
    actor.require(Perm.PERSON_EXPORT)
    req = ExportRequest.objects.filter(
        public_id=public_id,
        kind="persons",
        requested_by__user=actor.user,
        status=ExportRequest.Status.APPROVED,
    ).first()
    if req is None or req.requested_by_id != actor.grant.pk:
        raise Http404
    return export_file(actor, req)
