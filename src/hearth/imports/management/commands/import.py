"""`hearth import FILE --source NAME --place CODE --user NAME [--commit]`: an import job run in this process.

The same job as the page's (upload, mapping, dry run, commit), attributed to the user's grant that covers the
place and may import; progress is printed. Without --commit only the dry run runs and its counts are printed.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hearth.accounts.roles import Perm
from hearth.core.errors import DomainError, as_list
from hearth.imports import services
from hearth.imports.cli import actor_over, place_named


class Command(BaseCommand):
    help = "Import residents from a spreadsheet (dry run, or --commit)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--source", required=True, help="数据来源, e.g. 祥和社区台账")
        parser.add_argument("--place", required=True, help="the place's code, path or exact name")
        parser.add_argument("--user", required=True, help="the username the import is done as")
        parser.add_argument("--commit", action="store_true", help="write the rows after the dry run")
        parser.add_argument("--keep-unverified", action="store_true")
        parser.add_argument("--mapping", help="JSON {field: column index}, instead of the suggested mapping")
        parser.add_argument("--save-mapping", action="store_true", help="remember the mapping for the source")

    def handle(self, *args, **o):
        path = Path(o["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        place = place_named(o["place"])
        actor = actor_over(o["user"], place, Perm.PERSON_IMPORT, "import into")
        try:
            job = services.import_upload(
                actor=actor,
                data=path.read_bytes(),
                filename=path.name,
                source=o["source"],
                place=place,
                keep_unverified=o["keep_unverified"],
            )
            mapping = json.loads(o["mapping"]) if o["mapping"] else job.mapping
            services.import_set_mapping(
                actor=actor, job=job, mapping=mapping, save_for_source=o["save_mapping"]
            )
            self.stdout.write(
                f"job {job.public_id}: header on row {job.header_row}, {job.progress_total} rows"
            )
            self.stdout.write("mapping: " + ", ".join(f"{f}←{job.header[i]}" for f, i in job.mapping.items()))
            job = self._run(actor, job, commit=False)
            if o["commit"] and job.status == "checked":
                job = self._run(actor, job, commit=True)
        except DomainError as exc:
            raise CommandError(
                "; ".join(f"{e.field or ''} {e.message}".strip() for e in as_list(exc))
            ) from None
        self.stdout.write(
            f"{job.get_status_display()} ({job.status}): " + json.dumps(job.counts, ensure_ascii=False)
        )
        self.stdout.write("seconds: " + json.dumps(job.stage_seconds))
        if job.status in ("failed", "cancelled"):
            raise CommandError(job.message or job.status)

    def _run(self, actor, job, *, commit: bool):
        # In this process, not through the worker: the task's own function, with the same state changes.
        services.import_start(actor=actor, job=job, commit=commit, enqueue=False)
        return services.run_job(job.pk, commit=commit)
