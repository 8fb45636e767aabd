"""Authorization matrix rows for notices (通知单), pages and API: the list is open to whoever sees the service's
worklist (health check: the supervisors, community officers, assistants, clinic staff); issuing a PDF, an SMS or
a batch needs care.record as well, and the person in the actor's subtree (clinic staff reach nobody here). A
batch is seen where its place is in scope. Anything else, and any person outside the subtree, is 404."""

from hearth.accounts.roles import Role
from hearth.care import schedule
from hearth.care.models import ServiceType
from hearth.documents.tests.authz_documents import NOTICE_MARKERS, NOTICE_READERS, make_batch, make_notice
from hearth.registry.models import Person
from tests.authz import RouteCase, allow, allow_in_scope

from .authz_care import HEALTH_CHECK_VIEWERS

# care.record and the health check's worklist; clinic staff too (they issue for the persons they reach).
ISSUERS = NOTICE_MARKERS | {Role.CLINIC_STAFF}


def _due(ctx) -> None:
    """The health check's worklist rows of the fixture world (and a phone for the target person)."""
    schedule.recompute(ServiceType.objects.get(code="health_check"))
    Person.objects.for_system().filter(pk=ctx.person.pk).update(phone="13800138000")


def _person(ctx) -> dict:
    _due(ctx)
    return {"code": "health_check", "person_id": ctx.person.public_id}


def _rows(ctx) -> dict:
    _due(ctx)
    return {}


def _batch_expect(role: str, where: str) -> int:
    # Clinic staff may issue, but their facility reaches nobody here: nobody needs a notice (422).
    if role == Role.CLINIC_STAFF:
        return 422
    return 202 if role in ISSUERS else 404


_code = lambda ctx: {"code": "health_check"}  # noqa: E731
_batch = lambda ctx: {"public_id": make_batch(ctx).public_id}  # noqa: E731
_doc = lambda ctx: {"public_id": make_notice(ctx, channel="sms").public_id}  # noqa: E731

ROUTES = [
    RouteCase("care:notices", kwargs=_code, expect=allow(HEALTH_CHECK_VIEWERS)),
    RouteCase(
        "care:notices_generate", method="post", kwargs=lambda ctx: {**_rows(ctx), **_code(ctx)},
        data=lambda ctx: {}, expect=allow(ISSUERS, ok=302),
    ),
    RouteCase("care:notices_batch", kwargs=_batch, expect=allow_in_scope(NOTICE_READERS)),
    RouteCase("care:notices_batch_pdf", kwargs=_batch, expect=allow_in_scope(NOTICE_MARKERS)),
    RouteCase("care:notice_pdf", kwargs=_person, expect=allow_in_scope(NOTICE_MARKERS)),
    RouteCase(
        "care:notice_sms", method="post", kwargs=_person, data=lambda ctx: {},
        expect=allow_in_scope(NOTICE_MARKERS, ok=302),
    ),
    RouteCase(
        "care:notice_mark", method="post", kwargs=_doc, data=lambda ctx: {"status": "delivered"},
        expect=allow_in_scope(NOTICE_MARKERS, ok=302),
    ),
    RouteCase("api:notice_candidates", kwargs=_code, expect=allow(HEALTH_CHECK_VIEWERS), anonymous=401,
              query="limit=10"),
    RouteCase("api:notice_pdf_get", kwargs=_person, expect=allow_in_scope(NOTICE_MARKERS), anonymous=401),
    RouteCase(
        "api:notice_sms_create", method="post", kwargs=_person, expect=allow_in_scope(NOTICE_MARKERS, ok=201),
        anonymous=401,
    ),
    RouteCase(
        "api:notice_batch_create", method="post", json=True, kwargs=lambda ctx: {**_rows(ctx), **_code(ctx)},
        data=lambda ctx: {}, expect=_batch_expect, anonymous=401,
    ),
]  # fmt: skip
