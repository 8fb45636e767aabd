"""What care puts on the home page: the contacts the actor has to make (due, overdue, never offered)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from hearth.core import time
from hearth.core.home import Todo


def care_todos(actor) -> list[Todo]:
    from . import services, worklists

    if not actor.sees_personal_data:
        return []
    today = time.today()
    out = []
    for summary in worklists.summaries(actor, services.services_for(actor), as_of=today):
        n = summary.actionable
        if n:
            url = reverse("care:worklist", kwargs={"code": summary.service.code})
            out.append(Todo(_("待服务：%(s)s") % {"s": summary.service.name}, n, url))
    return out
