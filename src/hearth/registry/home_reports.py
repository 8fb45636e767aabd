"""Home-page to-dos for change reports: deciders see what waits in their scope, volunteers what came back."""

from django.urls import reverse
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.core.home import Todo

from . import reports
from .models import ChangeStatus


def change_report_todos(actor) -> list[Todo]:
    if not actor.sees_personal_data:
        return []
    url = reverse("registry:report_list")
    if actor.can(Perm.CHANGE_REPORT_DECIDE):
        return [
            Todo(_("待确认的变动报告"), reports.pending_count(actor), f"{url}?status={ChangeStatus.PENDING}")
        ]
    if actor.can(Perm.CHANGE_REPORT_CREATE):
        return [
            Todo(
                _("近30天被退回的变动报告"),
                reports.recently_rejected_count(actor),
                f"{url}?status={ChangeStatus.REJECTED}",
            )
        ]
    return []
