from django.core.management.base import BaseCommand, CommandError

from hearth.accounts.actor import Actor
from hearth.audit import services


class Command(BaseCommand):
    help = "Audit log: seal pending rows, verify the hash chain, or purge rows past retention."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("seal", help="seal every committed, unsealed row into the chain")
        sub.add_parser("verify", help="walk the chain and name the first broken row")
        purge = sub.add_parser("purge", help="remove sealed rows older than the retention period (audited)")
        purge.add_argument("--reason", required=True)

    def handle(self, *args, action, **options):
        if action == "seal":
            self.stdout.write(f"sealed {services.seal_pending()} rows")
        elif action == "verify":
            result = services.verify_chain()
            if not result.ok:
                raise CommandError(
                    f"审计链断裂 chain broken at seq {result.broken_seq} (row id {result.broken_id}): "
                    f"{result.problem}; {result.checked} rows verified before it"
                )
            self.stdout.write(f"ok: {result.checked} rows verified")
        elif action == "purge":
            n = services.purge_expired(actor=Actor.system("retention (cli)"), reason=options["reason"])
            self.stdout.write(f"purged {n} rows")
