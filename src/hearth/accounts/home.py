from django.urls import reverse
from django.utils.translation import gettext as _

from hearth.core.home import Stat

from .models import Grant, User
from .roles import Perm


def account_stats(actor) -> list[Stat]:
    if not (actor.can(Perm.ACCOUNT_MANAGE) or actor.can(Perm.GRANT_MANAGE)):
        return []
    return [
        Stat(_("账号"), User.objects.filter(is_active=True).count(), reverse("accounts:user_list")),
        Stat(_("有效授权"), Grant.objects.active().count()),
    ]
