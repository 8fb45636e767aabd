from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hearth.audit.services import seal_pending
from hearth.care.demo import load_demo_care, load_demo_checkday
from hearth.linkage.demo import load_demo_lists
from hearth.preconception.demo import load_demo_preconception
from hearth.registry.demo import load_demo


# In the top app, so the demo can show every area (the registry's people, then partner lists matched to them).
class Command(BaseCommand):
    help = "Load the demo district (idempotent: a second run changes nothing). Needs HEARTH_DEMO=1."

    def handle(self, *args, **options):
        if not settings.HEARTH_DEMO:
            raise CommandError("演示数据只在 HEARTH_DEMO=1 时加载 (demo data needs HEARTH_DEMO=1)")
        result = load_demo()
        lists = load_demo_lists()
        contacts = load_demo_care()
        taps = load_demo_checkday()
        couples = load_demo_preconception()
        sealed = seal_pending()
        self.stdout.write(
            f"demo: {result['persons_created']} persons created, {lists} partner lists matched, "
            f"{contacts} care contacts recorded, {taps} check-day taps, {couples} pre-pregnancy enrolments, "
            f"{sealed} audit rows sealed"
        )
