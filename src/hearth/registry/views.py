from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import exports
from hearth.audit import services as audit
from hearth.audit.models import ExportRequest
from hearth.core.errors import DomainError, as_list
from hearth.core.forms import StyledForm, add_domain_error

from . import identity, merge, selectors, services, transfers
from .forms import (
    BirthForm,
    CorrectEventForm,
    EventForm,
    ExportForm,
    IdSearchForm,
    PersonForm,
    RevealForm,
    TransferForm,
)
from .models import EventKind, LifeEvent, Person, PersonMerge, PersonStatus

PAGE = 50


def person_list(request):
    """GET searches by name; POST searches by ID number, so a number never sits in a URL or access log."""
    actor = request.actor
    actor.require(Perm.PERSON_VIEW)
    flt = selectors.PersonFilter(
        q=request.GET.get("q", "")[:50],
        dwelling=request.GET.get("dwelling", "")[:36],
        include_inactive=request.GET.get("all") == "1",
    )
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
    form = PersonForm(
        request.POST or None,
        dwellings=selectors.dwellings_in_scope(actor),
        initial={"dwelling": request.GET.get("dwelling")},
    )
    transfer_form = None
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        try:
            person = services.person_register(actor=actor, values=values)
        except DomainError as exc:
            add_domain_error(form, exc)
            if any(e.code == "id.duplicate" for e in as_list(exc)):
                # Registered elsewhere: offer to ask that place's officers to move the person here.
                transfer_form = TransferForm(
                    initial={
                        "id_type": values.get("id_type") or "resident_id",
                        "id_number": values["id_number"],
                        "dwelling": values["dwelling"].public_id,
                    }
                )
        else:
            messages.success(request, _("已登记 %(name)s。") % {"name": person.name})
            return redirect("registry:person_detail", public_id=person.public_id)
    return render(
        request, "registry/person_form.html", {"form": form, "creating": True, "transfer_form": transfer_form}
    )


@require_POST
def transfer_create(request):
    actor = request.actor
    actor.require(Perm.PERSON_CREATE)
    form = TransferForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        dwelling = selectors.dwellings_in_scope(actor).filter(public_id=data["dwelling"]).first()
        try:
            transfers.transfer_request(
                actor=actor,
                id_type=data["id_type"],
                raw_number=data["id_number"],
                to_dwelling=dwelling,
                note=data["note"],
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("迁移申请已提交，对方社区处理后您会在此看到结果。"))
    else:
        messages.error(request, _("迁移申请内容不完整。"))
    return redirect("registry:transfer_list")


def transfer_list(request):
    actor = request.actor
    actor.require(Perm.PERSON_VIEW_FULL)
    to_decide = list(transfers.requests_to_decide(actor).order_by("status", "-created_at")[:100])
    audit.record(
        actor=actor, action="transfer.list", object_type="registry.transferrequest", row_count=len(to_decide)
    )
    return render(
        request,
        "registry/transfer_list.html",
        {
            "to_decide": [(r, selectors.person_row(r.person, actor)) for r in to_decide],
            "made": list(transfers.requests_made(actor).order_by("-created_at")[:100]),
        },
    )


@require_POST
def transfer_decide(request, public_id):
    actor = request.actor
    actor.require(Perm.PERSON_CHANGE)
    req = get_visible_or_404(transfers.requests_to_decide(actor), actor, public_id)
    try:
        transfers.transfer_decide(
            actor=actor,
            request=req,
            approve=request.POST.get("decision") == "approve",
            reason=request.POST.get("reason", "")[:400],
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已处理迁移申请。"))
    return redirect("registry:transfer_list")


def person_detail(request, public_id):
    actor = request.actor
    person = selectors.person_open(actor=actor, public_id=public_id)
    full = actor.can(Perm.PERSON_VIEW_FULL)
    return render(
        request,
        "registry/person_detail.html",
        {
            "person": person,
            "row": selectors.person_row(person, actor, detail=full),
            "full": full,
            # A merged record changes only by undoing the merge.
            "can_edit": actor.can(Perm.PERSON_CHANGE) and person.status != PersonStatus.MERGED,
            "can_reveal": actor.can(Perm.PERSON_REVEAL_ID) and bool(person.id_cipher),
            "reveal_form": RevealForm(),
            "relatives": selectors.relatives(actor, person) if full else [],
            "events": selectors.timeline(person, actor) if full else [],
            "correct_form": CorrectEventForm(initial={"version": person.version}),
            "merges": merge.merge_links(actor=actor, person=person) if full else None,
        },
    )


def _refused_if_merged(request, person: Person):
    """The detail page with the reason, for pages that would change a merged record."""
    try:
        merge.refuse_if_merged(person)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("registry:person_detail", public_id=person.public_id)
    return None


def person_edit(request, public_id):
    actor = request.actor
    actor.require(Perm.PERSON_CHANGE)
    person = get_visible_or_404(Person.objects.select_related("dwelling__place"), actor, public_id)
    if refused := _refused_if_merged(request, person):
        return refused
    masked = identity.masked(person)
    initial = {f: getattr(person, f) for f in services.DETAIL_FIELDS if f != "id_number"}
    initial |= {"version": person.version, "id_number": masked}
    form = PersonForm(
        request.POST or None, initial=initial, dwellings=selectors.dwellings_in_scope(actor), editing=True
    )
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        correction = values.pop("correction", False)
        # The form shows the masked number; an unchanged mask means "keep the number on file".
        if values.get("id_number") == masked:
            values.pop("id_number")
        try:
            services.person_update(
                actor=actor,
                person=person,
                values=values,
                version=values.pop("version") or 0,
                correction=correction,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("registry:person_detail", public_id=person.public_id)
    return render(request, "registry/person_form.html", {"form": form, "person": person})


def _spouse_by_number(raw: str):
    """A spouse named by ID number: looked up through the blind index anywhere (the link may be masked)."""
    from .codes import DocumentType

    number = raw.strip()
    if not number:
        return None
    number = identity.normalise_document(DocumentType.RESIDENT_ID, number, field="spouse_id_number")
    spouse = (
        Person.objects.for_system()
        .filter(id_index=identity.index_of(DocumentType.RESIDENT_ID, number))
        .first()
    )
    if spouse is None:
        raise DomainError(
            "event.spouse_unknown", _("系统中没有该证件号码的人员，可不填配偶。"), "spouse_id_number"
        )
    return spouse


def event_create(request, public_id):
    """Record a life event for a person; the person's state changes with it in one transaction."""
    actor = request.actor
    actor.require(Perm.PERSON_CHANGE)
    person = get_visible_or_404(Person.objects.select_related("dwelling__place"), actor, public_id)
    if refused := _refused_if_merged(request, person):
        return refused
    form = EventForm(
        request.POST or None,
        request.FILES or None,
        initial={"version": person.version, "kind": request.GET.get("kind", "")},
        dwellings=selectors.dwellings_in_scope(actor),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            details = {
                "dwelling": data["dwelling"],
                "hukou_code": data["hukou_code"],
                "residence_type": data["residence_type"],
                "to_region": data["to_region"],
                "to_address": data["to_address"],
            }
            if data["kind"] == EventKind.MARRIAGE:
                details["spouse"] = _spouse_by_number(data["spouse_id_number"])
            services.record_event(
                actor=actor,
                person=person,
                kind=data["kind"],
                occurred_on=data["occurred_on"],
                version=data["version"],
                source=data["source"],
                reporter=data["reporter"],
                details=details,
                attachment=data["attachment"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已记录事件。"))
            return redirect("registry:person_detail", public_id=person.public_id)
    return render(request, "registry/event_form.html", {"form": form, "person": person})


def birth_create(request, public_id):
    """Register a newborn from the mother's page: the child's birth event and the mother's childbirth event."""
    actor = request.actor
    actor.require(Perm.PERSON_CHANGE)
    actor.require(Perm.PERSON_CREATE)
    mother = get_visible_or_404(Person.objects.select_related("dwelling__place"), actor, public_id)
    if refused := _refused_if_merged(request, mother):
        return refused
    form = BirthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        source, reporter = data.pop("source"), data.pop("reporter")
        try:
            child = services.register_birth(
                actor=actor,
                mother=mother,
                father=mother.spouse if mother.spouse_id else None,
                values=data,
                source=source,
                reporter=reporter,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记新生儿 %(name)s。") % {"name": child.name})
            return redirect("registry:person_detail", public_id=child.public_id)
    return render(request, "registry/birth_form.html", {"form": form, "person": mother})


@require_POST
def event_correct(request, public_id):
    actor = request.actor
    actor.require(Perm.PERSON_CHANGE)
    event = get_visible_or_404(LifeEvent.objects.select_related("person"), actor, public_id)
    if refused := _refused_if_merged(request, event.person):
        return refused
    form = CorrectEventForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写更正原因。"))
    else:
        try:
            services.correct_event(
                actor=actor,
                event=event,
                reason=form.cleaned_data["reason"],
                version=form.cleaned_data["version"],
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("已记录更正。"))
    return redirect("registry:person_detail", public_id=event.person.public_id)


def event_attachment(request, public_id):
    """An event's attachment, served only to those who may see the person's full record; an audited read."""
    from django.http import FileResponse

    actor = request.actor
    actor.require(Perm.PERSON_VIEW_FULL)
    event = get_visible_or_404(LifeEvent.objects.select_related("person"), actor, public_id)
    if not event.attachment:
        raise Http404
    audit.record(
        actor=actor,
        action="person.event.attachment",
        target=event.person,
        data={"event": str(event.public_id)},
    )
    response = FileResponse(
        event.attachment.open("rb"), as_attachment=True, filename=event.attachment.name.rsplit("/", 1)[-1]
    )
    response["Cache-Control"] = "no-store"
    return response


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
        {
            "number": number,
            "error": error,
            "person": person,
            "row": selectors.person_row(person, actor),
            "reveal_form": form,
            "can_reveal": True,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


EXPORT_HEADER = ["姓名", "性别", "年龄", "证件号码（末四位）", "现住址", "居住类型"]


def _export_rows(actor, q: str) -> list[list]:
    qs = selectors.persons_visible(actor).filter(status="active")
    if q:
        qs = qs.filter(selectors.text_condition(q)[0])
    return [
        [
            r["name"],
            r["sex_display"],
            r.get("age", r.get("age_band")),
            r.get("id_number_masked", ""),
            r["dwelling"],
            r["residence_type_display"],
        ]
        for r in (selectors.person_row(p, actor) for p in qs.order_by("pinyin", "name", "id"))
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
    qs = selectors.persons_visible(actor).filter(status="active")
    count = (qs.filter(selectors.text_condition(q)[0]) if q else qs).count()
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
    return exports.xlsx_response(content, f"persons-{req.public_id.hex[:8]}.xlsx")


def person_export_download(request, public_id):
    """The requester downloads an approved export once; the file is built now, within today's scope."""
    actor = request.actor
    actor.require(Perm.PERSON_EXPORT)
    req = exports.approved_request(actor, public_id, "persons")
    if req is None:
        raise Http404
    return export_file(actor, req)


# --- merging duplicate records (registry/merge.py) ------------------------------------------------------


class MergeForm(StyledForm):
    reason = forms.CharField(label=_lazy("合并原因"), max_length=300)
    # The versions the officer compared: a record changed since is refused as stale, not merged unseen.
    keep_version = forms.IntegerField(widget=forms.HiddenInput)
    other_version = forms.IntegerField(widget=forms.HiddenInput)


class UndoMergeForm(StyledForm):
    reason = forms.CharField(label=_lazy("撤销原因"), max_length=300)


def person_merge(request, public_id, other_id):
    """Both records side by side (GET); POST folds `other_id` into `public_id`, the record kept."""
    actor = request.actor
    actor.require(Perm.PERSON_MERGE)
    persons = Person.objects.select_related("dwelling__place", "household")
    keep = get_visible_or_404(persons, actor, public_id)
    other = get_visible_or_404(persons, actor, other_id)
    form = MergeForm(
        request.POST or None, initial={"keep_version": keep.version, "other_version": other.version}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            merge.merge_persons(
                actor=actor,
                keep=keep,
                other=other,
                keep_version=data["keep_version"],
                other_version=data["other_version"],
                reason=data["reason"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("已将重复记录 %(other)s 合并到本记录；如有误，可在被合并记录的页面撤销。")
                % {"other": other.name},
            )
            return redirect("registry:person_detail", public_id=keep.public_id)
    preview = merge.merge_preview(actor=actor, keep=keep, other=other)
    return render(
        request,
        "registry/person_merge.html",
        {"keep": keep, "other": other, "preview": preview, "form": form},
    )


@require_POST
def merge_undo(request, public_id):
    actor = request.actor
    actor.require(Perm.PERSON_MERGE)
    record = get_visible_or_404(PersonMerge.objects.select_related("keep", "other"), actor, public_id)
    form = UndoMergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写撤销原因。"))
    else:
        try:
            merge.unmerge(actor=actor, merge=record, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("已撤销合并，两条记录恢复为合并前的状态。"))
    return redirect("registry:person_detail", public_id=record.other.public_id)
