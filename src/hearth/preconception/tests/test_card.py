"""免费服务卡: a real PDF, pre-filled with names, station and date, and never a result."""

import re
import zlib

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry
from hearth.preconception import card

from .factories import SECRET_ADVICE, SECRET_VALUE, enrolment

pytestmark = pytest.mark.django_db


def _unicode_points(pdf: bytes) -> set[int]:
    """The code points of the PDF's ToUnicode maps: every character a reader can extract from it."""
    body = [pdf]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            body.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    points: set[int] = set()
    for cmap in re.findall(rb"begincmap(.*?)endcmap", b"\n".join(body), re.S):
        points |= {int(h, 16) for h in re.findall(rb"<([0-9A-Fa-f]{4,8})>", cmap)}
    return points


def test_the_card_is_a_pdf_with_names_station_and_date_and_no_results(world, client, login):
    e = enrolment(world, examined=True)
    login(world, Role.COMMUNITY_OFFICER)
    response = client.get(reverse("preconception:card", kwargs={"public_id": e.public_id}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    points = _unicode_points(pdf)
    for char in e.woman.name + "张伟" + world.facility.name + "免费服务卡":
        assert ord(char) in points, char
    # Characters found only in the results and advice are not in the card's text at all.
    for char in "蛋铁剂偏险":
        assert ord(char) not in points, char
    assert AuditEntry.objects.filter(action="preconception.card_print").count() == 1


def test_the_card_context_and_html_hold_no_results(world):
    e = enrolment(world, examined=True)
    context = card.card_context(e)
    assert set(context) == {"title", "number", "woman_name", "man_name", "facility_name", "agreed_on", "bring",
                            "issued_on"}  # fmt: skip
    html = render_to_string("preconception/card.html", context)
    assert e.woman.name in html and world.facility.name in html and "**" not in html
    assert SECRET_VALUE not in html and SECRET_ADVICE not in html and "高风险" not in html
