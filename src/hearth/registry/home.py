"""What the registry puts on the home page."""

from django.urls import reverse
from django.utils.translation import gettext as _

from hearth.core.home import Stat

from .models import Person


def registry_stats(actor) -> list[Stat]:
    if not actor.sees_personal_data:
        return []
    return [Stat(_("辖区人员"), Person.objects.visible_to(actor).count(), reverse("registry:person_list"))]
