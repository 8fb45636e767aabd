from django.urls import reverse
from django.utils.translation import gettext as _

from hearth.core.home import Stat

from .models import Dwelling, Place, PlaceKind
from .tree import subtree_q


def place_stats(actor) -> list[Stat]:
    if not actor.sees_personal_data or actor.scope_path is None:
        return []
    places = Place.objects.visible_to(actor).current()
    return [
        Stat(_("社区/村"), places.filter(kind=PlaceKind.COMMUNITY).count(), reverse("places:place_list")),
        Stat(_("房屋"), Dwelling.objects.filter(subtree_q("place__path", actor.scope_path)).count()),
    ]
