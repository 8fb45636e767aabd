"""What the migrants app puts on the home page: the rental worklist as a to-do (one aggregate query)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from hearth.core.home import Todo

from . import selectors


def rental_todos(actor) -> list[Todo]:
    if not selectors.can_read(actor):
        return []
    return [
        Todo(
            _("出租房屋待登记（租住人员未登记或房东未签协议）"),
            selectors.worklist_count(actor),
            reverse("migrants:rental_worklist"),
        )
    ]
