from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "hearth.care"
    verbose_name = _("入户服务")

    def ready(self) -> None:
        # The home page asks each app what to show; core never imports the apps above it.
        from hearth.core.home import register_todo

        from .home import care_todos

        register_todo(care_todos)
