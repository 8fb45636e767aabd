"""The pages: enrolling from the woman's page, the enrolment page, the results form, delivery, and what a
community officer's pages never show (leak tests), scope 404s."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry
from hearth.core import time
from hearth.preconception import services
from hearth.preconception.models import Enrolment, Examination, Status

from .factories import SECRET_ADVICE, SECRET_NOTE, SECRET_VALUE, enrolment

pytestmark = pytest.mark.django_db


def _detail(e) -> str:
    return reverse("preconception:enrolment_detail", kwargs={"public_id": e.public_id})


def _clinical_enrolment(world):
    """Abnormal results, high risk, advice, and a clinic's follow-up note."""
    e = enrolment(world, examined=True, outcome_consent=True)
    services.add_follow_up(actor=world.actor(Role.CLINIC_STAFF), enrolment=e, who="woman", note=SECRET_NOTE)
    services.record_outcome(actor=world.actor(Role.CLINIC_STAFF), enrolment=e, kind="early_pregnancy",
                            note="孕6周")  # fmt: skip
    return e


def test_enrol_from_the_womans_page(world, client, login):
    login(world, Role.COMMUNITY_OFFICER)
    woman = world.persons["A1a"]
    services_page = client.get(reverse("care:person_services", kwargs={"person_id": woman.public_id}))
    url = reverse("preconception:enrol", kwargs={"person_id": woman.public_id})
    assert url in services_page.content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "本人同意" in page.content.decode()
    refused = client.post(url, {"man_name": "", "facility": world.facility.pk})
    assert refused.status_code == 422
    body = refused.content.decode()
    assert 'data-field="woman_consent"' in body and 'data-field="man_name"' in body
    agreed = (time.today() + timedelta(days=3)).isoformat()
    done = client.post(url, {"man_name": "张伟", "man_id_masked": "1234", "facility": world.facility.pk,
                             "agreed_on": agreed, "woman_consent": "on"})  # fmt: skip
    e = Enrolment.objects.for_system().get(woman=woman)
    assert done.status_code == 302 and done["Location"] == _detail(e)
    assert e.facility == world.facility and e.agreed_on.isoformat() == agreed
    # Her page now links to the enrolment in progress instead.
    services_page = client.get(reverse("care:person_services", kwargs={"person_id": woman.public_id}))
    assert _detail(e) in services_page.content.decode()


def test_no_enrol_link_for_those_who_do_not_enrol(world, client, login):
    login(world, Role.BUILDING_VOLUNTEER)
    woman = world.persons["A1a-b1"]
    page = client.get(reverse("care:person_services", kwargs={"person_id": woman.public_id}))
    assert page.status_code == 200 and "/preconception/" not in page.content.decode()


def test_a_community_officer_sees_status_and_follow_up_never_results(world, client, login):
    e = _clinical_enrolment(world)
    login(world, Role.COMMUNITY_OFFICER)
    pages = [
        client.get(_detail(e)),
        client.get(reverse("preconception:enrolment_list")),
        client.get(reverse("care:person_services", kwargs={"person_id": e.woman.public_id})),
    ]
    for page in pages:
        assert page.status_code == 200
        body = page.content.decode()
        for secret in (SECRET_VALUE, SECRET_ADVICE, SECRET_NOTE, "孕6周", "高风险", "早孕"):
            assert secret not in body, secret
    detail = pages[0].content.decode()
    assert "需随访" in detail and "仅服务机构人员" in detail
    assert not AuditEntry.objects.filter(action="preconception.results_view").exists()


def test_clinic_staff_see_results_and_each_view_is_audited(world, client, login):
    e = _clinical_enrolment(world)
    login(world, Role.CLINIC_STAFF)
    body = client.get(_detail(e)).content.decode()
    for shown in (SECRET_VALUE, SECRET_ADVICE, SECRET_NOTE, "孕6周", "高风险人群"):
        assert shown in body
    client.get(_detail(e))
    assert AuditEntry.objects.filter(action="preconception.results_view").count() == 2


def test_the_results_form_of_clinic_staff(world, client, login):
    e = enrolment(world, man_consent=False)
    url = reverse("preconception:examine", kwargs={"public_id": e.public_id, "who": "woman"})
    login(world, Role.COMMUNITY_OFFICER)
    assert client.get(url).status_code == 404
    login(world, Role.CLINIC_STAFF)
    page = client.get(url)
    assert page.status_code == 200 and page.content.decode().count("__state") >= 19
    bad = client.post(url, {"blood_routine__state": "abnormal", "risk": "high"})
    assert bad.status_code == 422 and "咨询指导建议" in bad.content.decode()
    ok = client.post(url, {"education__state": "normal", "blood_routine__state": "abnormal",
                           "blood_routine__value": "Hb 95", "risk": "high", "advice": "补铁后复查"})  # fmt: skip
    assert ok.status_code == 302
    exam = Examination.objects.for_system().get(enrolment=e)
    assert exam.items == {"education": {"value": "", "abnormal": False},
                          "blood_routine": {"value": "Hb 95", "abnormal": True}}  # fmt: skip
    assert exam.needs_follow_up and exam.risk == "high"
    e.refresh_from_db()
    assert e.status == Status.ASSESSED
    # Reading the entered values again is a view of results.
    before = AuditEntry.objects.filter(action="preconception.results_view").count()
    assert "Hb 95" in client.get(url).content.decode()
    assert AuditEntry.objects.filter(action="preconception.results_view").count() == before + 1
    # The man did not agree: his form says so and saving is refused.
    man = reverse("preconception:examine", kwargs={"public_id": e.public_id, "who": "man"})
    assert "尚未同意" in client.get(man).content.decode()
    refused = client.post(man, {"urine_routine__state": "normal"})
    assert refused.status_code == 422 and not Examination.objects.for_system().filter(who="man").exists()
    assert (
        client.get(
            reverse("preconception:examine", kwargs={"public_id": e.public_id, "who": "x"})
        ).status_code
        == 404
    )


def test_delivery_form_refuses_anyone_but_the_person_for_abnormal_results(world, client, login):
    e = enrolment(world, examined=True)
    login(world, Role.COMMUNITY_OFFICER)
    url = reverse("preconception:deliver", kwargs={"public_id": e.public_id})
    refused = client.post(url, {"who": "woman", "method": "family", "recipient": "李母"})
    assert refused.status_code == 422 and "本人签收" in refused.content.decode()
    assert SECRET_VALUE not in refused.content.decode()
    done = client.post(url, {"who": "woman", "method": "self"})
    assert done.status_code == 302
    assert Examination.objects.for_system().get(enrolment=e).delivery.method == "self"


def test_withdraw_and_consent_buttons(world, client, login):
    e = enrolment(world, man_consent=False)
    login(world, Role.ASSISTANT)
    client.post(
        reverse("preconception:consent", kwargs={"public_id": e.public_id}), {"who": "man", "given": "on"}
    )
    e.refresh_from_db()
    assert e.man_consent
    client.post(reverse("preconception:withdraw", kwargs={"public_id": e.public_id}))
    e.refresh_from_db()
    assert e.status == Status.WITHDRAWN
    body = client.get(_detail(e)).content.decode()
    assert (
        "本人已退出" in body
        and reverse("preconception:withdraw", kwargs={"public_id": e.public_id}) not in body
    )


def test_out_of_scope_is_404(world, client, login):
    e = enrolment(world, world.persons["B1a"], examined=True)
    login(world, Role.COMMUNITY_OFFICER)
    for name in ("enrolment_detail", "card"):
        assert (
            client.get(reverse(f"preconception:{name}", kwargs={"public_id": e.public_id})).status_code == 404
        )
    for name in ("deliver", "follow_up", "withdraw"):
        url = reverse(f"preconception:{name}", kwargs={"public_id": e.public_id})
        assert client.post(url, {"who": "woman", "method": "self", "note": "x"}).status_code == 404
    assert (
        client.get(reverse("preconception:enrol", kwargs={"person_id": e.woman.public_id})).status_code == 404
    )
    e.refresh_from_db()
    assert e.status != Status.WITHDRAWN
    assert SECRET_VALUE not in client.get(reverse("preconception:enrolment_list")).content.decode()


def test_list_queries_do_not_grow_with_rows(world, client, login):
    login(world, Role.SUBDISTRICT_OFFICER)
    url = reverse("preconception:enrolment_list")
    enrolment(world, world.persons["A1a"], examined=True)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for key in ("A1a-b1", "A1a-b1-u1", "A1a-b2", "A1b", "A2a"):
        enrolment(world, world.persons[key], examined=True)
    with CaptureQueriesContext(connection) as six:
        body = client.get(url).content.decode()
    assert body.count("需随访") >= 6
    assert len(six.captured_queries) == len(one.captured_queries)
