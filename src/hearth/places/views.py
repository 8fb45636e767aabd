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


def _submit(request, place, form, form_key: str, action, done: str, go_to=None):
    """The place page's POST forms: validate, call one service, redirect; or the page again with errors (422)."""
    if form.is_valid():
        try:
            result = action(form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, done)
            return redirect("places:place_detail", public_id=(go_to or (lambda _r: place))(result).public_id)
    return _render_place(request, place, status=422, **{form_key: form})


def _managed(request, public_id, *, below_own: bool = False):
    actor = request.actor
    actor.require(Perm.PLACE_MANAGE)
    place = _place_or_404(actor, public_id)
    # Renaming and merging concern places strictly below the actor's own.
    if below_own and place.path == actor.scope_path:
        raise Http404
    return actor, place


@require_POST
def place_add_child(request, public_id):
    actor, parent = _managed(request, public_id)
    return _submit(
        request,
        parent,
        PlaceForm(request.POST),
        "place_form",
        lambda d: services.place_create(actor=actor, parent=parent, **d),
        _("已添加。"),
    )


@require_POST
def dwelling_add(request, public_id):
    actor, place = _managed(request, public_id)
    return _submit(
        request,
        place,
        DwellingForm(request.POST),
        "dwelling_form",
        lambda d: services.dwelling_create(actor=actor, place=place, address=d["address"]),
        _("已添加房屋。"),
    )


def _merge_targets(actor, place):
    return (
        Place.objects.visible_to(actor)
        .current()
        .filter(parent_id=place.parent_id, kind=place.kind)
        .exclude(pk=place.pk)
    )


@require_POST
def place_rename(request, public_id):
    actor, place = _managed(request, public_id, below_own=True)
    return _submit(
        request,
        place,
        RenameForm(request.POST),
        "rename_form",
        lambda d: services.place_rename(actor=actor, place=place, **d),
        _("已更名，原名称保留在历史中。"),
    )


@require_POST
def place_merge(request, public_id):
    actor, place = _managed(request, public_id, below_own=True)
    targets = _merge_targets(actor, place)

    def merge(d):
        into = targets.filter(public_id=d["into"]).first()
        if into is None:
            raise DomainError("place.merge_target", _("请选择同一上级下的同类地区。"), "into")
        return services.place_merge(actor=actor, place=place, into=into, on=d["on"])

    return _submit(
        request,
        place,
        MergeForm(request.POST, siblings=targets),
        "merge_form",
        merge,
        _("已合并。"),
        go_to=lambda into: into,
    )


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


def dwelling_search(request):
    """Options for a dwelling picker (htmx): up to 30 dwellings in scope whose address contains `q`."""
    actor = request.actor
    actor.require(Perm.PLACE_VIEW)
    q = request.GET.get("q", "").strip()[:60]
    found = []
    if actor.scope_path is not None and q:
        found = list(
            Dwelling.objects.filter(
                subtree_q("place__path", actor.scope_path),
                place__valid_to__isnull=True,
                full_address__contains=q,
            ).order_by("full_address")[:30]
        )
    return render(request, "places/dwelling_options.html", {"dwellings": found, "q": q})
