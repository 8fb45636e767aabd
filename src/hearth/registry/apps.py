from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "hearth.registry"
    label = "registry"
    verbose_name = _("人口登记")

    def ready(self) -> None:
        from hearth.core.home import register_stat, register_todo  # noqa: F401

        from .home import registry_stats

        register_stat(registry_stats)
