from django.core.management.base import BaseCommand, CommandError

from hearth.accounts.actor import Actor
from hearth.accounts.models import ApiToken, Grant, User
from hearth.accounts.roles import Role
from hearth.accounts.services import token_create, token_revoke


class Command(BaseCommand):
    help = "Personal API tokens: create (one grant each), list, revoke."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--user", required=True)
        create.add_argument(
            "--grant", help="role, or role@place-code / grant public id, when the user has several"
        )
        create.add_argument("--name", default="cli")
        lst = sub.add_parser("list")
        lst.add_argument("--user")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("token_id")

    def handle(self, *args, action, **options):
        actor = Actor.system("hearth token (cli)")
        if action == "create":
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"用户不存在 no such user: {options['user']}")
            grant = self._grant(user, options.get("grant"))
            token, secret = token_create(actor=actor, grant=grant, name=options["name"])
            self.stdout.write(f"token {token.public_id} for {user.username} as {grant.role}")
            self.stdout.write(secret)
        elif action == "list":
            qs = ApiToken.objects.select_related("user", "grant").order_by("created_at")
            if options.get("user"):
                qs = qs.filter(user__username=options["user"])
            for t in qs:
                state = "revoked" if t.revoked_at else "active"
                self.stdout.write(
                    f"{t.public_id}  {t.user.username:20} {t.grant.role:22} {t.name:16} {state}"
                )
        elif action == "revoke":
            token = ApiToken.objects.filter(public_id=options["token_id"]).first()
            if token is None:
                raise CommandError("令牌不存在 no such token")
            token_revoke(actor=actor, token=token)
            self.stdout.write("revoked")

    def _grant(self, user, spec):
        grants = Grant.objects.active().filter(user=user).select_related("place", "facility")
        if spec:
            role, _, where = spec.partition("@")
            if role in Role.values:
                grants = grants.filter(role=role)
                if where:
                    grants = grants.filter(place__code=where) | grants.filter(facility__name=where)
            else:
                grants = grants.filter(public_id=spec) if len(spec) == 36 else grants.none()
        found = list(grants[:2])
        if len(found) != 1:
            choices = ", ".join(
                f"{g.role}@{g.place.code if g.place_id else g.facility.name}" for g in grants[:10]
            )
            raise CommandError(
                f"请用 --grant 指定一个授权 choose one grant with --grant: {choices or 'none'}"
            )
        return found[0]
