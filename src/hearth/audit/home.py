from django.urls import reverse
from django.utils.translation import gettext as _

from hearth.core.home import Stat, Todo

from . import exports
from .models import AuditEntry, ExportRequest


def export_todos(actor) -> list[Todo]:
    todos = [
        Todo(
            _("待审批的数据导出"),
            exports.approvable_by(actor).filter(status=ExportRequest.Status.PENDING).count(),
            reverse("audit:export_list"),
        )
    ]
    if actor.user is not None:
        ready = ExportRequest.objects.filter(
            requested_by=actor.grant, status=ExportRequest.Status.APPROVED
        ).count()
        todos.append(Todo(_("已获批待下载的导出"), ready, reverse("audit:export_list")))
    return todos


def audit_stats(actor) -> list[Stat]:
    from hearth.accounts.roles import Perm

    if not actor.can(Perm.AUDIT_VIEW):
        return []
    return [
        Stat(_("审计记录"), AuditEntry.objects.count(), reverse("audit:log")),
        Stat(_("待封存记录"), AuditEntry.objects.filter(seq__isnull=True).count()),
    ]
