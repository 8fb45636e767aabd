"""Authorization matrix rows for 人员导入: roles that may import (and create persons) see jobs at places in
their subtree; everyone else, and every job outside the subtree, is 404."""

from django.core.files.uploadedfile import SimpleUploadedFile

from hearth.accounts.models import Grant
from hearth.accounts.roles import Role
from hearth.core.spreadsheet import stage_upload
from hearth.imports.models import ImportJob, JobStatus
from tests.authz import IN_SCOPE, RouteCase, allow, allow_in_scope

IMPORTERS = {Role.SUBDISTRICT_OFFICER, Role.COMMUNITY_OFFICER, Role.DATA_CLERK}
_CSV = "姓名,身份证号码\n张三,410103199001011234\n".encode()


def _job(ctx, status: str = JobStatus.CHECKED) -> ImportJob:
    """A checked job at the target place, made by some grant there (its staged file belongs to that user)."""
    grant = Grant.objects.active().select_related("user").order_by("id").first()
    token = stage_upload(_CSV, owner_id=grant.user_id, meta={"filename": "m.csv"})
    return ImportJob.objects.create(
        place=ctx.place,
        created_by=grant,
        source="矩阵",
        filename="m.csv",
        file_sha256="0" * 64,
        file_size=len(_CSV),
        token=token,
        header=["姓名", "身份证号码"],
        mapping={"name": 0, "id_number": 1},
        status=status,
        progress_total=1,
        counts={"new": 0, "changed": 0, "unchanged": 0, "duplicate": 0, "rejected": 1},
        problems={"2": "身份证号码：校验位错误"},
    )


_id = lambda ctx: {"public_id": _job(ctx).public_id}  # noqa: E731
_api_id = lambda ctx: {"job_id": _job(ctx).public_id}  # noqa: E731


def _upload(ctx):
    return {
        "file": SimpleUploadedFile("m.csv", _CSV, content_type="text/csv"),
        "source": "矩阵",
        "place_id": str(ctx.place.public_id),
    }


def _upload_expect(role, where):
    # The place is a parameter, not the route's target: out of scope it is a field error, not a 404.
    if str(role) not in {str(r) for r in IMPORTERS}:
        return 404
    return 201 if where in IN_SCOPE else 422


ROUTES = [
    RouteCase("imports:job_list", expect=allow(IMPORTERS)),
    RouteCase("imports:job_detail", kwargs=_id, expect=allow_in_scope(IMPORTERS)),
    RouteCase("imports:job_progress", kwargs=_id, expect=allow_in_scope(IMPORTERS)),
    RouteCase(
        "imports:job_mapping",
        method="post",
        kwargs=_id,
        data=lambda ctx: {"column_0": "name", "column_1": "id_number"},
        expect=allow_in_scope(IMPORTERS, ok=302),
    ),
    RouteCase("imports:job_commit", method="post", kwargs=_id, expect=allow_in_scope(IMPORTERS, ok=302)),
    RouteCase("imports:job_cancel", method="post", kwargs=_id, expect=allow_in_scope(IMPORTERS, ok=302)),
    RouteCase("imports:job_errors", kwargs=_id, expect=allow_in_scope(IMPORTERS)),
    # API
    RouteCase("api:import_fields", expect=allow(IMPORTERS), anonymous=401),
    RouteCase("api:list_imports", expect=allow(IMPORTERS), anonymous=401),
    RouteCase("api:upload_import", method="post", data=_upload, expect=_upload_expect, anonymous=401),
    RouteCase("api:get_import", kwargs=_api_id, expect=allow_in_scope(IMPORTERS), anonymous=401),
    RouteCase(
        "api:set_import_mapping",
        method="post",
        json=True,
        kwargs=_api_id,
        data=lambda ctx: {"mapping": {"name": 0, "id_number": 1}},
        expect=allow_in_scope(IMPORTERS),
        anonymous=401,
    ),
    RouteCase(
        "api:commit_import", method="post", kwargs=_api_id, expect=allow_in_scope(IMPORTERS), anonymous=401
    ),
    RouteCase(
        "api:cancel_import", method="post", kwargs=_api_id, expect=allow_in_scope(IMPORTERS), anonymous=401
    ),
    RouteCase("api:import_errors", kwargs=_api_id, expect=allow_in_scope(IMPORTERS), anonymous=401),
]
