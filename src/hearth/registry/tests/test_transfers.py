"""迁移申请: registering a number held elsewhere becomes a request the holding place decides."""

from datetime import date

import pytest

from hearth.accounts.actor import actor_for
from hearth.accounts.models import Grant
from hearth.accounts.services import grant_create
from hearth.core import citizen_id
from hearth.core.errors import DomainError
from hearth.registry import identity, transfers
from hearth.registry.models import EventKind, LifeEvent, Person, TransferRequest, TransferStatus
from hearth.testing import SYSTEM


def _new(world, number, born):
    return {
        "name": "迁来人",
        "sex": "F",
        "birth_date": born,
        "id_number": number,
        "dwelling": str(world.dwellings["A1a"].public_id),
        "residence_type": "hukou_resident",
    }


def test_duplicate_at_the_counter_offers_a_transfer_without_showing_the_record(world, client, login):
    held = world.persons["A2a"]  # another sub-district: not visible to 祥和's officer
    login(world, "community_officer")
    r = client.post("/persons/new/", _new(world, identity.reveal(held), held.birth_date))
    page = r.content.decode()
    assert r.status_code == 200 and "申请迁入" in page
    assert held.name not in page and held.dwelling.full_address not in page
    r = client.post(
        "/transfers/new/",
        {
            "id_type": "resident_id",
            "id_number": identity.reveal(held),
            "dwelling": str(world.dwellings["A1a"].public_id),
            "note": "本人已在祥和社区租住",
        },
    )
    assert r.status_code == 302
    req = TransferRequest.objects.get()
    assert req.person == held and req.status == TransferStatus.PENDING
    # The requester's list shows the request but not the person.
    page = client.get("/transfers/").content.decode()
    assert held.name not in page and "待处理" in page


def test_holding_officer_approves_and_the_person_moves(world):
    held = world.persons["A2a"]
    requester = world.actor("community_officer")
    req = transfers.transfer_request(
        actor=requester,
        id_type="resident_id",
        raw_number=identity.reveal(held),
        to_dwelling=world.dwellings["A1a"],
    )
    assert not Person.objects.visible_to(requester).filter(pk=held.pk).exists()
    holder = world.actor("district_admin")
    with pytest.raises(DomainError):  # the district admin may not change persons
        transfers.transfer_decide(actor=holder, request=req, approve=True)
    g = grant_create(
        actor=SYSTEM, user=world.users["assistant"], role="community_officer", place=world.places["A2a"]
    )
    a2a_officer = actor_for(Grant.objects.select_related("place", "user").get(pk=g.pk), ip="127.0.0.1")
    transfers.transfer_decide(actor=a2a_officer, request=req, approve=True)
    held = Person.objects.for_system().get(pk=held.pk)
    assert held.dwelling == world.dwellings["A1a"]
    assert Person.objects.visible_to(requester).filter(pk=held.pk).exists()
    assert LifeEvent.objects.filter(person=held, kind=EventKind.DWELLING_CHANGE).exists()
    with pytest.raises(DomainError) as exc:
        transfers.transfer_decide(actor=a2a_officer, request=req, approve=False, reason="重复处理")
    assert exc.value.code == "transfer.decided"


def test_decline_needs_a_reason_and_a_second_request_waits(world):
    held = world.persons["B1a"]
    requester = world.actor("community_officer")
    number = identity.reveal(held)
    transfers.transfer_request(
        actor=requester, id_type="resident_id", raw_number=number, to_dwelling=world.dwellings["A1a"]
    )
    with pytest.raises(DomainError) as exc:
        transfers.transfer_request(
            actor=requester, id_type="resident_id", raw_number=number, to_dwelling=world.dwellings["A1a"]
        )
    assert exc.value.code == "transfer.pending"


def test_a_number_in_scope_or_unknown_is_not_a_transfer(world):
    requester = world.actor("community_officer")
    with pytest.raises(DomainError) as exc:
        transfers.transfer_request(
            actor=requester,
            id_type="resident_id",
            raw_number=identity.reveal(world.persons["A1a"]),
            to_dwelling=world.dwellings["A1a"],
        )
    assert exc.value.code == "transfer.in_scope"
    born = date(1999, 9, 9)
    with pytest.raises(DomainError) as exc:
        transfers.transfer_request(
            actor=requester,
            id_type="resident_id",
            raw_number=citizen_id.make("410103", born, 5),
            to_dwelling=world.dwellings["A1a"],
        )
    assert exc.value.code == "transfer.unknown"
