"""What care puts on the home page: the contacts the actor has to make (due, overdue, never offered)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from hearth.core import time
from hearth.core.home import Todo


def care_todos(actor) -> list[Todo]:
    from . import services, worklists
    from .models import Schedule

    if not actor.sees_personal_data:
        return []
    today = time.today()
    out = []
    with_lists = services.services_for(actor).exclude(schedule=Schedule.ON_REQUEST)
    for summary in worklists.summaries(actor, with_lists, as_of=today):
        n = summary.actionable
        if n:
            url = reverse("care:worklist", kwargs={"code": summary.service.code})
            out.append(Todo(_("待服务：%(s)s") % {"s": summary.service.name}, n, url))
    return out + checkday_todos(actor, today)


def checkday_todos(actor, today) -> list[Todo]:
    """Today's check days the actor takes attendance at, with how many are still to be called (点名)."""
    from . import checkdays

    days = [d for d in checkdays.days_for(actor).filter(held_on=today).select_related("service", "place")
            if checkdays.may_record(actor, d)]  # fmt: skip
    pending = checkdays.pending_counts(days)
    return [
        Todo(
            _("今日康检点名：%(p)s %(s)s") % {"p": d.place.name, "s": d.service.name},
            pending.get(d.pk, 0),
            reverse("care:checkday_detail", kwargs={"day_id": d.public_id}),
        )
        for d in days
    ]
