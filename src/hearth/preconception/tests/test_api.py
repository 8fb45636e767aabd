"""/api/v1/preconception: enrol, results by clinic staff only, what others get back (no values), delivery
rules, outcomes with consent, withdrawal, 422s naming the fields, 404s out of scope."""

import json

import pytest

from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry
from hearth.preconception.models import Enrolment, Status

from .factories import SECRET_ADVICE, SECRET_VALUE, enrolment

pytestmark = pytest.mark.django_db

BASE = "/api/v1/preconception/enrolments"


def _post(client, url: str, body: dict | None = None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def _errors(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return {e["loc"][-1]: e["type"] for e in response.json()["detail"]}


def test_enrol_then_repeat(world, client, login):
    login(world, Role.COMMUNITY_OFFICER)
    body = {"woman_id": str(world.persons["A1a"].public_id), "facility_id": str(world.facility.public_id),
            "man_name": "张伟", "man_id_masked": "****5678", "woman_consent": True, "outcome_consent": True}  # fmt: skip
    first = _post(client, BASE, body)
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["status"] == "enrolled" and data["man_id_masked"] == "**************5678"
    assert data["outcome_consent"] and data["examinations"] == [] and data["results_hidden"]
    again = _post(client, BASE, body)
    assert again.status_code == 200 and again.json()["id"] == data["id"]


def test_enrol_422s_name_the_fields(world, client, login):
    login(world, Role.COMMUNITY_OFFICER)
    woman = str(world.persons["A1a"].public_id)
    assert _errors(_post(client, BASE, {"woman_id": "nope"})) == {"woman_id": "uuid_parsing"}
    assert _errors(_post(client, BASE, {"woman_id": woman, "man_id_masked": "1"})) == {
        "woman_consent": "precon.consent",
        "man_name": "precon.man_name",
        "man_id_masked": "precon.man_id",
        "facility_id": "precon.facility",
    }
    other_woman = {"woman_id": woman, "man_id": str(world.persons["A1a-b1"].public_id), "woman_consent": True,
                   "facility_id": str(world.facility.public_id)}  # fmt: skip
    assert _errors(_post(client, BASE, other_woman)) == {"man_id": "precon.man_sex"}
    msg = _post(client, BASE, {"woman_id": woman, "man_name": "张伟"}).json()["detail"]
    assert all("：" in d["msg"] for d in msg)
    assert not Enrolment.objects.for_system().exists()


def test_out_of_scope_is_404(world, client, login):
    e = enrolment(world, world.persons["B1a"], examined=True)
    login(world, Role.COMMUNITY_OFFICER)
    assert client.get(f"{BASE}/{e.public_id}").status_code == 404
    assert _post(client, f"{BASE}/{e.public_id}/withdraw").status_code == 404
    assert (
        _post(client, f"{BASE}/{e.public_id}/deliveries", {"who": "woman", "method": "self"}).status_code
        == 404
    )
    body = {"woman_id": str(e.woman.public_id), "man_name": "张伟", "woman_consent": True}
    assert _post(client, BASE, body).status_code == 404
    assert [r["id"] for r in client.get(BASE).json()] == []


def test_results_entered_by_clinic_staff_and_read_only_by_them(world, client, login):
    e = enrolment(world)
    url = f"{BASE}/{e.public_id}"
    exam = {"who": "woman", "risk": "high", "advice": SECRET_ADVICE,
            "items": {"blood_routine": {"value": SECRET_VALUE, "abnormal": True}}}  # fmt: skip
    login(world, Role.COMMUNITY_OFFICER)
    assert _post(client, f"{url}/examinations", exam).status_code == 404
    login(world, Role.CLINIC_STAFF)
    created = _post(client, f"{url}/examinations", exam)
    assert created.status_code == 201, created.content
    results = created.json()["examinations"][0]["results"]
    assert results["advice"] == SECRET_ADVICE
    assert _errors(_post(client, f"{url}/examinations", {"who": "woman", "items": {"x": {}}})) == {
        "items": "precon.item_unknown"
    }
    assert _errors(_post(client, f"{url}/examinations", {"who": "woman"})) == {"items": "missing"}
    views = AuditEntry.objects.filter(action="preconception.results_view").count()
    assert client.get(url).json()["examinations"][0]["results"]["items"][6]["value"] == SECRET_VALUE
    assert AuditEntry.objects.filter(action="preconception.results_view").count() == views + 1
    for role in (Role.COMMUNITY_OFFICER, Role.DISTRICT_ADMIN, Role.SUBDISTRICT_OFFICER, Role.ASSISTANT):
        login(world, role)
        for response in (client.get(url), client.get(BASE)):
            assert response.status_code == 200
            text = response.content.decode()
            assert SECRET_VALUE not in text and SECRET_ADVICE not in text and "high" not in text, role
        got = client.get(url).json()
        assert got["results_hidden"] and got["examinations"][0]["results"] is None
        assert got["examinations"][0]["summary"] == "需随访" and got["outcomes"] is None
        assert client.get(BASE).json()[0]["needs_follow_up"] is True
    login(world, Role.BUILDING_VOLUNTEER)
    assert client.get(url).status_code == 404 and client.get(BASE).status_code == 404


def test_delivery_follow_up_outcome_and_withdraw(world, client, login):
    e = enrolment(world, examined=True, man_consent=False)
    url = f"{BASE}/{e.public_id}"
    login(world, Role.COMMUNITY_OFFICER)
    refused = _post(client, f"{url}/deliveries", {"who": "woman", "method": "mail"})
    assert _errors(refused) == {"method": "precon.delivery_in_person"}
    assert "本人签收" in refused.json()["detail"][0]["msg"]
    assert _errors(
        _post(client, f"{url}/deliveries", {"who": "woman", "method": "self", "delivered_on": "x"})
    ) == {"delivered_on": "date_from_datetime_parsing"}
    done = _post(client, f"{url}/deliveries", {"who": "woman", "method": "self"})
    assert done.status_code == 201 and done.json()["status"] == Status.DELIVERED
    assert done.json()["examinations"][0]["delivery"]["method"] == "self"
    assert _post(client, f"{url}/deliveries", {"who": "woman", "method": "self"}).status_code == 200
    assert _errors(_post(client, f"{url}/follow-ups", {"who": "woman"})) == {"note": "precon.note"}
    assert _post(client, f"{url}/follow-ups", {"who": "woman", "note": "已入户"}).status_code == 201
    login(world, Role.CLINIC_STAFF)
    assert _errors(_post(client, f"{url}/outcomes", {"kind": "live_birth"})) == {
        "outcome_consent": "precon.outcome_consent"
    }
    login(world, Role.COMMUNITY_OFFICER)
    assert _post(client, f"{url}/outcomes", {"kind": "live_birth"}).status_code == 404
    assert _errors(_post(client, f"{url}/consent", {"who": "woman", "given": False})) == {
        "who": "precon.consent_who"
    }
    assert _post(client, f"{url}/consent", {"who": "outcome", "given": True}).json()["outcome_consent"]
    login(world, Role.CLINIC_STAFF)
    assert _post(client, f"{url}/outcomes", {"kind": "live_birth"}).status_code == 201
    withdrawn = _post(client, f"{url}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == Status.WITHDRAWN
    assert not withdrawn.json()["outcome_consent"]
    assert _errors(_post(client, f"{url}/follow-ups", {"who": "woman", "note": "x"})) == {
        "enrolment": "precon.withdrawn"
    }
    assert _post(client, f"{url}/withdraw").status_code == 200


def test_reschedule(world, client, login):
    e = enrolment(world)
    login(world, Role.ASSISTANT)
    assert _errors(_post(client, f"{BASE}/{e.public_id}/date", {"agreed_on": "2000-01-01"})) == {
        "agreed_on": "precon.agreed_past"
    }
    assert _errors(_post(client, f"{BASE}/{e.public_id}/date", {})) == {"agreed_on": "precon.agreed_on"}
