"""Authorization matrix rows for 部门名单比对: roles that may link see lists, rows and facts at places in their
subtree; duplicates belong to the roles that may merge; everyone else, and anything outside the subtree, is 404."""

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from hearth.accounts.models import Grant
from hearth.accounts.roles import Role
from hearth.core import citizen_id
from hearth.linkage.models import (
    Candidate,
    DuplicatePair,
    FactProposal,
    ListStatus,
    PartnerList,
    PartnerRecord,
    RecordStatus,
)
from hearth.places.models import Dwelling
from hearth.registry.models import EventKind, Person
from tests.authz import IN_SCOPE, PERSON_CREATORS, RouteCase, allow, allow_in_scope

LINKERS = {Role.SUBDISTRICT_OFFICER, Role.COMMUNITY_OFFICER, Role.DATA_CLERK}
MERGERS = {Role.SUBDISTRICT_OFFICER, Role.COMMUNITY_OFFICER}
_CSV = "姓名,身份证号码,出生日期\n张三,410103199001011234,1990-01-01\n".encode()


def _list(ctx, status: str = ListStatus.LINKED) -> PartnerList:
    grant = Grant.objects.active().order_by("id").first()
    plist = PartnerList.objects.create(
        place=ctx.place, created_by=grant, kind="death", source="矩阵", filename="m.csv", file_sha256="0" * 64,
        file_size=len(_CSV), header=["姓名", "身份证号码", "出生日期"], mapping={"name": 0, "id_number": 1},
        status=status, counts={"possible": 1},
    )  # fmt: skip
    person = ctx.person
    rec = PartnerRecord.objects.create(
        partner_list=plist, row=2, name=person.name, birth_date=person.birth_date, place_path=ctx.place.path,
        fingerprint="f" * 32, status=RecordStatus.POSSIBLE, person=person, match_weight=5.0,
        match_probability=0.97, disagreements={"phone": ["", "13900000000"]},
    )  # fmt: skip
    Candidate.objects.create(record=rec, person=person, match_weight=5.0, match_probability=0.97)
    return plist


def _missing(ctx) -> PartnerList:
    """A list with one 漏档 row (row 3), not on file, its address resolved to a dwelling at the place."""
    plist = _list(ctx)
    PartnerRecord.objects.create(
        partner_list=plist, row=3, name="孙悟空", sex="M", birth_date=date(1991, 4, 5),
        place_path=ctx.place.path, fingerprint="e" * 32, status=RecordStatus.UNMATCHED,
    )  # fmt: skip
    return plist


def _register_body(ctx) -> dict:
    dwelling = Dwelling.objects.filter(place__path__startswith=ctx.place.path).order_by("id").first()
    return {
        "name": "孙悟空", "sex": "M", "birth_date": "1991-04-05",
        "id_number": citizen_id.make("410103", date(1991, 4, 5), 21), "dwelling_id": str(dwelling.public_id),
    }  # fmt: skip


def _proposal(ctx) -> FactProposal:
    rec = _list(ctx).records.get()
    return FactProposal.objects.create(
        record=rec, person=ctx.person, kind=EventKind.DEATH, occurred_on=rec.birth_date
    )


def _pair(ctx) -> DuplicatePair:
    other = Person.objects.for_system().exclude(pk=ctx.person.pk).order_by("id").first()
    return DuplicatePair.objects.create(
        first=ctx.person, second=other, match_weight=9.0, match_probability=0.99
    )


_id = lambda ctx: {"public_id": _list(ctx).public_id}  # noqa: E731
_uploaded = lambda ctx: {"public_id": _list(ctx, ListStatus.UPLOADED).public_id}  # noqa: E731
_row = lambda ctx: {"public_id": _list(ctx).public_id, "row": 2}  # noqa: E731
_api_id = lambda ctx: {"list_id": _list(ctx).public_id}  # noqa: E731
_api_uploaded = lambda ctx: {"list_id": _list(ctx, ListStatus.UPLOADED).public_id}  # noqa: E731
_api_row = lambda ctx: {"list_id": _list(ctx).public_id, "row": 2}  # noqa: E731
_missing_row = lambda ctx: {"public_id": _missing(ctx).public_id, "row": 3}  # noqa: E731
_api_missing_row = lambda ctx: {"list_id": _missing(ctx).public_id, "row": 3}  # noqa: E731


def _upload(ctx):
    return {
        "file": SimpleUploadedFile("m.csv", _CSV, content_type="text/csv"),
        "kind": "police_hukou",
        "source": "矩阵",
        "place_id": str(ctx.place.public_id),
    }


def _parameter(roles, ok: int = 200):
    """The place or the rows are parameters, not the route's target: out of scope they are a 422."""
    names = {str(r) for r in roles}
    return lambda role, where: (ok if where in IN_SCOPE else 422) if str(role) in names else 404


ROUTES = [
    RouteCase("linkage:list_index", expect=allow(LINKERS)),
    RouteCase("linkage:facts", expect=allow(LINKERS)),
    RouteCase("linkage:missing", expect=allow(LINKERS)),
    RouteCase("linkage:disagreements", expect=allow(LINKERS)),
    RouteCase("linkage:duplicates", expect=allow(MERGERS)),
    RouteCase(
        "linkage:duplicate_dismiss",
        method="post",
        kwargs=lambda ctx: {"public_id": _pair(ctx).public_id},
        expect=allow_in_scope(MERGERS, ok=302),
    ),
    RouteCase("linkage:list_detail", kwargs=_id, expect=allow_in_scope(LINKERS)),
    RouteCase("linkage:list_progress", kwargs=_id, expect=allow_in_scope(LINKERS)),
    RouteCase(
        "linkage:list_mapping",
        method="post",
        kwargs=_uploaded,
        data=lambda ctx: {"column_0": "name", "column_1": "id_number"},
        expect=allow_in_scope(LINKERS, ok=302),
    ),
    RouteCase("linkage:list_apply", method="post", kwargs=_id, expect=allow_in_scope(LINKERS, ok=302)),
    RouteCase("linkage:list_records", kwargs=_id, expect=allow_in_scope(LINKERS)),
    RouteCase("linkage:record_review", kwargs=_row, expect=allow_in_scope(LINKERS)),
    # 补登 needs person.create too: every role that may link may also register (the matrix says so by hand).
    RouteCase(
        "linkage:record_register", kwargs=_missing_row, expect=allow_in_scope(LINKERS & PERSON_CREATORS)
    ),
    # API
    RouteCase("api:link_fields", expect=allow(LINKERS), anonymous=401),
    RouteCase("api:link_lists", expect=allow(LINKERS), anonymous=401),
    RouteCase("api:link_upload", method="post", data=_upload, expect=_parameter(LINKERS, 201), anonymous=401),
    RouteCase("api:link_list_get", kwargs=_api_id, expect=allow_in_scope(LINKERS), anonymous=401),
    RouteCase(
        "api:link_set_mapping",
        method="post",
        json=True,
        kwargs=_api_uploaded,
        data=lambda ctx: {"mapping": {"name": 0, "id_number": 1}, "start": False},
        expect=allow_in_scope(LINKERS),
        anonymous=401,
    ),
    RouteCase("api:link_records", kwargs=_api_id, expect=allow_in_scope(LINKERS), anonymous=401),
    RouteCase("api:link_record", kwargs=_api_row, expect=allow_in_scope(LINKERS), anonymous=401),
    RouteCase(
        "api:link_decide",
        method="post",
        json=True,
        kwargs=_api_row,
        data=lambda ctx: {"person_id": str(ctx.person.public_id), "decision": "same"},
        expect=allow_in_scope(LINKERS),
        anonymous=401,
    ),
    RouteCase(
        "api:link_register",
        method="post",
        json=True,
        kwargs=_api_missing_row,
        data=_register_body,
        expect=allow_in_scope(LINKERS & PERSON_CREATORS),
        anonymous=401,
    ),
    RouteCase(
        "api:link_apply_contacts",
        method="post",
        kwargs=_api_id,
        expect=allow_in_scope(LINKERS),
        anonymous=401,
    ),
    RouteCase("api:link_missing", expect=allow(LINKERS), anonymous=401),
    RouteCase("api:link_disagreements", expect=allow(LINKERS), anonymous=401),
    RouteCase("api:link_facts", expect=allow(LINKERS), anonymous=401),
    RouteCase(
        "api:link_decide_facts",
        method="post",
        json=True,
        data=lambda ctx: {"ids": [str(_proposal(ctx).public_id)], "action": "dismiss"},
        expect=_parameter(LINKERS),
        anonymous=401,
    ),
    RouteCase("api:link_duplicates", expect=allow(MERGERS), anonymous=401),
    RouteCase(
        "api:link_find_duplicates",
        method="post",
        json=True,
        data=lambda ctx: {"place_id": str(ctx.place.public_id)},
        expect=_parameter(MERGERS),
        anonymous=401,
    ),
    RouteCase(
        "api:link_dismiss_duplicate",
        method="post",
        kwargs=lambda ctx: {"pair_id": _pair(ctx).public_id},
        expect=allow_in_scope(MERGERS),
        anonymous=401,
    ),
]
