"""免费服务卡: the card the station fills in ahead and hands to the couple (seed 004: 提前填写好《免费服务卡》, 并送至
参检对象本人手中) — their names, the station, the agreed date and what to bring. Never any result."""

from django.utils.translation import gettext as _

from hearth.audit import services as audit
from hearth.core import time
from hearth.documents.render import render_pdf

from .models import Enrolment


def what_to_bring() -> list[str]:
    return [
        _("本免费服务卡"),
        _("双方的居民身份证"),
        _("以往的病历和检查报告（如有）"),
        _("检查当天早晨空腹，以便抽血化验"),
        _("女方请避开月经期"),
    ]


def card_context(enrolment: Enrolment) -> dict:
    """Only what the card shows: names, the station, the date, what to bring (no results, no full ID)."""
    return {
        "title": _("免费孕前优生健康检查服务卡"),
        "number": str(enrolment.public_id).split("-")[0].upper(),
        "woman_name": enrolment.woman.name,
        "man_name": enrolment.man_display,
        "facility_name": enrolment.facility.name,
        "agreed_on": enrolment.agreed_on,
        "bring": what_to_bring(),
        "issued_on": time.today(),
    }


def card_pdf(*, actor, enrolment: Enrolment) -> bytes:
    """The card as PDF, rendered by the documents layer; printing it is audited."""
    context = card_context(enrolment)
    pdf = render_pdf("preconception/card.html", context)
    audit.record(actor=actor, action="preconception.card_print", target=enrolment)
    return pdf
