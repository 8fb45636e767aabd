from django.contrib import messages
from django.db.models import Count
from django.db.models.functions import Substr
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hearth.accounts.roles import Perm
from hearth.core.errors import DomainError
from hearth.core.forms import add_domain_error

from . import services
from .forms import DwellingForm, FacilityForm, MergeForm, PlaceForm, RenameForm
from .models import ALLOWED_CHILDREN, Dwelling, Facility, Place, PlaceKind
from .tree import SEGMENT, subtree_q


def _place_or_404(actor, public_id):
    actor.require(Perm.PLACE_VIEW)
    place = Place.objects.visible_to(actor).filter(public_id=public_id).first()
    if place is None:
        raise Http404
    return place


def place_list(request):
    actor = request.actor
    actor.require(Perm.PLACE_VIEW)
    if actor.scope_place is None:
        raise Http404
    return _render_place(request, actor.scope_place)


def place_detail(request, public_id):
    return _render_place(request, _place_or_404(request.actor, public_id))


def _render_place(
    request, place, place_form=None, dwelling_form=None, rename_form=None, merge_form=None, status=200
):
    actor = request.actor
    children = list(place.children.current().order_by("name"))
    # Dwellings of each child's whole subtree (buildings keep theirs under units): one grouped query.
    width = len(place.path) + SEGMENT
    counts = dict(
        Dwelling.objects.filter(subtree_q("place__path", place.path))
        .annotate(child=Substr("place__path", 1, width))
        .values("child")
        .annotate(n=Count("id"))
        .values_list("child", "n")
    )
    for child in children:
        child.n_dwellings = counts.get(child.path, 0)
    dwellings = place.dwellings.order_by("address")[:500]
    facilities = Facility.objects.filter(place=place)
    allowed = ALLOWED_CHILDREN.get(place.kind, set())
    can_manage = actor.can(Perm.PLACE_MANAGE)
    pf = place_form or PlaceForm()
    pf.fields["kind"].choices = [c for c in pf.fields["kind"].choices if c[0] in allowed]
    return render(
        request,
        "places/place_detail.html",
        {
            "place": place,
            "trail": [p for p in place.ancestors() if p.path.startswith(actor.scope_path)],
            "children": children,
            "dwellings": dwellings,
            "facilities": facilities,
            "can_manage": can_manage and bool(allowed),
            "can_add_dwelling": can_manage and place.kind not in {"city", "district", "subdistrict"},
            "place_form": pf,
            "dwelling_form": dwelling_form or DwellingForm(),
            # Renaming and merging concern places below the actor's own.
            "can_restructure": can_manage and place.path != actor.scope_path and place.valid_to is None,
            "rename_form": rename_form or RenameForm(initial={"name": place.name, "code": place.code}),
            "merge_form": merge_form or MergeForm(siblings=_merge_targets(actor, place)),
            "former_names": place.name_history.all(),
        },
        status=status,
    )


@require_POST
def place_add_child(request, public_id):
    actor = request.actor
    actor.require(Perm.PLACE_MANAGE)
    parent = _place_or_404(actor, public_id)
    form = PlaceForm(request.POST)
    if form.is_valid():
        try:
            services.place_create(actor=actor, parent=parent, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已添加。"))
            return redirect("places:place_detail", public_id=parent.public_id)
    return _render_place(request, parent, place_form=form, status=422)


@require_POST
def dwelling_add(request, public_id):
    actor = request.actor
    actor.require(Perm.PLACE_MANAGE)
    place = _place_or_404(actor, public_id)
    form = DwellingForm(request.POST)
    if form.is_valid():
        try:
            services.dwelling_create(actor=actor, place=place, address=form.cleaned_data["address"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已添加房屋。"))
            return redirect("places:place_detail", public_id=place.public_id)
    return _render_place(request, place, dwelling_form=form, status=422)


def _merge_targets(actor, place):
    return (
        Place.objects.visible_to(actor)
        .current()
        .filter(parent_id=place.parent_id, kind=place.kind)
        .exclude(pk=place.pk)
    )


def _below_own(actor, public_id):
    place = _place_or_404(actor, public_id)
    if place.path == actor.scope_path:
        raise Http404
    return place


@require_POST
def place_rename(request, public_id):
    actor = request.actor
    actor.require(Perm.PLACE_MANAGE)
    place = _below_own(actor, public_id)
    form = RenameForm(request.POST)
    if form.is_valid():
        try:
            services.place_rename(actor=actor, place=place, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已更名，原名称保留在历史中。"))
            return redirect("places:place_detail", public_id=place.public_id)
    return _render_place(request, place, rename_form=form, status=422)


@require_POST
def place_merge(request, public_id):
    actor = request.actor
    actor.require(Perm.PLACE_MANAGE)
    place = _below_own(actor, public_id)
    form = MergeForm(request.POST, siblings=_merge_targets(actor, place))
    if form.is_valid():
        into = _merge_targets(actor, place).filter(public_id=form.cleaned_data["into"]).first()
        if into is None:
            form.add_error("into", _("请选择同一上级下的同类地区。"))
        else:
            try:
                services.place_merge(actor=actor, place=place, into=into, on=form.cleaned_data["on"])
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("已合并。"))
                return redirect("places:place_detail", public_id=into.public_id)
    return _render_place(request, place, merge_form=form, status=422)


def facility_list(request):
    """Facilities in the actor's area, and a form to add one (服务站、卫生院、医院)."""
    actor = request.actor
    actor.require(Perm.PLACE_VIEW)
    visible = Place.objects.visible_to(actor)
    facilities = (
        Facility.objects.filter(place__in=visible).select_related("place").prefetch_related("served_places")
    )
    places = visible.current().filter(
        kind__in=[PlaceKind.DISTRICT, PlaceKind.SUBDISTRICT, PlaceKind.COMMUNITY]
    )
    form = FacilityForm(request.POST or None, places=places)
    status = 200
    if request.method == "POST":
        actor.require(Perm.PLACE_MANAGE)
        if form.is_valid():
            d = form.cleaned_data
            place = places.filter(public_id=d["place"]).first()
            served = list(places.filter(public_id__in=d["served"]))
            try:
                if place is None:
                    raise DomainError("facility.place", _("请选择所在地区。"), "place")
                services.facility_create(
                    actor=actor, name=d["name"], kind=d["kind"], place=place, served_places=served
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("已添加机构。"))
                return redirect("places:facility_list")
        status = 422
    return render(
        request,
        "places/facility_list.html",
        {"facilities": facilities, "form": form, "can_manage": actor.can(Perm.PLACE_MANAGE)},
        status=status,
    )
