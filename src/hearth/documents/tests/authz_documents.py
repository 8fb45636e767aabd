"""Authorization matrix rows for the documents API (/api/v1/documents…): a document (here a notice of the health
check) is seen by those who see care worklists of its service in the person's subtree — a volunteer, a data clerk
or an association officer does not learn that a neighbour is offered a health check — and marked by those of them
with care.record; a batch's progress likewise, its PDF only by those who may issue notices. Else 404."""

from django.core.files.base import ContentFile

from hearth.accounts.roles import Role
from hearth.documents.models import BatchStatus, Channel, DocumentBatch, DocumentKind, IssuedDocument
from tests.authz import RouteCase, allow, allow_in_scope

CARE_VIEWERS = {
    Role.DISTRICT_ADMIN,
    Role.SUBDISTRICT_OFFICER,
    Role.COMMUNITY_OFFICER,
    Role.ASSISTANT,
    Role.BUILDING_VOLUNTEER,
    Role.DATA_CLERK,
    Role.CLINIC_STAFF,
    Role.ASSOCIATION_OFFICER,
}
# Who sees the health check's notices: the supervisors and the roles the service names (clinic staff reach
# nobody in the fixture world: no enrolments).
NOTICE_READERS = {Role.DISTRICT_ADMIN, Role.SUBDISTRICT_OFFICER, Role.COMMUNITY_OFFICER, Role.ASSISTANT}
# Of those, the ones with care.record.
NOTICE_MARKERS = {Role.SUBDISTRICT_OFFICER, Role.COMMUNITY_OFFICER, Role.ASSISTANT}


def make_notice(ctx, channel: str = Channel.PRINT) -> IssuedDocument:
    """A health-check notice issued to the target person (made unscoped: fixture data)."""
    person = ctx.person
    return IssuedDocument.objects.create(
        kind=DocumentKind.NOTICE, person=person, place_path=person.place_path, title="康检/访视通知单",
        topic="health_check", channel=channel, body_text="康检/访视通知单（即日起）" if channel == "print" else "短信",
        related_type="care.due", related_id="health_check:now", issued_by=ctx.world.grants[Role.COMMUNITY_OFFICER],
    )  # fmt: skip


def make_batch(ctx, *, done: bool = True) -> DocumentBatch:
    """A finished batch of health-check notices covering the target person's place."""
    batch = DocumentBatch(
        kind=DocumentKind.NOTICE, title="康检/访视通知单", topic="health_check", place_path=ctx.person.place_path,
        requested_by=ctx.world.grants[Role.COMMUNITY_OFFICER], params={"service": "health_check"},
        status=BatchStatus.DONE if done else BatchStatus.RUNNING, count=1, progress_total=1, progress_done=1,
    )  # fmt: skip
    if done:
        batch.file.save("fixture.pdf", ContentFile(b"%PDF-1.7\n%%EOF\n"), save=False)
    batch.save()
    return batch


_doc = lambda ctx: {"document_id": make_notice(ctx).public_id}  # noqa: E731
_batch = lambda ctx: {"batch_id": make_batch(ctx).public_id}  # noqa: E731
_note = lambda ctx: {"note": "矩阵"}  # noqa: E731

ROUTES = [
    RouteCase("api:document_list", expect=allow(CARE_VIEWERS), anonymous=401, query="limit=10"),
    RouteCase("api:document_get", kwargs=_doc, expect=allow_in_scope(NOTICE_READERS), anonymous=401),
    RouteCase(
        "api:document_mark_sent", method="post", json=True, kwargs=_doc, data=_note,
        expect=allow_in_scope(NOTICE_MARKERS), anonymous=401,
    ),
    RouteCase(
        "api:document_mark_delivered", method="post", json=True, kwargs=_doc, data=_note,
        expect=allow_in_scope(NOTICE_MARKERS), anonymous=401,
    ),
    RouteCase(
        "api:document_mark_failed", method="post", json=True, kwargs=_doc, data=_note,
        expect=allow_in_scope(NOTICE_MARKERS), anonymous=401,
    ),
    RouteCase("api:document_batch_get", kwargs=_batch, expect=allow_in_scope(NOTICE_READERS), anonymous=401),
    RouteCase("api:document_batch_pdf", kwargs=_batch, expect=allow_in_scope(NOTICE_MARKERS), anonymous=401),
]  # fmt: skip
