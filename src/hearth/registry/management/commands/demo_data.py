"""`hearth demo-data --persons N [--seed S]`: bring the demo district to N generated residents."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hearth.accounts.actor import Actor
from hearth.audit.services import seal_pending
from hearth.core.errors import DomainError
from hearth.registry import demo


class Command(BaseCommand):
    help = (
        "Generate a realistic population (households, migrants and landlords, life events) into the demo "
        "district 大学路街道, up to N persons; run again, it adds nothing. Needs HEARTH_DEMO=1."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--persons", type=int, default=demo.DEMO_PERSONS, help="residents wanted in total"
        )
        parser.add_argument("--seed", type=int, default=2012, help="the same seed gives the same people")
        parser.add_argument(
            "--workers", type=int, default=0, help="processes encrypting ID numbers beside the generator"
        )

    def handle(self, *args, persons: int, seed: int, workers: int, **options):
        if not settings.HEARTH_DEMO:
            raise CommandError("演示数据只在 HEARTH_DEMO=1 时生成 (demo data needs HEARTH_DEMO=1)")
        if persons < 1:
            raise CommandError("--persons 应为正整数 (--persons must be positive)")
        actor = Actor.system("demo data")
        try:
            demo.build_places(actor, buildings=demo.buildings_for(persons))
            report = demo.build_persons(actor, persons=persons, seed=seed, workers=workers)
        except DomainError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from exc
        if report is None:
            self.stdout.write(f"demo-data: the demo district already has {persons:,} persons or more")
        else:
            for line in report.lines():
                self.stdout.write(line)
        self.stdout.write(f"demo-data: {seal_pending()} audit rows sealed")
