"""Matching a partner list end to end: upload, mapping, link, review, facts, contacts, duplicates."""

import uuid
from datetime import date

import pytest

from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry
from hearth.core import citizen_id
from hearth.core.errors import DomainError
from hearth.linkage import engine, services
from hearth.linkage.models import (
    Decision,
    DuplicatePair,
    FactProposal,
    LinkDecision,
    ListStatus,
    PartnerKind,
    PartnerRecord,
    ProposalStatus,
    RecordStatus,
)
from hearth.registry import identity
from hearth.registry.models import EventKind, EventSource, LifeEvent, Person, PersonStatus

ABSENT_ID = citizen_id.make("410103", date(1991, 4, 5), 21)


def _csv(world, *, death: bool = False) -> bytes:
    known = world.persons["A1a"]
    other = world.persons["A1a-b1"]
    outside = world.persons["B1a"]
    head = "姓名,身份证号,性别,出生日期,现住址,联系电话" + (",死亡日期" if death else "")
    tail = ",2026-10-01" if death else ""
    lines = [
        "幸福派出所户籍人口名单",
        head,
        # The same person, with a new phone.
        f"{known.name},{identity.reveal(known)},女,{known.birth_date.isoformat()},,13900000002{tail}",
        # A homophone of the name, no ID, day and month as written: review or sure depends on the rest.
        f"刘桂莹,,女,{other.birth_date.isoformat()},,{tail}",
        # Registered, but in another district: not missing.
        f"{outside.name},{identity.reveal(outside)},,,,{tail}",
        # On the list, not on file: 漏档.
        f"孙悟空,{ABSENT_ID},男,1991-04-05,1号楼1单元301室,{tail}",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _linked(world, officer, **kw):
    plist = services.list_upload(
        actor=officer, data=_csv(world, death=kw.get("death", False)), filename="名单.csv",
        kind=kw.get("kind", PartnerKind.POLICE_HUKOU), source="幸福派出所", place=world.places["A1a"],
    )  # fmt: skip
    services.list_start(actor=officer, plist=plist, enqueue=False)
    return services.run_link(plist.pk)


def _rows(plist) -> dict[int, PartnerRecord]:
    return {r.row: r for r in PartnerRecord.objects.for_system().filter(partner_list=plist)}


def test_upload_suggests_the_mapping_and_refuses_bad_input(world, officer):
    plist = services.list_upload(
        actor=officer, data=_csv(world), filename="名单.csv", kind="police_hukou", source="派出所",
        place=world.places["A1a"],
    )  # fmt: skip
    assert plist.mapping == {"name": 0, "id_number": 1, "sex": 2, "birth_date": 3, "address": 4, "phone": 5}
    assert AuditEntry.objects.filter(action="link.upload").count() == 1
    with pytest.raises(DomainError) as exc:
        services.list_upload(
            actor=officer, data=b"", filename="x.csv", kind="nope", source="", place=world.places["B1"]
        )
    fields = {e.field for e in exc.value.errors}
    assert {"kind", "source", "place"} <= fields


def test_link_classifies_rows_without_keeping_the_number(world, officer):
    plist = _linked(world, officer)
    assert plist.status == ListStatus.LINKED, plist.message
    rows = _rows(plist)
    known, outside = world.persons["A1a"], world.persons["B1a"]
    assert rows[3].status == RecordStatus.SURE and rows[3].person_id == known.pk
    assert rows[3].disagreements["phone"] == ["138****0001", "13900000002"]
    assert {e["comparison"] for e in rows[3].explanation} >= {"证件号码", "姓名", "出生日期"}
    assert rows[5].status == RecordStatus.ELSEWHERE and rows[5].person_id is None
    assert rows[6].status == RecordStatus.UNMATCHED
    assert rows[6].id_masked.endswith(ABSENT_ID[-4:]) and ABSENT_ID not in str(rows[6].__dict__)
    assert rows[6].id_index == identity.index_of("resident_id", ABSENT_ID)
    assert plist.counts["rows"] == 4 and plist.counts[RecordStatus.UNMATCHED] == 1
    assert plist.candidate_pairs and plist.stage_seconds["extract"] >= 0
    # Matching the stored rows again (in place) gives the same answer.
    again = services.link(plist, actor=officer)
    assert {k: v for k, v in again.items()} == {k: v for k, v in plist.counts.items()}
    assert {r.row: (r.status, r.person_id) for r in _rows(plist).values()} == {
        r.row: (r.status, r.person_id) for r in rows.values()
    }
    # The other district's person never reached the model: only the list's place was extracted.
    assert outside.pk not in {r.person_id for r in rows.values()}


def test_review_decisions_are_remembered_for_the_next_list(world, officer):
    plist = _linked(world, officer)
    rec = _rows(plist)[4]
    other = world.persons["A1a-b1"]
    assert rec.status in (RecordStatus.POSSIBLE, RecordStatus.SURE) and rec.person_id == other.pk
    if rec.status == RecordStatus.SURE:
        pytest.skip("the homophone row was sure on this data")
    services.decide(actor=officer, record=rec, person=other, decision=Decision.DIFFERENT)
    rec.refresh_from_db()
    assert rec.status == RecordStatus.UNMATCHED
    assert LinkDecision.objects.get(fingerprint=rec.fingerprint).decision == Decision.DIFFERENT
    again = _linked(world, officer)
    assert _rows(again)[4].status == RecordStatus.UNMATCHED  # not asked again
    services.decide(
        actor=officer, record=_rows(again)[3], person=world.persons["A1a"], decision=Decision.SAME
    )
    assert _rows(again)[3].status == RecordStatus.ACCEPTED


def test_death_list_proposes_facts_confirmed_in_bulk(world, officer):
    plist = _linked(world, officer, kind=PartnerKind.DEATH, death=True)
    proposals = list(FactProposal.objects.visible_to(officer).filter(record__partner_list=plist))
    assert [(p.person_id, p.kind) for p in proposals] == [(world.persons["A1a"].pk, EventKind.DEATH)]
    assert services.confirm_facts(actor=officer, proposals=proposals) == 1
    person = Person.objects.for_system().get(pk=world.persons["A1a"].pk)
    assert person.status == PersonStatus.DECEASED
    event = LifeEvent.objects.for_system().get(person=person, kind=EventKind.DEATH)
    assert event.source == EventSource.PARTNER_LIST and event.reporter == "幸福派出所"
    assert FactProposal.objects.for_system().get().status == ProposalStatus.CONFIRMED
    # Next month's death list names her again: matched (not "elsewhere", not missing), nothing to confirm.
    again = _linked(world, officer, kind=PartnerKind.DEATH, death=True)
    assert _rows(again)[3].status == RecordStatus.SURE
    assert not FactProposal.objects.for_system().filter(record__partner_list=again).exists()


def test_apply_contacts_records_a_change_event(world, officer):
    plist = _linked(world, officer)
    applied = services.apply_contacts(actor=officer, plist=plist)
    assert applied["phone"] == 1
    person = Person.objects.for_system().get(pk=world.persons["A1a"].pk)
    assert person.phone == "13900000002"
    assert LifeEvent.objects.for_system().filter(person=person, source=EventSource.PARTNER_LIST).exists()


def test_a_volunteer_cannot_link(world):
    volunteer = world.actor(Role.BUILDING_VOLUNTEER)
    with pytest.raises(DomainError):
        services.list_upload(
            actor=volunteer, data=b"a", filename="x.csv", kind="police_hukou", source="x", place=None
        )


def test_duplicates_found_in_the_registry(world, officer):
    known = world.persons["A1a"]
    twin = Person.objects.for_system().get(pk=known.pk)
    twin.pk = None
    twin.public_id = uuid.uuid4()
    twin.id_cipher, twin.id_index, twin.id_tail6, twin.id_tail4 = None, None, "", ""
    twin.save()
    subdistrict = world.actor(Role.SUBDISTRICT_OFFICER)
    assert services.find_duplicates(actor=subdistrict, place=world.places["A1"]) >= 1
    pair = DuplicatePair.objects.visible_to(subdistrict).get()
    assert {pair.first_id, pair.second_id} == {known.pk, twin.pk}
    assert services.find_duplicates(actor=subdistrict, place=world.places["A1"]) == 0  # listed once
    services.dismiss_duplicate(actor=subdistrict, pair=pair)
    with pytest.raises(DomainError):
        services.dismiss_duplicate(actor=subdistrict, pair=pair)


def test_explain_names_the_level_and_its_weight():
    row = {"bf_id": 0.93 / 1e-8, "bf_name": 0.005 / 0.99, "bf_contact": 1.0}
    out = {e["comparison"]: e for e in engine.explain(row)}
    assert out["证件号码"] == {"comparison": "证件号码", "level": "证件号码一致", "weight": 26.5}
    assert out["姓名"]["level"] == "姓名不同" and out["姓名"]["weight"] == -7.6
    assert out["住址和电话"]["level"] == "缺失"


def test_the_command_line_links_as_its_user(world, officer, tmp_path):
    import io

    from django.core.management import CommandError, call_command

    path = tmp_path / "名单.csv"
    path.write_bytes(_csv(world))
    out = io.StringIO()
    user = world.users[Role.COMMUNITY_OFFICER].username
    call_command(
        "link",
        str(path),
        kind="police_hukou",
        source="幸福派出所",
        place="410103001001",
        user=user,
        stdout=out,
    )
    assert "(linked)" in out.getvalue() and '"unmatched": 1' in out.getvalue()
    assert "candidate pairs" in out.getvalue()
    with pytest.raises(CommandError, match="may link"):
        call_command(
            "link", str(path), source="x", place="410103001001", user=world.users[Role.AUDITOR].username
        )
    out = io.StringIO()
    subdistrict = world.users[Role.SUBDISTRICT_OFFICER].username
    call_command("link", duplicates=True, place="410103001000", user=subdistrict, stdout=out)
    assert "likely duplicate pairs" in out.getvalue()
