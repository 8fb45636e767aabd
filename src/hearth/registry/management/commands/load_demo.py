from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hearth.audit.services import seal_pending
from hearth.registry.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo district (idempotent: a second run changes nothing). Needs HEARTH_DEMO=1."

    def handle(self, *args, **options):
        if not settings.HEARTH_DEMO:
            raise CommandError("演示数据只在 HEARTH_DEMO=1 时加载 (demo data needs HEARTH_DEMO=1)")
        result = load_demo()
        sealed = seal_pending()
        self.stdout.write(f"demo: {result['persons_created']} persons created, {sealed} audit rows sealed")
