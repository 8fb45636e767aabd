from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "hearth.registry"
    label = "registry"
    verbose_name = _("人口登记")

    def ready(self) -> None:
        # The home page asks each app what to show; core never imports the apps above it.
        from hearth.audit.exports import register_download
        from hearth.core.home import register_chart, register_stat, register_todo
        from hearth.places.signals import subtree_moved

        from .home import persons_by_child_place, registry_stats, transfer_todos
        from .home_reports import change_report_todos
        from .signals import move_person_paths

        subtree_moved.connect(move_person_paths, dispatch_uid="registry.move_person_paths")
        register_stat(registry_stats)
        register_todo(transfer_todos)
        register_todo(change_report_todos)
        register_chart(persons_by_child_place)
        register_download("persons", "registry:person_export_download")
        register_download("list", "registry:list_export_download")
