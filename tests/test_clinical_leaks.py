"""Leak tests for clinical results (issue 7, "Sensitive fields"): with a clinical result, a contraceptive method
and an abnormal pre-pregnancy result recorded for every fixture person, no role without the clinical permission
finds any of them on any page or API route of the authorization matrix, in an export, or in a search; clinic
staff, who hold the permission, do (so the test can fail).

Pages and API answers are read as text (JSON with its escapes undone), spreadsheets cell by cell, PDFs through
their ToUnicode maps (a sentinel of rare characters leaked only if all its characters are there).
"""

import io
import json

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from python_calamine import CalamineWorkbook

from hearth.accounts.roles import Role
from hearth.care import schedule, services
from hearth.care.models import Outcome, ServiceType
from hearth.documents.tests.test_render import unicode_map
from hearth.preconception.tests import factories
from hearth.testing import build_world
from tests.authz import Ctx
from tests.test_authorization_matrix import CASES, _call

# Rare characters, so a PDF's glyph map cannot hold all of one by chance.
CARE_ADVICE = "哨兵鼋鼍复查"
METHOD = "哨兵蜉蝣方法"
SECRETS = (CARE_ADVICE, METHOD, factories.SECRET_VALUE, factories.SECRET_ADVICE)
NON_CLINICAL = [
    Role.DISTRICT_ADMIN, Role.SUBDISTRICT_OFFICER, Role.COMMUNITY_OFFICER, Role.ASSISTANT,
    Role.BUILDING_VOLUNTEER, Role.DATA_CLERK, Role.ASSOCIATION_OFFICER, Role.AUDITOR,
]  # fmt: skip
GETS = sorted(name for name, case in CASES.items() if case.method == "get")


@pytest.fixture(scope="module")
def leaky_world(django_db_setup, django_db_blocker):
    """The fixture world with the clinical facts recorded through the services (so their audit rows exist too)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build_world()
            catalogue = {s.code: s for s in ServiceType.objects.all()}
            clinic = world.actor(Role.CLINIC_STAFF)
            for person in world.persons.values():
                factories.enrolment(world, person, examined=True)  # the station now reaches her
                services.record_contact(
                    actor=clinic, person=person, service=catalogue["health_check"], outcome=Outcome.DONE,
                    consent=True, data={"result": "需进一步检查", "advice": CARE_ADVICE},
                )  # fmt: skip
                services.record_contact(
                    actor=clinic, person=person, service=catalogue["contraceptive_counselling"],
                    outcome=Outcome.DONE, data={"supplies": "免费药具", "quantity": 2, "method": METHOD},
                )  # fmt: skip
            schedule.recompute_all()
            yield world
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def lworld(leaky_world, db):
    return leaky_world


def _text(response) -> str:
    kind = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if kind.startswith("application/json"):
        return json.dumps(json.loads(body or b"null"), ensure_ascii=False)
    if kind.startswith("application/pdf"):
        points = unicode_map(body)
        return " ".join(s for s in SECRETS if {ord(c) for c in s} <= points)
    if "spreadsheetml" in kind:
        book = CalamineWorkbook.from_filelike(io.BytesIO(body))
        return repr([book.get_sheet_by_name(n).to_python() for n in book.sheet_names])
    return body.decode("utf-8", errors="replace")


def _found(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def _walk(world, role) -> dict[str, list[str]]:
    """Every GET route of the matrix, on targets in the role's place and below: the secrets each answer holds."""
    client = Client()
    world.login(client, role)
    leaks: dict[str, list[str]] = {}
    for name in GETS:
        for where in ("own", "child"):
            sid = transaction.savepoint()
            try:
                response = _call(client, CASES[name], Ctx(world=world, role=role, where=where))
                if response.status_code == 200 and (found := _found(_text(response))):
                    leaks[f"{name} ({where})"] = found
            finally:
                transaction.savepoint_rollback(sid)
    return leaks


def _exports(world, role) -> dict[str, list[str]]:
    """The person export, a derived list's export and a worklist's export, as the role may download them."""
    client = Client()
    world.login(client, role)
    calls = {
        "persons": (reverse("registry:person_export"), {"reason": "泄漏测试", "q": ""}),
        "list": (reverse("registry:list_export", kwargs={"code": "women_15_49"}), {"reason": "泄漏测试"}),
        "worklist": (
            reverse("care:worklist_export", kwargs={"code": "health_check"}),
            {"reason": "泄漏测试"},
        ),
        "worklist upcoming": (
            reverse("care:worklist_export", kwargs={"code": "contraceptive_counselling"}),
            {"reason": "泄漏测试", "status": "upcoming"},
        ),
    }
    leaks = {}
    for label, (url, data) in calls.items():
        response = client.post(url, data)
        if response.status_code == 200 and (found := _found(_text(response))):
            leaks[label] = found
    return leaks


def _searches(world, role) -> dict[str, list[str]]:
    """Searching the registry by a person's name, page and API, and the care worklists' pages."""
    client = Client()
    world.login(client, role)
    person = world.persons["A1a"]  # in scope of most roles; for the others the search finds nobody
    urls = [
        f"{reverse('registry:person_list')}?q={person.name}",
        f"{reverse('api:list_persons')}?q={person.name}",
        f"{reverse('care:worklist', kwargs={'code': 'health_check'})}?status=upcoming",
        f"{reverse('care:worklist', kwargs={'code': 'contraceptive_counselling'})}?status=upcoming",
    ]
    leaks = {}
    for url in urls:
        response = client.get(url)
        if response.status_code == 200 and (found := _found(_text(response))):
            leaks[url] = found
    return leaks


@pytest.mark.parametrize("role", NON_CLINICAL)
def test_no_route_export_or_search_shows_a_clinical_result_without_the_permission(lworld, role):
    leaks = _walk(lworld, role) | _exports(lworld, role) | _searches(lworld, role)
    assert not leaks, f"clinical values shown to {role}: {leaks}"


def test_clinic_staff_who_hold_the_permission_do_see_them(lworld):
    """The control: the same walk finds every secret for clinic staff, so the walk can see a leak."""
    leaks = _walk(lworld, Role.CLINIC_STAFF)
    seen = {s for found in leaks.values() for s in found}
    assert seen == set(SECRETS), f"clinic staff saw only {seen} on {sorted(leaks)}"
