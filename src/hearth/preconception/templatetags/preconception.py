"""{% preconception_link person %}: the pre-pregnancy check on a woman's page — her enrolment in progress, or a
link to enrol her, for those who enrol couples (nothing for anyone else, nor on a man's page)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from hearth.registry.models import Sex

from .. import selectors
from ..models import IN_PROGRESS

register = template.Library()


@register.simple_tag(takes_context=True)
def preconception_link(context, person) -> str:
    request = context.get("request")
    actor = getattr(request, "actor", None)
    if actor is None or person is None or person.sex != Sex.FEMALE or not selectors.sees_programme(actor):
        return ""
    current = selectors.enrolments_for(actor).filter(woman=person, status__in=IN_PROGRESS).first()
    if current is not None:
        url = reverse("preconception:enrolment_detail", kwargs={"public_id": current.public_id})
        return format_html('<p class="mb-2"><a class="btn btn-sm btn-outline-secondary" href="{}">{}</a></p>', url,
                           _("孕前优生检查（%(s)s）") % {"s": current.get_status_display()})  # fmt: skip
    if not selectors.can_enrol(actor):
        return ""
    url = reverse("preconception:enrol", kwargs={"person_id": person.public_id})
    return format_html('<p class="mb-2"><a class="btn btn-sm btn-outline-secondary" href="{}">{}</a></p>', url,
                       _("孕前优生检查登记"))  # fmt: skip
