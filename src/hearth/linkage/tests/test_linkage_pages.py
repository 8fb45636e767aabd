"""The partner-list pages and API, driven as an officer would: upload, columns, results, review, worklists."""

from django.core.files.uploadedfile import SimpleUploadedFile

from hearth.accounts.roles import Role
from hearth.linkage.models import (
    DuplicatePair,
    FactProposal,
    LinkDecision,
    ListStatus,
    PartnerList,
    PartnerRecord,
    ProposalStatus,
    RecordStatus,
)
from hearth.linkage.tests.test_linkage_flow import _csv
from hearth.registry.models import Person


def _upload_page(client, world, data: bytes, kind: str = "police_hukou"):
    return client.post(
        "/linkage/",
        {
            "file": SimpleUploadedFile("名单.csv", data, content_type="text/csv"),
            "kind": kind,
            "source": "幸福派出所",
            "place": str(world.places["A1a"].public_id),
        },
    )


def _run(client, plist, capture):
    with capture(execute=True):
        response = client.post(
            f"/linkage/{plist.public_id}/mapping/",
            {f"column_{i}": f for f, i in plist.mapping.items()},
        )
    assert response.status_code == 302
    plist.refresh_from_db()
    assert plist.status == ListStatus.LINKED, plist.message
    return plist


def test_pages_take_a_list_from_upload_to_worklists(
    client, world, officer, django_capture_on_commit_callbacks
):
    world.login(client, Role.COMMUNITY_OFFICER)
    response = _upload_page(client, world, _csv(world))
    assert response.status_code == 302
    plist = PartnerList.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "确认表头对应" in page and "身份证号" in page
    plist = _run(client, plist, django_capture_on_commit_callbacks)
    page = client.get(f"/linkage/{plist.public_id}/").content.decode()
    assert "比对结果" in page and "确定匹配" in page
    records = client.get(f"/linkage/{plist.public_id}/records/?status=unmatched").content.decode()
    assert "孙悟空" in records and "张秀兰" not in records
    missing = client.get("/linkage/missing/").content.decode()
    assert "孙悟空" in missing
    disagreements = client.get("/linkage/disagreements/").content.decode()
    assert "13900000002" in disagreements
    review_row = PartnerRecord.objects.for_system().get(partner_list=plist, row=4)
    page = client.get(f"/linkage/{plist.public_id}/rows/4/").content.decode()
    assert "各项比对" in page and world.persons["A1a-b1"].name in page
    if review_row.status == RecordStatus.POSSIBLE:
        response = client.post(
            f"/linkage/{plist.public_id}/rows/4/",
            {"person": str(world.persons["A1a-b1"].public_id), "decision": "same"},
        )
        assert response.status_code == 302
        review_row.refresh_from_db()
        assert review_row.status == RecordStatus.ACCEPTED
        assert LinkDecision.objects.filter(fingerprint=review_row.fingerprint).exists()
    response = client.post(f"/linkage/{plist.public_id}/apply/")
    assert response.status_code == 302
    assert Person.objects.for_system().get(pk=world.persons["A1a"].pk).phone == "13900000002"


def test_upload_page_names_the_wrong_fields(client, world, officer):
    world.login(client, Role.COMMUNITY_OFFICER)
    response = client.post("/linkage/", {"kind": "", "source": "", "place": ""})
    assert response.status_code == 422
    page = response.content.decode()
    assert "名单类型" in page and "提供部门" in page and "比对范围" in page
    assert not PartnerList.objects.exists()


def test_facts_page_confirms_in_bulk(client, world, officer, django_capture_on_commit_callbacks):
    world.login(client, Role.COMMUNITY_OFFICER)
    _upload_page(client, world, _csv(world, death=True), kind="death")
    plist = _run(client, PartnerList.objects.get(), django_capture_on_commit_callbacks)
    proposal = FactProposal.objects.for_system().get(record__partner_list=plist)
    assert "死亡" in client.get("/linkage/facts/").content.decode()
    response = client.post("/linkage/facts/", {"proposal": [str(proposal.public_id)], "action": "confirm"})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.CONFIRMED


def test_api_round_trip(client, world, officer, django_capture_on_commit_callbacks):
    world.login(client, Role.COMMUNITY_OFFICER)
    created = client.post(
        "/api/v1/linkage/lists",
        {
            "file": SimpleUploadedFile("名单.csv", _csv(world), content_type="text/csv"),
            "kind": "police_hukou",
            "source": "幸福派出所",
            "place_id": str(world.places["A1a"].public_id),
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["mapping"]["id_number"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            f"/api/v1/linkage/lists/{body['id']}/mapping",
            {"mapping": body["mapping"]},
            content_type="application/json",
        )
    assert started.status_code == 200, started.content
    status = client.get(f"/api/v1/linkage/lists/{body['id']}").json()
    assert status["status"] == "linked" and status["counts"]["rows"] == 4
    sure = client.get(f"/api/v1/linkage/lists/{body['id']}/records?status=sure").json()
    assert sure["items"][0]["person_id"] == str(world.persons["A1a"].public_id)
    assert "13800000001" not in str(sure)  # the registry's phone is not in the list's rows
    one = client.get(f"/api/v1/linkage/lists/{body['id']}/records/4").json()
    if one["status"] == "possible":
        decided = client.post(
            f"/api/v1/linkage/lists/{body['id']}/records/4/decision",
            {"person_id": one["candidates"][0]["person_id"], "decision": "different"},
            content_type="application/json",
        )
        assert decided.status_code == 200 and decided.json()["status"] == "unmatched"
    bad = client.post(
        f"/api/v1/linkage/lists/{body['id']}/records/3/decision",
        {"person_id": str(world.persons["A1a"].public_id), "decision": "maybe"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "decision"]
    missing = {r["name"] for r in client.get("/api/v1/linkage/missing").json()["items"]}
    # Row 4, once an officer says it is not 刘桂英, is not on file either.
    assert missing == ({"孙悟空", "刘桂莹"} if one["status"] == "possible" else {"孙悟空"})


def test_duplicates_page_and_api(client, world, officer):
    world.login(client, Role.SUBDISTRICT_OFFICER)
    response = client.post("/linkage/duplicates/", {"place": str(world.places["A1"].public_id)})
    assert response.status_code == 302
    found = client.post(
        "/api/v1/linkage/duplicates/find",
        {"place_id": str(world.places["A1"].public_id)},
        content_type="application/json",
    )
    assert found.status_code == 200 and found.json() == {"found": 0}  # the page already listed them
    assert client.get("/api/v1/linkage/duplicates").status_code == 200
    for pair in DuplicatePair.objects.for_system():
        assert client.post(f"/linkage/duplicates/{pair.public_id}/dismiss/").status_code == 302


def test_worklists_filter_by_list(client, world, officer, django_capture_on_commit_callbacks):
    world.login(client, Role.COMMUNITY_OFFICER)
    _upload_page(client, world, _csv(world))
    plist = _run(client, PartnerList.objects.get(), django_capture_on_commit_callbacks)
    page = client.get(f"/linkage/missing/?list={plist.public_id}").content.decode()
    assert "孙悟空" in page and "幸福派出所" in page
    assert client.get("/linkage/missing/?list=not-a-uuid").status_code == 404
    assert client.get(f"/linkage/disagreements/?list={world.places['A1'].public_id}").status_code == 404


def test_mapping_page_refuses_a_field_chosen_twice(client, world, officer):
    world.login(client, Role.COMMUNITY_OFFICER)
    _upload_page(client, world, _csv(world))
    plist = PartnerList.objects.get()
    response = client.post(f"/linkage/{plist.public_id}/mapping/", {"column_0": "name", "column_1": "name"})
    assert response.status_code == 302
    assert "被指定给了多列" in client.get(response["Location"]).content.decode()
    plist.refresh_from_db()
    assert plist.status == ListStatus.UPLOADED
