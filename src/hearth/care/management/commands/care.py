import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Care services: recompute the worklists (run nightly, e.g. from cron: `hearth care recompute`)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        recompute = sub.add_parser("recompute", help="bring every service's worklist up to date")
        recompute.add_argument(
            "--as-of", default="", help="the day to compute for (YYYY-MM-DD; default today)"
        )
        recompute.add_argument("--service", default="", help="only this service (its code)")

    def handle(self, *args, action, **options):
        from hearth.care import schedule
        from hearth.care.models import ServiceType

        as_of = None
        if options["as_of"]:
            try:
                as_of = date.fromisoformat(options["as_of"])
            except ValueError:
                raise CommandError("--as-of：日期格式应为 2026-01-31") from None
        started = time.perf_counter()
        if options["service"]:
            service = ServiceType.objects.filter(code=options["service"]).first()
            if service is None:
                raise CommandError(f"--service：没有代码为“{options['service']}”的服务项目")
            done = [schedule.Recomputed(service.code, schedule.recompute(service, as_of=as_of))]
        else:
            done = schedule.recompute_all(as_of=as_of)
        for r in done:
            self.stdout.write(f"{r.service}: {r.rows} rows")
        self.stdout.write(f"done in {time.perf_counter() - started:.1f} s")
