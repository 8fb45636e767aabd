from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "hearth.registry"
    label = "registry"
    verbose_name = _("人口登记")

    def ready(self) -> None:
        # The home page asks each app what to show; core never imports the apps above it.
        from hearth.core.home import register_chart, register_stat

        from .home import persons_by_child_place, registry_stats

        register_stat(registry_stats)
        register_chart(persons_by_child_place)
