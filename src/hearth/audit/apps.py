from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "hearth.audit"
    label = "audit"
    verbose_name = _("审计")

    def ready(self) -> None:
        # The home page asks each app what to show; core never imports the apps above it.
        from hearth.core.home import register_stat, register_todo

        from .home import audit_stats, export_todos

        register_stat(audit_stats)
        register_todo(export_todos)
