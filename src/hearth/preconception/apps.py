from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PreconceptionConfig(AppConfig):
    name = "hearth.preconception"
    verbose_name = _("孕前优生")

    def ready(self) -> None:
        from hearth.accounts.navigation import register_menu_check
        from hearth.accounts.scoping import register_facility_reach

        from .selectors import reach_men, reach_women, sees_programme

        # The station's staff see the couples enrolled with it (docs/adr/0007: clinic staff reach persons only
        # through their facility's relations to them).
        register_facility_reach(reach_women)
        register_facility_reach(reach_men)
        register_menu_check("preconception:enrolment_list", sees_programme)
