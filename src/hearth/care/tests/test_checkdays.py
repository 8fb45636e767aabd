"""Check days (集中康检日): whom a day invites, one tap per person recorded once, declined respected, make-up days,
the attendance rates, the phone sheet and its htmx fragment, the API, and the home page's to-do."""

import json
import re
import uuid
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry
from hearth.care import checkdays, schedule, services, worklists
from hearth.care.models import (
    AbsenceReason,
    CheckDay,
    CheckDayStatus,
    Due,
    Invitation,
    InvitationStatus,
    Outcome,
    ServiceRecord,
)
from hearth.core import citizen_id, time
from hearth.core.errors import DomainError, as_list
from hearth.core.home import todos_for
from hearth.registry.models import Person
from hearth.registry.services import person_register
from hearth.testing import SYSTEM

pytestmark = pytest.mark.django_db

BASE = "/api/v1/care/checkdays"
# The persons of the fixture world living in community A1a (every one a woman of 35–45: health_check's).
A1A = ("A1a", "A1a-b1", "A1a-b1-u1", "A1a-b2")


def _codes(exc) -> dict[str, str]:
    return {e.field: e.code for e in as_list(exc.value)}


@pytest.fixture
def check(world, catalogue):
    """health_check's worklist computed today (never offered: everyone due)."""
    schedule.recompute(catalogue["health_check"], as_of=time.today())
    return catalogue["health_check"]


@pytest.fixture
def officer(world):
    return world.actor(Role.COMMUNITY_OFFICER)


@pytest.fixture
def later(monkeypatch):
    """later(days): the clock moved on by that many days."""
    real = time.now

    def move(days: int) -> None:
        monkeypatch.setattr(time, "now", lambda: real() + timedelta(days=days))

    return move


def _women(world, n: int, key: str = "A1a-b1") -> list[Person]:
    """n more women of 30 in the dwelling at `key`."""
    out = []
    for i in range(n):
        born = date(1995, 1 + i % 12, 1 + i // 12)
        out.append(
            person_register(
                actor=SYSTEM,
                values={
                    "name": f"女{i:02d}",
                    "sex": "F",
                    "birth_date": born,
                    "id_number": citizen_id.make("410103", born, 500 + 2 * i),
                    "dwelling": world.dwellings[key],
                },
            )
        )
    return out


def _plan(actor, world, service, *, place="A1a", held_on=None, **over) -> CheckDay:
    values = {"location": "祥和社区卫生服务站", "held_on": held_on or time.today()} | over
    return checkdays.checkday_plan(actor=actor, service=service, place=world.places[place], **values)


def _inv(day, person) -> Invitation:
    return Invitation.objects.for_system().get(check_day=day, person=person)


def _tap(actor, day, person, status, reason="", token=None):
    return checkdays.attendance_record(
        actor=actor, invitation=_inv(day, person), status=status, reason=reason, client_token=token
    )


# --------------------------------------------------------------------------------------------- planning


def test_plan_invites_exactly_the_actionable_eligible_of_the_community(world, check, officer):
    # One woman of A1a had her check: her row is upcoming (next year). One has died.
    given = world.persons["A1a-b2"]
    services.record_contact(
        actor=officer, person=given, service=check, outcome=Outcome.DONE, consent=True, data={}
    )
    dead = world.persons["A1a-b1-u1"]
    Person.objects.for_system().filter(pk=dead.pk).update(status="deceased")
    day = _plan(officer, world, check)
    invited = set(day.invitations.values_list("person_id", flat=True))
    assert invited == {world.persons["A1a"].pk, world.persons["A1a-b1"].pk}
    # Exactly the community's actionable rows, on the register.
    expected = set(
        Due.objects.for_system()
        .filter(service=check, place_path__startswith=world.places["A1a"].path, person__status="active")
        .filter(checkdays._actionable_q(check, day.held_on))
        .values_list("person_id", flat=True)
    )
    assert invited == expected
    assert day.status == CheckDayStatus.PLANNED and day.place_path == world.places["A1a"].path
    assert set(day.invitations.values_list("status", flat=True)) == {InvitationStatus.INVITED}
    entry = AuditEntry.objects.get(action="care.checkday_plan")
    assert entry.row_count == 2 and entry.data["service"] == "health_check"
    # Planned again for the same service: those already invited to a day to come are not invited twice.
    with pytest.raises(DomainError) as exc:
        _plan(officer, world, check, held_on=time.today() + timedelta(days=3))
    assert _codes(exc) == {"place": "care.checkday_nobody"}


def test_out_of_scope_community_and_other_places_refused(world, check, officer):
    with pytest.raises(DomainError) as exc:
        _plan(officer, world, check, place="A1b")  # the neighbouring community
    assert _codes(exc) == {"place": "care.checkday_scope"}
    assert exc.value.message.startswith("社区：")
    with pytest.raises(DomainError) as exc:
        _plan(officer, world, check, place="A1a-b1")  # a building, not a community
    assert _codes(exc) == {"place": "care.checkday_place"}
    # A volunteer does not deliver the health check; a sub-district officer delivers no service.
    for role in (Role.BUILDING_VOLUNTEER, Role.SUBDISTRICT_OFFICER, Role.CLINIC_STAFF):
        with pytest.raises(DomainError) as exc:
            _plan(world.actor(role), world, check)
        assert exc.value.code == "permission.denied"
    assert not CheckDay.objects.exists()


def test_past_date_and_bad_fields_refused_each_named(world, check, officer, catalogue):
    with pytest.raises(DomainError) as exc:
        _plan(officer, world, check, held_on=time.today() - timedelta(days=1), location=" ")
    assert _codes(exc) == {"held_on": "care.checkday_past", "location": "care.checkday_location"}
    messages = {e.field: str(e.message) for e in as_list(exc.value)}
    assert messages["held_on"].startswith("康检日期：") and messages["location"].startswith("地点：")
    with pytest.raises(DomainError) as exc:
        _plan(officer, world, catalogue["contraceptive_counselling"])  # after an event: not periodic
    assert _codes(exc) == {"service": "care.checkday_service"}


def test_facility_must_serve_the_community(world, check, officer):
    from hearth.places.services import facility_create

    elsewhere = facility_create(
        actor=SYSTEM, name="林山寨卫生服务站", kind="station", place=world.places["B1"],
        served_places=[world.places["B1a"]],
    )  # fmt: skip
    with pytest.raises(DomainError) as exc:
        _plan(officer, world, check, facility=elsewhere)
    assert _codes(exc) == {"facility": "care.checkday_facility"}
    day = _plan(officer, world, check, facility=world.facility)
    assert day.facility == world.facility


# --------------------------------------------------------------------------------------------- attendance


def test_attendance_once_per_token_and_per_answer(world, check, officer):
    day = _plan(officer, world, check)
    person = world.persons["A1a"]
    token = uuid.uuid4()
    inv, changed = _tap(officer, day, person, "attended", token=token)
    assert changed and inv.status == InvitationStatus.ATTENDED and inv.client_token == token
    again, changed_again = _tap(officer, day, person, "attended", token=token)
    assert not changed_again and again.pk == inv.pk
    # Another officer taps the same person at the same moment (another token, the same answer): once.
    other = world.actor(Role.ASSISTANT)
    _inv3, changed3 = _tap(other, day, person, "attended", token=uuid.uuid4())
    assert not changed3
    record = ServiceRecord.objects.for_system().get(person=person, service=check)
    assert record.outcome == Outcome.DONE and record.consent is True and record.occurred_on == day.held_on
    assert record.data == {}
    assert AuditEntry.objects.filter(action="care.checkday_attendance").count() == 1
    assert CheckDay.objects.get(pk=day.pk).status == CheckDayStatus.HELD
    # The worklist row moved to the next cycle.
    due = Due.objects.for_system().get(service=check, person=person)
    assert worklists.status_of(due, check, time.today()) == "upcoming"
    # A token already used for someone else's tap is refused, naming it.
    with pytest.raises(DomainError) as exc:
        _tap(officer, day, world.persons["A1a-b1"], "attended", token=token)
    assert _codes(exc) == {"client_token": "care.token_reused"}


def test_absent_requires_a_reason_and_attended_takes_none(world, check, officer):
    day = _plan(officer, world, check)
    person = world.persons["A1a"]
    with pytest.raises(DomainError) as exc:
        _tap(officer, day, person, "absent")
    assert _codes(exc) == {"reason": "care.attendance_reason"}
    assert "外出" in str(exc.value.message) and str(exc.value.message).startswith("未到原因：")
    with pytest.raises(DomainError) as exc:
        _tap(officer, day, person, "attended", reason="away")
    assert _codes(exc) == {"reason": "care.attendance_reason_extra"}
    with pytest.raises(DomainError) as exc:
        _tap(officer, day, person, "maybe")
    assert _codes(exc) == {"status": "care.attendance_status"}
    inv, _ = _tap(officer, day, person, "absent", reason="ill")
    assert inv.reason == AbsenceReason.ILL
    assert ServiceRecord.objects.for_system().get(person=person).outcome == Outcome.NOT_REACHED
    assert not ServiceRecord.objects.for_system().get(person=person).data


def test_attendance_not_before_the_day_and_not_by_those_who_do_not_deliver(world, check, officer):
    day = _plan(officer, world, check, held_on=time.today() + timedelta(days=2))
    with pytest.raises(DomainError) as exc:
        _tap(officer, day, world.persons["A1a"], "attended")
    assert exc.value.code == "care.attendance_early"
    with pytest.raises(DomainError) as exc:
        _tap(world.actor(Role.SUBDISTRICT_OFFICER), day, world.persons["A1a"], "attended")
    assert exc.value.code == "permission.denied"


def test_correction_on_the_day_only_audited(world, check, officer, later):
    day = _plan(officer, world, check)
    person = world.persons["A1a"]
    _tap(officer, day, person, "attended")
    first = ServiceRecord.objects.for_system().get(person=person)
    inv, changed = _tap(officer, day, person, "absent", reason="away")
    assert changed and inv.status == InvitationStatus.ABSENT
    assert not ServiceRecord.objects.for_system().filter(pk=first.pk).exists()
    assert ServiceRecord.objects.for_system().get(person=person).outcome == Outcome.NOT_REACHED
    entry = AuditEntry.objects.get(action="care.checkday_correct")
    assert entry.reason == "更正" and entry.data["before"]["status"] == "attended"
    assert entry.data["before"]["record"]["outcome"] == "done"
    due = Due.objects.for_system().get(service=check, person=person)
    assert worklists.status_of(due, check, time.today()) == "due"  # not reached: still due
    later(1)
    with pytest.raises(DomainError) as exc:
        _tap(officer, day, person, "attended")
    assert _codes(exc) == {"status": "care.attendance_correct_late"}
    # A person not yet called can still be recorded after the day (a paper sheet typed in).
    _inv2, changed2 = _tap(officer, day, world.persons["A1a-b1"], "attended")
    assert changed2 and ServiceRecord.objects.for_system().get(
        person=world.persons["A1a-b1"]
    ).occurred_on == (day.held_on)


def test_declined_closes_the_cycle_and_makeup_invites_the_other_absent_only(world, check, officer, later):
    day = _plan(officer, world, check)
    came, declined, away, silent = (world.persons[k] for k in A1A)
    _tap(officer, day, came, "attended")
    _tap(officer, day, declined, "absent", reason="declined")
    _tap(officer, day, away, "absent", reason="away")
    # Declined: a declined contact, the row moves to next year's cycle (no reminders, no notices till then).
    assert ServiceRecord.objects.for_system().get(person=declined).outcome == Outcome.DECLINED
    row = Due.objects.for_system().get(service=check, person=declined)
    assert worklists.status_of(row, check, time.today()) == "upcoming"
    with pytest.raises(DomainError) as exc:  # not while the day is on
        checkdays.checkday_makeup(actor=officer, day=day, held_on=time.today(), location="服务站")
    assert exc.value.code == "care.makeup_early"
    later(1)
    makeup = checkdays.checkday_makeup(
        actor=officer, day=day, held_on=time.today() + timedelta(days=6), location="服务站"
    )
    assert set(makeup.invitations.values_list("person_id", flat=True)) == {away.pk, silent.pk}
    assert makeup.makeup_of_id == day.pk and makeup.origin_id == day.pk
    assert CheckDay.objects.get(pk=day.pk).status == CheckDayStatus.CLOSED
    assert AuditEntry.objects.get(action="care.checkday_makeup").row_count == 2
    # The first day's sheet is final now, and it has its make-up.
    with pytest.raises(DomainError) as exc:
        _tap(officer, day, silent, "attended")
    assert exc.value.code == "care.attendance_closed"
    with pytest.raises(DomainError) as exc:
        checkdays.checkday_makeup(
            actor=officer, day=day, held_on=time.today() + timedelta(days=9), location="站"
        )
    assert exc.value.code == "care.makeup_exists"
    # Declined on the make-up day: respected there too, and no further make-up for them.
    later(7)
    _tap(officer, makeup, away, "absent", reason="declined")
    _tap(officer, makeup, silent, "absent", reason="ill")
    later(8)
    second = checkdays.checkday_makeup(
        actor=officer, day=makeup, held_on=time.today() + timedelta(days=1), location="服务站"
    )
    assert list(second.invitations.values_list("person_id", flat=True)) == [silent.pk]
    assert second.makeup_of_id == makeup.pk and second.origin_id == day.pk


def test_rates_same_day_and_after_makeup(world, check, officer, later):
    women = _women(world, 20)
    schedule.recompute(check, as_of=time.today())
    # The fixture's own four of A1a are already invited elsewhere: plan them a day of their own first.
    _plan(officer, world, check, held_on=time.today() + timedelta(days=1))
    Invitation.objects.for_system().filter(person__in=women).delete()
    day = _plan(officer, world, check)
    assert day.invitations.count() == 20
    _tap(officer, day, women[0], "absent", reason="declined")
    _tap(officer, day, women[1], "absent", reason="away")
    for w in women[2:]:
        _tap(officer, day, w, "attended")
    rates = checkdays.checkday_rates(day)
    assert (rates.invited, rates.declined, rates.base, rates.attended_same_day) == (20, 1, 19, 18)
    assert rates.same_day_rate == pytest.approx(18 / 19) and rates.same_day_met is False
    assert rates.after_makeup_rate == pytest.approx(18 / 19) and rates.after_makeup_met is False
    later(1)
    makeup = checkdays.checkday_makeup(actor=officer, day=day, held_on=time.today(), location="服务站")
    assert list(makeup.invitations.values_list("person_id", flat=True)) == [women[1].pk]
    _tap(officer, makeup, women[1], "attended")
    for d in (day, makeup):  # a make-up day reports its chain
        rates = checkdays.checkday_rates(d)
        assert (rates.invited, rates.declined, rates.attended_same_day, rates.attended_after_makeup) == (
            20, 1, 18, 19,
        )  # fmt: skip
        assert rates.same_day_rate == pytest.approx(18 / 19) and rates.after_makeup_rate == 1.0
        assert rates.after_makeup_met is True and rates.same_day_target == 0.95
    by_root = checkdays.rates_for([day, makeup])
    assert list(by_root) == [day.pk] and by_root[day.pk].attended_after_makeup == 19


def test_clinic_staff_see_the_days_held_at_their_facility_only(world, check, officer):
    plain = _plan(officer, world, check, place="A1a")
    at_station = CheckDay.objects.create(
        service=check, place=world.places["A1b"], place_path=world.places["A1b"].path, location="服务站",
        held_on=time.today(), facility=world.facility, created_by=world.grants[Role.SUBDISTRICT_OFFICER],
    )  # fmt: skip
    person = world.persons["A1b"]
    Invitation.objects.create(check_day=at_station, person=person, place_path=person.place_path)
    clinic = world.actor(Role.CLINIC_STAFF)
    assert list(checkdays.days_for(clinic)) == [at_station]
    assert plain not in checkdays.days_for(world.actor(Role.BUILDING_VOLUNTEER))  # not their service
    assert list(checkdays.reach_invitations(world.facility)) == [{"person_id": person.pk}]


# --------------------------------------------------------------------------------------------- pages


def _html(response) -> str:
    return response.content.decode()


def _tokens(page: str) -> list[str]:
    return re.findall(r'name="client_token" value="([0-9a-f-]{36})"', page)


def test_sheet_renders_for_the_phone_with_a_token_per_button(client, world, check, officer):
    day = _plan(officer, world, check)
    world.login(client, Role.COMMUNITY_OFFICER)
    response = client.get(f"/care/checkdays/{day.public_id}/")
    assert response.status_code == 200
    page = _html(response)
    assert 'name="viewport"' in page and "<progress" in page and "≥95%" in page
    assert page.count(">到场</button>") == 4 and "本人谢绝" in page and "身体原因" in page
    tokens = _tokens(page)
    assert len(tokens) == 4 and len(set(tokens)) == 4  # one form per person, its own token
    assert 'hx-post="/care/checkdays/' in page and 'hx-swap="outerHTML"' in page
    assert " style=" not in page and " onclick" not in page
    assert AuditEntry.objects.filter(action="care.checkday_view", row_count=4).exists()
    # Filters: by status and by name.
    assert (
        client.get(f"/care/checkdays/{day.public_id}/?status=attended")
        .content.decode()
        .count(">到场</button>")
        == 0
    )
    one = _html(client.get(f"/care/checkdays/{day.public_id}/?q=A1a-b2"))
    assert "居民A1a-b2" in one and "居民A1a-b1<" not in one


def test_tap_without_js_records_once_under_a_double_post(client, world, check, officer):
    day = _plan(officer, world, check)
    world.login(client, Role.COMMUNITY_OFFICER)
    person = world.persons["A1a"]
    url = f"/care/checkdays/{day.public_id}/attendance/"
    body = {"person_id": str(person.public_id), "status": "attended", "client_token": str(uuid.uuid4()),
            "next": f"/care/checkdays/{day.public_id}/?status=invited"}  # fmt: skip
    first = client.post(url, body)
    second = client.post(url, body)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == f"/care/checkdays/{day.public_id}/?status=invited#inv-{person.public_id}"
    assert ServiceRecord.objects.for_system().filter(person=person).count() == 1
    assert AuditEntry.objects.filter(action="care.checkday_attendance").count() == 1
    # An outside `next` is not followed.
    body2 = body | {"client_token": str(uuid.uuid4()), "next": "https://example.com/x"}
    assert client.post(url, body2)["Location"].startswith(f"/care/checkdays/{day.public_id}/#inv-")
    # A person not invited to the day, or a malformed id: 404.
    stranger = body | {"person_id": str(world.persons["A1b"].public_id)}
    assert client.post(url, stranger).status_code == 404
    assert client.post(url, body | {"person_id": "nope"}).status_code == 404
    assert client.get(url).status_code == 405


def test_tap_with_htmx_returns_the_row_and_the_counters(client, world, check, officer):
    day = _plan(officer, world, check)
    world.login(client, Role.COMMUNITY_OFFICER)
    person = world.persons["A1a-b1"]
    url = f"/care/checkdays/{day.public_id}/attendance/"
    # The sheet's reason buttons send the reason alone: that is 未到.
    body = {"person_id": str(person.public_id), "reason": "away", "note": "去郑州了",
            "client_token": str(uuid.uuid4())}  # fmt: skip
    response = client.post(url, body, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = _html(response)
    assert page.lstrip().startswith(f'<li class="list-group-item" id="inv-{person.public_id}">')
    assert "未到：外出" in page and "去郑州了" in page
    assert 'id="checkday-counters"' in page and 'hx-swap-oob="true"' in page
    # The tabs' counts follow the tap too, keeping the tab the sheet showed.
    tabs = re.search(r'<nav id="sheet-tabs"[^>]*hx-swap-oob="true"[^>]*>(.*?)</nav>', page, re.S).group(1)
    invited = Invitation.objects.for_system().filter(check_day=day).count()
    assert re.search(r"未到 <span[^>]*>1</span>", tabs) and re.search(
        rf"待点名 <span[^>]*>{invited - 1}</span>", tabs
    )
    assert "更正" in page  # on the day, a tap can be corrected
    shown = client.post(
        url, body | {"client_token": str(uuid.uuid4()), "next": f"/care/checkdays/{day.public_id}/?status=invited"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert re.search(r'class="nav-link text-nowrap active" href="\?status=invited"', _html(shown))
    # A refusal is shown in the row (htmx swaps only 2xx answers).
    bad = client.post(
        url,
        body | {"status": "absent", "reason": "", "client_token": str(uuid.uuid4())},
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 200 and "未到原因：" in _html(bad)
    assert Invitation.objects.for_system().get(person=person).reason == "away"


def test_plan_page_and_list_page(client, world, check):
    world.login(client, Role.COMMUNITY_OFFICER)
    page = _html(client.get("/care/checkdays/new/"))
    assert 'type="date"' in page and "康检/访视" in page and "祥和社区" in page and "学苑社区" not in page
    past = client.post(
        "/care/checkdays/new/",
        {"service": "health_check", "place": str(world.places["A1a"].public_id),
         "held_on": (time.today() - timedelta(days=1)).isoformat(), "location": "服务站"},
    )  # fmt: skip
    assert past.status_code == 422 and "康检日期：不能早于今天。" in _html(past)
    made = client.post(
        "/care/checkdays/new/",
        {"service": "health_check", "place": str(world.places["A1a"].public_id),
         "held_on": time.today().isoformat(), "location": "服务站", "facility": str(world.facility.public_id)},
    )  # fmt: skip
    day = CheckDay.objects.get()
    assert made.status_code == 302 and made["Location"] == f"/care/checkdays/{day.public_id}/"
    listing = _html(client.get("/care/checkdays/"))
    assert f"/care/checkdays/{day.public_id}/" in listing and "≥95%" in listing


def test_list_page_queries_do_not_grow_with_days(client, world, check, officer):
    world.login(client, Role.COMMUNITY_OFFICER)
    community = world.places["A1a"]

    def add(held_on, makeup_of=None) -> CheckDay:
        day = CheckDay.objects.create(
            service=check, place=community, place_path=community.path, location="站", held_on=held_on,
            makeup_of=makeup_of, origin=makeup_of, created_by=world.grants[Role.COMMUNITY_OFFICER],
        )  # fmt: skip
        for key in A1A:
            person = world.persons[key]
            Invitation.objects.create(check_day=day, person=person, place_path=person.place_path)
        return day

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/care/checkdays/").status_code == 200
        return len(ctx.captured_queries)

    first = add(time.today() - timedelta(days=30))
    add(time.today() + timedelta(days=1))
    one = count()
    add(time.today() - timedelta(days=20), makeup_of=first)
    for i in range(2, 6):
        add(time.today() + timedelta(days=i))
        add(time.today() - timedelta(days=i))
    assert count() == one


def test_makeup_page(client, world, check, officer, later):
    day = _plan(officer, world, check)
    _tap(officer, day, world.persons["A1a"], "absent", reason="ill")
    world.login(client, Role.COMMUNITY_OFFICER)
    assert client.get(f"/care/checkdays/{day.public_id}/makeup/").status_code == 404  # the day is on
    later(1)
    sheet = _html(client.get(f"/care/checkdays/{day.public_id}/"))
    assert f"/care/checkdays/{day.public_id}/makeup/" in sheet
    assert ">到场</button>" in sheet  # those not called can still be typed in; no correction after the day
    form = client.get(f"/care/checkdays/{day.public_id}/makeup/")
    assert form.status_code == 200 and "安排补检" in _html(form)
    made = client.post(
        f"/care/checkdays/{day.public_id}/makeup/",
        {"held_on": time.today().isoformat(), "location": "服务站"},
    )
    makeup = CheckDay.objects.get(makeup_of=day)
    assert made.status_code == 302 and made["Location"] == f"/care/checkdays/{makeup.public_id}/"
    assert makeup.invitations.count() == 4  # the one absent (ill) and the three never called
    closed = _html(client.get(f"/care/checkdays/{day.public_id}/"))
    assert ">到场</button>" not in closed and f"/care/checkdays/{makeup.public_id}/" in closed


def test_home_page_lists_todays_days_to_call(world, check, officer):
    day = _plan(officer, world, check)
    _tap(officer, day, world.persons["A1a"], "attended")
    todos = [t for t in todos_for(officer) if "康检点名" in t.label]
    assert len(todos) == 1 and todos[0].count == 3 and todos[0].url == f"/care/checkdays/{day.public_id}/"
    assert not [t for t in todos_for(world.actor(Role.SUBDISTRICT_OFFICER)) if "康检点名" in t.label]


# --------------------------------------------------------------------------------------------- API


def _send(client, url: str, body: dict):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _errors(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return {e["loc"][-1]: e["type"] for e in response.json()["detail"]}


def test_api_happy_path(client, world, check, later):
    world.login(client, Role.COMMUNITY_OFFICER)
    made = _send(
        client, BASE,
        {"service": "health_check", "place_id": str(world.places["A1a"].public_id),
         "held_on": time.today().isoformat(), "location": "服务站", "facility_id": str(world.facility.public_id)},
    )  # fmt: skip
    assert made.status_code == 201, made.content
    day = made.json()
    assert day["counts"]["invited"] == 4 and len(day["invitations"]) == 4
    assert day["facility_name"] == world.facility.name and day["rates"]["same_day_target"] == 0.95
    person = world.persons["A1a"]
    tap = {"person_id": str(person.public_id), "status": "attended", "client_token": str(uuid.uuid4())}
    first = _send(client, f"{BASE}/{day['id']}/attendance", tap)
    again = _send(client, f"{BASE}/{day['id']}/attendance", tap)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["status"] == "attended" and again.json() == first.json()
    declined = {"person_id": str(world.persons["A1a-b1"].public_id), "status": "absent", "reason": "declined"}
    assert _send(client, f"{BASE}/{day['id']}/attendance", declined).json()["reason_display"] == "本人谢绝"
    got = client.get(f"{BASE}/{day['id']}").json()
    assert got["counts"] == {"invited": 4, "attended": 1, "absent": 1, "declined": 1, "pending": 2}
    assert got["rates"]["base"] == 3 and got["rates"]["same_day_rate"] == pytest.approx(1 / 3)
    listed = client.get(f"{BASE}?when=upcoming").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == day["id"]
    later(1)
    makeup = _send(
        client, f"{BASE}/{day['id']}/makeup", {"held_on": time.today().isoformat(), "location": "服务站"}
    )
    assert makeup.status_code == 201 and makeup.json()["makeup_of"] == day["id"]
    assert {i["name"] for i in makeup.json()["invitations"]} == {"居民A1a-b1-u1", "居民A1a-b2"}
    assert client.get(f"{BASE}?when=past").json()["items"][0]["status"] == "closed"


def test_api_bad_input_is_422_naming_the_field(client, world, check):
    world.login(client, Role.COMMUNITY_OFFICER)
    community = str(world.places["A1a"].public_id)
    good = {"service": "health_check", "place_id": community, "held_on": time.today().isoformat(),
            "location": "服务站"}  # fmt: skip
    yesterday = (time.today() - timedelta(days=1)).isoformat()
    assert _errors(_send(client, BASE, good | {"held_on": yesterday, "location": ""})) == {
        "held_on": "care.checkday_past", "location": "care.checkday_location",
    }  # fmt: skip
    assert "held_on" in _errors(_send(client, BASE, good | {"held_on": "2026-13-01"}))
    assert _errors(_send(client, BASE, good | {"service": "no_such"})) == {"service": "care.checkday_service"}
    assert _errors(_send(client, BASE, good | {"place_id": str(world.places["A1a-b1"].public_id)})) == {
        "place": "care.checkday_place"
    }
    assert _errors(_send(client, BASE, good | {"facility_id": str(uuid.uuid4())})) == {
        "facility_id": "care.checkday_facility"
    }
    assert _errors(_send(client, BASE, {"service": "health_check"})).keys() >= {"place_id", "held_on"}
    assert _send(client, BASE, good | {"place_id": str(world.places["A1b"].public_id)}).status_code == 404
    assert client.get(f"{BASE}?when=someday").status_code == 422
    day = _send(client, BASE, good).json()
    tap = f"{BASE}/{day['id']}/attendance"
    person = str(world.persons["A1a"].public_id)
    assert _errors(_send(client, tap, {"person_id": person, "status": "absent"})) == {
        "reason": "care.attendance_reason"
    }
    assert _errors(_send(client, tap, {"person_id": person, "status": "here"})) == {
        "status": "care.attendance_status"
    }
    assert _errors(_send(client, tap, {"person_id": "x", "status": "attended"})) == {
        "person_id": "uuid_parsing"
    }
    assert (
        _send(
            client, tap, {"person_id": str(world.persons["A1b"].public_id), "status": "attended"}
        ).status_code
        == 404
    )
    assert _errors(
        _send(client, f"{BASE}/{day['id']}/makeup", {"held_on": time.today().isoformat(), "location": "站"})
    ) == {"held_on": "care.makeup_early"}
