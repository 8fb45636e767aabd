from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "hearth.documents"
    verbose_name = _("文书")

    def ready(self) -> None:
        # The apps that issue documents register who may see them (policies.py) in their `notices` module;
        # imported here, not by name, because documents sits below those apps.
        autodiscover_modules("notices")
