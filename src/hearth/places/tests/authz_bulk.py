"""Authorization matrix rows for 批量导入 (places.views_bulk), written by hand from the rules:

the page is for anyone who may import some sheet (place managers: places and dwellings; the system
administrator: accounts; the security administrator: grants), everyone else gets 404; a template and an error
workbook need the permission of their kind. POSTs (dry run, commit) per kind are in test_bulk.py.
"""

import os
import time

from django.conf import settings

from hearth.core.spreadsheet import STAGE_MAX_AGE, stage_upload
from tests.authz import ACCOUNT_MANAGERS, GRANT_MANAGERS, PLACE_MANAGERS, RouteCase, allow


def _staged_places_sheet(ctx) -> dict:
    """A dry-run file of the acting user's own (a token names one user's file; anyone else gets 404)."""
    user = ctx.world.users[ctx.role]
    data = "上级,类型,名称\n祥和社区,楼院,9号楼\n".encode()
    token = stage_upload(data, owner_id=user.pk, meta={"kind": "places", "filename": "a.csv", "errors": []})
    # The matrix stages into the real VAR_DIR: date the files back so the next upload sweeps them away (the
    # token itself stays valid, its age is kept in its metadata).
    old = time.time() - STAGE_MAX_AGE - 60
    for suffix in (".bin", ".json"):
        os.utime(os.path.join(settings.VAR_DIR, "uploads", token + suffix), (old, old))
    return {"token": token}


ROUTES = [
    RouteCase("places:bulk_import", expect=allow(PLACE_MANAGERS | ACCOUNT_MANAGERS | GRANT_MANAGERS)),
    RouteCase("places:bulk_template", kwargs=lambda ctx: {"kind": "places"}, expect=allow(PLACE_MANAGERS)),
    RouteCase("places:bulk_errors", kwargs=_staged_places_sheet, expect=allow(PLACE_MANAGERS)),
]
