"""What the registry puts on the home page."""

from django.db.models import Count
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils.translation import gettext as _

from hearth.core.home import Chart, Stat, Todo
from hearth.places.tree import SEGMENT

from .models import Person, PersonStatus, TransferStatus


def registry_stats(actor) -> list[Stat]:
    if not actor.sees_personal_data:
        return []
    count = Person.objects.visible_to(actor).filter(status=PersonStatus.ACTIVE).count()
    return [Stat(_("辖区人员"), count, reverse("registry:person_list"))]


def transfer_todos(actor) -> list[Todo]:
    from .transfers import requests_to_decide

    if not actor.sees_personal_data:
        return []
    n = requests_to_decide(actor).filter(status=TransferStatus.PENDING).count()
    return [Todo(_("待处理的迁移申请"), n, reverse("registry:transfer_list"))]


def persons_by_child_place(actor) -> list[Chart]:
    """Persons per place one level below the actor's: one grouped query on the path prefix."""
    place = actor.scope_place
    if not actor.sees_personal_data or place is None or actor.facility is not None:
        return []
    width = len(place.path) + SEGMENT
    counts = dict(
        Person.objects.visible_to(actor)
        .exclude(status=PersonStatus.MERGED)
        .annotate(child=Substr("place_path", 1, width))
        .values("child")
        .annotate(n=Count("id"))
        .values_list("child", "n")
    )
    children = list(place.children.current().order_by("name").values_list("name", "path"))
    if len(children) < 2:
        return []
    return [
        Chart(
            _("各下级地区人员数"),
            [name for name, _path in children],
            [counts.get(path, 0) for _name, path in children],
        )
    ]
