from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "hearth.accounts"
    label = "accounts"
    verbose_name = _("账号与授权")

    def ready(self) -> None:
        # The home page asks each app what to show; core never imports the apps above it.
        from hearth.core.home import register_stat

        from .home import account_stats

        register_stat(account_stats)
