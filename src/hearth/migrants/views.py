"""Pages for 流动人口与以房管人. Thin: parse a form, call one service or selector, render."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.core.errors import DomainError
from hearth.core.forms import add_domain_error
from hearth.registry.models import Person, ResidenceType
from hearth.registry.selectors import dwellings_in_scope, person_row

from . import selectors, services
from .forms import (
    InflowForm,
    InflowRegisterForm,
    LandlordForm,
    MoveInForm,
    OutflowForm,
    TenancyEndForm,
    TenancyForm,
    TenantsForm,
)
from .models import Landlord, Tenancy

PAGE = 50


def _page(request) -> int:
    try:
        return max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        return 1


def _person(request, public_id, action: str) -> Person:
    """The person whose record is edited: an audited read when the page is shown, not again on save."""
    actor = request.actor
    selectors.require_write(actor)
    if request.method == "GET":
        return selectors.person_open(actor=actor, public_id=public_id, action=action)
    return get_visible_or_404(Person.objects.select_related("dwelling__place"), actor, public_id)


# --- inflow and outflow records ------------------------------------------------------------------------


def _record_edit(request, public_id, *, flow: str):
    actor = request.actor
    inflow = flow == "inflow"
    person = _person(request, public_id, f"migrants.{flow}.view")
    record = selectors.inflow_of(person) if inflow else selectors.outflow_of(person)
    residence = ResidenceType.INFLOW if inflow else ResidenceType.OUTFLOW
    fields = services.INFLOW_FIELDS if inflow else services.OUTFLOW_FIELDS
    initial = {f: getattr(record, f) for f in fields} if record else {}
    initial |= {"version": record.version if record else None, "person_version": person.version}
    form_class = InflowForm if inflow else OutflowForm
    form = form_class(
        request.POST or None, initial=initial, offer_residence=person.residence_type != residence
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        save = services.inflow_save if inflow else services.outflow_save
        try:
            save(
                actor=actor,
                person=person,
                values={f: data.get(f) for f in fields},
                version=data["version"],
                set_residence=bool(data.get("set_residence")),
                person_version=data["person_version"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("registry:person_detail", public_id=person.public_id)
    return render(
        request,
        "migrants/record_form.html",
        {
            "form": form,
            "person": person,
            "row": person_row(person, actor),
            "record": record,
            "title": _("流入人口登记") if inflow else _("流出人口登记"),
            "inflow": inflow,
        },
    )


def inflow_edit(request, public_id):
    """流入人口登记 of a registry person (linked from the person's page)."""
    return _record_edit(request, public_id, flow="inflow")


def outflow_edit(request, public_id):
    """流出人口登记 of a registry person."""
    return _record_edit(request, public_id, flow="outflow")


def inflow_register(request):
    """Register a newly arrived migrant: the person and the inflow record together, or nothing.

    `?tenancy=<id>` (from a tenancy's tenants page) puts them in its dwelling and among its tenants.
    """
    actor = request.actor
    selectors.require_write(actor, Perm.PERSON_CREATE)
    tenancy = None
    tenancy_id = request.GET.get("tenancy") or request.POST.get("tenancy")
    if tenancy_id:
        tenancy = selectors.tenancy_open(actor=actor, public_id=tenancy_id)
    form = InflowRegisterForm(
        request.POST or None,
        dwellings=dwellings_in_scope(actor),
        fixed_dwelling=tenancy is not None,
        initial={"dwelling": request.GET.get("dwelling")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            record = services.inflow_register(
                actor=actor,
                person_values=form.person_values(),
                inflow_values=form.inflow_values(),
                tenancy=tenancy,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记流入人员 %(name)s。") % {"name": record.person.name})
            if tenancy is not None:
                return redirect("migrants:tenancy_tenants", public_id=tenancy.public_id)
            return redirect("registry:person_detail", public_id=record.person.public_id)
    return render(request, "migrants/inflow_register.html", {"form": form, "tenancy": tenancy})


# --- landlords -----------------------------------------------------------------------------------------


def landlord_list(request):
    actor = request.actor
    selectors.require_read(actor)
    q = request.GET.get("q", "")[:50]
    page = _page(request)
    rows, total = selectors.landlord_search(actor=actor, q=q, limit=PAGE, offset=(page - 1) * PAGE)
    context = {
        "rows": [selectors.landlord_row(r) for r in rows],
        "total": total,
        "q": q,
        "page": page,
        "has_next": page * PAGE < total,
        "can_edit": actor.can(Perm.PERSON_CHANGE),
    }
    template = "migrants/landlord_list.html#results" if request.htmx else "migrants/landlord_list.html"
    return render(request, template, context)


def landlord_detail(request, public_id):
    actor = request.actor
    landlord = selectors.landlord_open(actor=actor, public_id=public_id)
    return render(
        request,
        "migrants/landlord_detail.html",
        {
            "d": selectors.landlord_detail(actor, landlord),
            "landlord": landlord,
            "can_edit": actor.can(Perm.PERSON_CHANGE),
            "can_create": actor.can(Perm.PERSON_CREATE),
        },
    )


def _landlord_form(request, actor, landlord: Landlord | None) -> LandlordForm:
    places = selectors.landlord_places(actor)
    initial = {}
    if landlord is not None:
        initial = {
            "name": landlord.name,
            "phone": landlord.phone,
            "place": landlord.place,
            "agreement_signed": landlord.agreement_signed,
            "agreement_date": landlord.agreement_date,
            "notes": landlord.notes,
            "dwellings": list(landlord.dwellings.all()),
            "token": services.landlord_token(landlord),
        }
    return LandlordForm(
        request.POST or None,
        initial=initial,
        places=places,
        place_labels=selectors.place_labels(list(places)),
        dwellings=dwellings_in_scope(actor),
        editing=landlord is not None,
    )


def _landlord_values(form: LandlordForm, editing: bool) -> dict:
    """The form's values for the service; a person named by ID number is looked up by blind index."""
    data = dict(form.cleaned_data)
    id_type, number = data.pop("id_type") or "resident_id", (data.pop("id_number") or "").strip()
    unlink = data.pop("unlink", False)
    data.pop("token", None)
    if number:
        person = selectors.person_by_document(id_type, number)
        if person is None:
            raise DomainError(
                "landlord.person_unknown", _("系统中没有该证件号码的人员，可不填。"), "id_number"
            )
        data["person"] = person
    elif unlink or not editing:
        data["person"] = None
    return data


def landlord_create(request):
    actor = request.actor
    selectors.require_write(actor)
    form = _landlord_form(request, actor, None)
    if request.method == "POST" and form.is_valid():
        try:
            landlord = services.landlord_create(actor=actor, values=_landlord_values(form, editing=False))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记房东 %(name)s。") % {"name": landlord.name})
            return redirect("migrants:landlord_detail", public_id=landlord.public_id)
    return render(request, "migrants/landlord_form.html", {"form": form})


def landlord_edit(request, public_id):
    actor = request.actor
    landlord = selectors.landlord_for_change(actor=actor, public_id=public_id)
    form = _landlord_form(request, actor, landlord)
    if request.method == "POST" and form.is_valid():
        try:
            services.landlord_update(
                actor=actor,
                landlord=landlord,
                values=_landlord_values(form, editing=True),
                token=form.cleaned_data["token"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("migrants:landlord_detail", public_id=landlord.public_id)
    return render(
        request,
        "migrants/landlord_form.html",
        {"form": form, "landlord": landlord, "linked": selectors.person_link(actor, landlord.person)},
    )


# --- tenancies -----------------------------------------------------------------------------------------


def tenancy_create(request, public_id):
    """租赁登记 from a landlord's page: a dwelling of the actor's scope, the start date, how many live there."""
    actor = request.actor
    landlord = selectors.landlord_for_change(actor=actor, public_id=public_id)
    form = TenancyForm(
        request.POST or None,
        dwellings=dwellings_in_scope(actor),
        initial={"dwelling": request.GET.get("dwelling")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tenancy = services.tenancy_create(
                actor=actor,
                landlord=landlord,
                dwelling=data["dwelling"],
                started_on=data["started_on"],
                declared_tenants=data["declared_tenants"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记出租房屋，请登记租住人员。"))
            return redirect("migrants:tenancy_tenants", public_id=tenancy.public_id)
    return render(
        request,
        "migrants/simple_form.html",
        {
            "form": form,
            "title": _("登记出租房屋"),
            "subtitle": landlord.name,
            "back": ("migrants:landlord_detail", landlord.public_id),
        },
    )


def tenancy_end(request, public_id):
    actor = request.actor
    tenancy = selectors.tenancy_open(actor=actor, public_id=public_id)
    form = TenancyEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.tenancy_end(actor=actor, tenancy=tenancy, ended_on=form.cleaned_data["ended_on"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已办理退租。"))
            return redirect("migrants:landlord_detail", public_id=tenancy.landlord.public_id)
    return render(
        request,
        "migrants/simple_form.html",
        {
            "form": form,
            "title": _("退租"),
            "subtitle": str(tenancy.dwelling),
            "back": ("migrants:landlord_detail", tenancy.landlord.public_id),
        },
    )


def _tenant_choices(actor, tenancy: Tenancy):
    """Who may be ticked: active residents of the dwelling and current tenants, both within scope."""
    from django.db.models import Q

    qs = (
        Person.objects.visible_to(actor)
        .filter(Q(dwelling=tenancy.dwelling, status="active") | Q(tenancies=tenancy))
        .select_related("dwelling__place")
        .distinct()
        .order_by("name", "id")
    )
    people = list(qs)
    labels = {}
    for p in people:
        r = person_row(p, actor)
        elsewhere = "" if p.dwelling_id == tenancy.dwelling_id and p.is_active else _("（已不住此处）")
        labels[p.pk] = (
            f"{r['name']} · {r['sex_display']} · {r['age']}{_('岁')} · {r['id_number_masked'] or '—'}{elsewhere}"
        )
    return qs, labels


def tenancy_tenants(request, public_id):
    """Tick the registered persons who rent here; register someone moving in from elsewhere in scope."""
    actor = request.actor
    tenancy = selectors.tenancy_open(actor=actor, public_id=public_id)
    persons, labels = _tenant_choices(actor, tenancy)
    visible_ids = set(labels)
    current = list(tenancy.tenants.all())
    hidden = [p for p in current if p.pk not in visible_ids]
    action = request.POST.get("action") if request.method == "POST" else None
    tenants_form = TenantsForm(
        request.POST if action == "set" else None,
        persons=persons,
        labels=labels,
        initial={"tenants": [p for p in current if p.pk in visible_ids]},
    )
    move_form = MoveInForm(request.POST if action == "move_in" else None)
    if action == "set" and tenants_form.is_valid():
        chosen = list(tenants_form.cleaned_data["tenants"])
        if not request.POST.get("drop_hidden"):
            chosen += hidden  # tenants now outside the actor's scope stay unless dropped on purpose
        try:
            services.tenancy_tenants_set(actor=actor, tenancy=tenancy, persons=chosen)
        except DomainError as exc:
            add_domain_error(tenants_form, exc)
        else:
            messages.success(request, _("已保存租住人员。"))
            return redirect("migrants:landlord_detail", public_id=tenancy.landlord.public_id)
    if action == "move_in" and move_form.is_valid():
        data = move_form.cleaned_data
        try:
            person = selectors.visible_person_by_document(actor, data["id_type"], data["id_number"])
            if person is None:
                raise DomainError(
                    "tenancy.tenant_unknown",
                    _("您的管辖范围内没有该证件号码的人员；新来的流动人口请办理流入人口登记。"),
                    "id_number",
                )
            services.tenancy_tenant_move_in(
                actor=actor,
                tenancy=tenancy,
                person=person,
                occurred_on=data["occurred_on"],
                version=person.version,
            )
        except DomainError as exc:
            add_domain_error(move_form, exc)
        else:
            messages.success(request, _("已为 %(name)s 登记迁入并加入租住人员。") % {"name": person.name})
            return redirect("migrants:tenancy_tenants", public_id=tenancy.public_id)
    return render(
        request,
        "migrants/tenancy_tenants.html",
        {
            "tenancy": tenancy,
            "tenants_form": tenants_form,
            "move_form": move_form,
            "hidden_count": len(hidden),
            "can_create": actor.can(Perm.PERSON_CREATE),
        },
    )


def rental_worklist(request):
    """以房管人 worklist: rented dwellings whose tenants are not registered or whose landlord has not signed."""
    actor = request.actor
    page = _page(request)
    rows, total = selectors.worklist(actor=actor, limit=PAGE, offset=(page - 1) * PAGE)
    return render(
        request,
        "migrants/rental_worklist.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "has_next": page * PAGE < total,
            "can_edit": actor.can(Perm.PERSON_CHANGE),
        },
    )
