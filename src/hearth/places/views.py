from django.contrib import messages
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hearth.accounts.roles import Perm
from hearth.core.errors import DomainError
from hearth.core.forms import add_domain_error

from . import services
from .forms import DwellingForm, PlaceForm
from .models import ALLOWED_CHILDREN, Facility, Place


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


def _render_place(request, place, place_form=None, dwelling_form=None, status=200):
    actor = request.actor
    children = place.children.current().annotate(n_dwellings=Count("dwellings")).order_by("name")
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
