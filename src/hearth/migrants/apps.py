from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MigrantsConfig(AppConfig):
    name = "hearth.migrants"
    verbose_name = _("流动人口与出租房屋")
