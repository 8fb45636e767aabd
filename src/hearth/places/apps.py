from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "hearth.places"
    label = "places"
    verbose_name = _("地区与场所")

    def ready(self) -> None:
        # The home page asks each app what to show; core never imports the apps above it.
        from hearth.core.home import register_stat

        from .home import place_stats

        register_stat(place_stats)
