from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MigrantsConfig(AppConfig):
    name = "hearth.migrants"
    verbose_name = _("流动人口与出租房屋")

    def ready(self) -> None:
        # The home page asks each app what to show; core never imports the apps above it.
        from hearth.core.home import register_todo

        from .home import rental_todos

        register_todo(rental_todos)
