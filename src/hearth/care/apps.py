from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "hearth.care"
    verbose_name = _("入户服务")

    def ready(self) -> None:
        # The home page asks each app what to show; core never imports the apps above it.
        from hearth.accounts.scoping import register_facility_reach
        from hearth.audit.exports import register_download
        from hearth.core.home import register_todo

        from .checkdays import reach_invitations
        from .home import care_todos
        from .referrals import reach_records, reach_referrals

        register_todo(care_todos)
        # Clinic staff see the persons their facility was referred, enrolled or served (docs/adr/0007).
        register_facility_reach(reach_referrals)
        register_facility_reach(reach_records)
        register_facility_reach(reach_invitations)
        register_download("care.worklist", "care:worklist_export_download")
