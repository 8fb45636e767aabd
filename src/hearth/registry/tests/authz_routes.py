import itertools
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from hearth.accounts.actor import Actor
from hearth.accounts.roles import Role
from hearth.audit.models import ExportRequest
from hearth.core import citizen_id
from hearth.registry import identity
from hearth.registry.models import Person
from hearth.registry.services import record_event
from tests.authz import (
    EXPORTERS,
    ID_REVEALERS,
    PERSON_CREATORS,
    PERSON_EDITORS,
    PERSON_READERS,
    RouteCase,
    allow,
    allow_in_scope,
)

_person = lambda ctx: {"public_id": ctx.person.public_id}  # noqa: E731
_api_person = lambda ctx: {"person_id": ctx.person.public_id}  # noqa: E731
# Clinic staff may open the list, which shows them nobody until their facility enrols someone.
LIST_READERS = PERSON_READERS | {Role.CLINIC_STAFF}
_seq = itertools.count(500)


def _approved_export(ctx):
    grant = ctx.world.grants[ctx.role]
    req = ExportRequest.objects.create(
        kind="persons",
        params={"q": ""},
        row_count=1,
        reason="matrix",
        requested_by=grant,
        place_path=grant.scope_place.path,
        status=ExportRequest.Status.APPROVED,
    )
    return {"public_id": req.public_id}


def _new_person(ctx):
    home = ctx.world.persons["A1a"] if ctx.role != Role.BUILDING_VOLUNTEER else ctx.world.persons["A1a-b1"]
    born = date(1990, 5, 17)
    return {
        "name": "新居民",
        "sex": "M",
        "birth_date": born.isoformat(),
        "id_number": citizen_id.make("410103", born, next(_seq) % 500 * 2 + 1),
        "dwelling_id": str(home.dwelling.public_id),
    }


ROUTES = [
    RouteCase("registry:person_list", expect=allow(LIST_READERS)),
    RouteCase("registry:person_create", expect=allow(PERSON_CREATORS)),
    RouteCase(
        "registry:person_export",
        method="post",
        data=lambda ctx: {"reason": "矩阵测试"},
        expect=allow(EXPORTERS),
    ),
    RouteCase("registry:person_export_download", kwargs=_approved_export, expect=allow(EXPORTERS)),
    RouteCase("registry:person_detail", kwargs=_person, expect=allow_in_scope(PERSON_READERS)),
    RouteCase("registry:person_edit", kwargs=_person, expect=allow_in_scope(PERSON_EDITORS)),
    RouteCase(
        "registry:person_reveal",
        method="post",
        kwargs=_person,
        data=lambda ctx: {"reason": "核对身份"},
        expect=allow_in_scope(ID_REVEALERS),
    ),
    RouteCase("api:list_persons", expect=allow(LIST_READERS), anonymous=401),
    RouteCase(
        "api:search_persons",
        method="post",
        json=True,
        data=lambda ctx: {"id_number": identity.reveal(ctx.person)[-4:]},
        expect=allow(LIST_READERS),
        anonymous=401,
    ),
    RouteCase(
        "api:create_person",
        method="post",
        json=True,
        data=_new_person,
        expect=allow(PERSON_CREATORS, ok=201),
        anonymous=401,
    ),
    RouteCase("api:get_person", kwargs=_api_person, expect=allow_in_scope(PERSON_READERS), anonymous=401),
    RouteCase(
        "api:update_person",
        method="patch",
        json=True,
        kwargs=_api_person,
        data=lambda ctx: {"version": 1, "name": "改名"},
        expect=allow_in_scope(PERSON_EDITORS),
        anonymous=401,
    ),
    RouteCase(
        "api:reveal_id",
        method="post",
        json=True,
        kwargs=_api_person,
        data=lambda ctx: {"reason": "核对身份"},
        expect=allow_in_scope(ID_REVEALERS),
        anonymous=401,
    ),
]

FULL_READERS = LIST_READERS - {Role.BUILDING_VOLUNTEER}
_SYSTEM = Actor.system("matrix")


def _hukou_event(ctx):
    """A revertible event on the target person, recorded by the system before the call."""
    person = Person.objects.get(pk=ctx.person.pk)
    return record_event(
        actor=_SYSTEM,
        person=person,
        kind="hukou_change",
        occurred_on=date(2024, 1, 2),
        version=person.version,
        details={"hukou_code": "410102"},
    )


def _event_with_attachment(ctx):
    person = Person.objects.get(pk=ctx.person.pk)
    return record_event(
        actor=_SYSTEM,
        person=person,
        kind="hukou_change",
        occurred_on=date(2024, 1, 2),
        version=person.version,
        details={"hukou_code": "410102"},
        attachment=SimpleUploadedFile("证明.pdf", b"%PDF-1.4 matrix", content_type="application/pdf"),
    )


ROUTES += [
    RouteCase("registry:event_create", kwargs=_person, expect=allow_in_scope(PERSON_EDITORS)),
    RouteCase("registry:birth_create", kwargs=_person, expect=allow_in_scope(PERSON_EDITORS)),
    RouteCase(
        "registry:event_correct",
        method="post",
        kwargs=lambda ctx: {"public_id": _hukou_event(ctx).public_id},
        data=lambda ctx: {"reason": "录入错误", "version": Person.objects.get(pk=ctx.person.pk).version},
        expect=allow_in_scope(PERSON_EDITORS, ok=302),
    ),
    RouteCase(
        "registry:event_attachment",
        kwargs=lambda ctx: {"public_id": _event_with_attachment(ctx).public_id},
        expect=allow_in_scope(FULL_READERS - {Role.CLINIC_STAFF}),
    ),
    RouteCase("api:list_events", expect=allow(FULL_READERS), anonymous=401),
    RouteCase(
        "api:create_event",
        method="post",
        json=True,
        data=lambda ctx: {
            "person_id": str(ctx.person.public_id),
            "kind": "hukou_change",
            "occurred_on": "2024-03-01",
            "version": Person.objects.get(pk=ctx.person.pk).version,
            "hukou_code": "410102",
        },
        expect=allow_in_scope(PERSON_EDITORS, ok=201),
        anonymous=401,
    ),
    RouteCase(
        "api:correct_event",
        method="post",
        json=True,
        kwargs=lambda ctx: {"event_id": _hukou_event(ctx).public_id},
        data=lambda ctx: {"reason": "录入错误"},
        expect=allow_in_scope(PERSON_EDITORS, ok=201),
        anonymous=401,
    ),
]


def _transfer(ctx):
    from hearth.registry.models import TransferRequest

    return TransferRequest.objects.create(
        person=ctx.person,
        to_dwelling=ctx.world.dwellings["A2a"],
        requested_by=ctx.world.grants[Role.DISTRICT_ADMIN],
    )


ROUTES += [
    RouteCase("registry:transfer_list", expect=allow(FULL_READERS)),
    RouteCase(
        "registry:transfer_create",
        method="post",
        data=lambda ctx: {
            "id_type": "resident_id",
            "id_number": identity.reveal(ctx.world.persons["B1a"]),
            "dwelling": str(ctx.world.dwellings["A1a"].public_id),
        },
        expect=allow(PERSON_CREATORS, ok=302),
    ),
    RouteCase(
        "registry:transfer_decide",
        method="post",
        kwargs=lambda ctx: {"public_id": _transfer(ctx).public_id},
        data=lambda ctx: {"decision": "approve"},
        expect=allow_in_scope(PERSON_EDITORS, ok=302),
    ),
]
