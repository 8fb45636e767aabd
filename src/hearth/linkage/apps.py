from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LinkageConfig(AppConfig):
    name = "hearth.linkage"
    label = "linkage"
    verbose_name = _("部门名单比对")
