"""`hearth link FILE --kind KIND --source NAME --place CODE --user NAME`: match a partner list in this process.

The same run as the page's (upload, suggested or given mapping, matching, write-back), attributed to the
user's grant that covers the place and may link; the counts, candidate pairs and stage times are printed.
`hearth link --duplicates --place CODE --user NAME` lists likely duplicates in the registry instead.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hearth.accounts.roles import Perm
from hearth.core.errors import DomainError, as_list
from hearth.imports.cli import actor_over, place_named
from hearth.linkage import services
from hearth.linkage.models import PartnerKind


class Command(BaseCommand):
    help = "Match a partner department's list with the registry (or --duplicates: find duplicates in it)."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?")
        parser.add_argument("--kind", choices=PartnerKind.values, default=PartnerKind.OTHER)
        parser.add_argument("--source", help="提供部门, e.g. 幸福派出所")
        parser.add_argument("--place", required=True, help="the place's code, path or exact name")
        parser.add_argument("--user", required=True, help="the username the matching is done as")
        parser.add_argument("--mapping", help="JSON {field: column index}, instead of the suggested mapping")
        parser.add_argument("--duplicates", action="store_true", help="find duplicates in the registry")

    def handle(self, *args, **o):
        place = place_named(o["place"])
        try:
            if o["duplicates"]:
                actor = actor_over(o["user"], place, Perm.PERSON_MERGE, "merge persons in")
                found = services.find_duplicates(actor=actor, place=place)
                self.stdout.write(f"{found} new likely duplicate pairs")
                return
            path = Path(o["file"] or "")
            if not o["file"] or not path.is_file():
                raise CommandError(f"no such file: {path}")
            if not o["source"]:
                raise CommandError("--source is required")
            actor = actor_over(o["user"], place, Perm.PERSON_LINK, "link lists in")
            plist = services.list_upload(
                actor=actor, data=path.read_bytes(), filename=path.name, kind=o["kind"], source=o["source"],
                place=place,
            )  # fmt: skip
            mapping = json.loads(o["mapping"]) if o["mapping"] else plist.mapping
            services.list_set_mapping(actor=actor, plist=plist, mapping=mapping)
            self.stdout.write(f"list {plist.public_id}: {plist.progress_total} rows")
            self.stdout.write(
                "mapping: " + ", ".join(f"{f}←{plist.header[i]}" for f, i in plist.mapping.items())
            )
            services.list_start(actor=actor, plist=plist, enqueue=False)
            plist = services.run_link(plist.pk)
        except DomainError as exc:
            raise CommandError(
                "; ".join(f"{e.field or ''} {e.message}".strip() for e in as_list(exc))
            ) from None
        self.stdout.write(
            f"{plist.get_status_display()} ({plist.status}): " + json.dumps(plist.counts, ensure_ascii=False)
        )
        self.stdout.write("candidate pairs: " + json.dumps(plist.candidate_pairs, ensure_ascii=False))
        self.stdout.write("seconds: " + json.dumps(plist.stage_seconds))
        if plist.status != "linked":
            raise CommandError(plist.message or plist.status)
