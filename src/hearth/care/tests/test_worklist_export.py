"""Exporting a worklist: the tab and place shown, under export control (audit, approval above the threshold,
download once), and nothing recorded in a contact — no result, no method — in the file."""

import io

import pytest
from django.test import Client
from python_calamine import CalamineWorkbook

from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry, ExportRequest
from hearth.care import schedule, services
from hearth.care.models import Outcome
from hearth.core import time
from hearth.core.models import SystemSetting

pytestmark = pytest.mark.django_db

SECRET_ADVICE = "建议低盐饮食并复查血压"


@pytest.fixture
def due(world, catalogue):
    schedule.recompute(catalogue["health_check"], as_of=time.today())
    return catalogue["health_check"]


def _sheet(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    return book.get_sheet_by_index(0).to_python()


def _clinic_records(world, catalogue) -> None:
    """A health check for 居民A1a with its result and advice (the service's results are clinical)."""
    officer = world.actor(Role.COMMUNITY_OFFICER)
    person = world.persons["A1a"]
    services.record_contact(
        actor=officer, person=person, service=catalogue["health_check"], outcome=Outcome.DONE, consent=True,
        data={"result": "需进一步检查", "advice": SECRET_ADVICE},
    )  # fmt: skip


def test_the_officer_downloads_the_worklist_with_the_outcome_only(client, world, due, catalogue):
    _clinic_records(world, catalogue)
    schedule.recompute(due, as_of=time.today())
    world.login(client, Role.COMMUNITY_OFFICER)
    rows = _sheet(client.post("/care/health_check/export/", {"reason": "入户走访"}))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["姓名", "性别", "年龄", "住址", "状态"]
    names = {r[0] for r in body}
    # The page's first tab: every row needing service in the officer's community (A1a and below).
    assert names == {"居民A1a-b1", "居民A1a-b1-u1", "居民A1a-b2"}
    flat = repr(rows)
    assert SECRET_ADVICE not in flat and "需进一步检查" not in flat
    req = ExportRequest.objects.get()
    assert req.kind == "care.worklist" and req.status == "downloaded" and req.row_count == 3
    entry = AuditEntry.objects.get(action="export.download")
    assert (
        entry.row_count == 3 and entry.data["service"] == "health_check" and len(entry.data["sha256"]) == 64
    )


def test_the_upcoming_tab_shows_the_last_contact_outcome_not_its_content(client, world, due, catalogue):
    _clinic_records(world, catalogue)
    schedule.recompute(due, as_of=time.today())
    world.login(client, Role.COMMUNITY_OFFICER)
    rows = _sheet(client.post("/care/health_check/export/", {"reason": "核对", "status": "upcoming"}))
    (row,) = rows[1:]
    assert row[0] == "居民A1a" and row[4] == "未到期"
    assert row[7] == time.today().isoformat() and row[8] == str(Outcome.DONE.label)
    assert SECRET_ADVICE not in repr(rows)


def test_a_place_narrows_the_export_and_a_place_outside_the_scope_is_404(client, world, due):
    world.login(client, Role.SUBDISTRICT_OFFICER)
    rows = _sheet(
        client.post(
            "/care/health_check/export/", {"reason": "核对", "place": str(world.places["A1b"].public_id)}
        )
    )
    assert {r[0] for r in rows[1:]} == {"居民A1b"}
    outside = client.post(
        "/care/health_check/export/", {"reason": "核对", "place": str(world.places["B1a"].public_id)}
    )
    assert outside.status_code == 404
    assert ExportRequest.objects.count() == 1


def test_without_a_reason_or_with_a_bad_status_nothing_is_written(client, world, due):
    world.login(client, Role.COMMUNITY_OFFICER)
    r = client.post("/care/health_check/export/", {"reason": ""}, follow=True)
    assert "导出用途" in r.content.decode()
    r = client.post("/care/health_check/export/", {"reason": "x", "status": "nope"}, follow=True)
    assert "状态或地区无效" in r.content.decode()
    assert (
        not ExportRequest.objects.exists()
        and not AuditEntry.objects.filter(action__startswith="export").exists()
    )


def test_a_large_export_waits_for_approval_and_downloads_once_from_the_export_list(client, world, due):
    SystemSetting.objects.create(key="export.approval_threshold", value=2)
    world.login(client, Role.COMMUNITY_OFFICER)
    r = client.post("/care/health_check/export/", {"reason": "入户走访"})
    assert r.status_code == 302 and r["Location"] == "/exports/"
    req = ExportRequest.objects.get()
    assert req.status == "pending" and req.row_count == 4
    url = f"/care/exports/{req.public_id}/"
    assert client.get(url).status_code == 404  # not before approval
    above = Client()
    world.login(above, Role.SUBDISTRICT_OFFICER)
    assert above.post(f"/exports/{req.public_id}/decide/", {"decision": "approve"}).status_code == 302
    assert above.get(url).status_code == 404  # only the requester
    assert f'href="{url}"' in client.get("/exports/").content.decode()  # the export list links the download
    assert len(_sheet(client.get(url))) == 5
    assert client.get(url).status_code == 404  # once
    # A list export's link does not open a worklist export.
    assert client.get(f"/lists/export/{req.public_id}/").status_code == 404


def test_roles_without_export_or_without_the_worklist_get_404(client, world, due):
    for role in (Role.BUILDING_VOLUNTEER, Role.ASSISTANT, Role.CLINIC_STAFF, Role.DATA_CLERK):
        c = Client()
        world.login(c, role)
        assert c.post("/care/health_check/export/", {"reason": "x"}).status_code == 404, role
    assert not ExportRequest.objects.exists()


def test_the_worklist_page_offers_the_export_to_exporters_only(client, world, due):
    world.login(client, Role.COMMUNITY_OFFICER)
    page = client.get("/care/health_check/").content.decode()
    assert 'id="worklist-export"' in page and 'action="/care/health_check/export/"' in page
    assistant = Client()
    world.login(assistant, Role.ASSISTANT)
    assert 'id="worklist-export"' not in assistant.get("/care/health_check/").content.decode()
