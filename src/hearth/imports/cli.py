"""What the batch commands (`hearth import`, `hearth link`) share: the place named, and the acting grant."""

from django.core.management.base import CommandError

from hearth.accounts.actor import actor_for
from hearth.accounts.models import Grant
from hearth.places.models import Place


def place_named(text: str) -> Place:
    """A place by its code, path or exact current name."""
    place = (
        Place.objects.filter(code=text).first()
        or Place.objects.filter(path=text).first()
        or Place.objects.filter(name=text, valid_to__isnull=True).first()
    )
    if place is None:
        raise CommandError(f"no such place: {text}")
    return place


def actor_over(username: str, place: Place, perm: str, what: str):
    """The user's first active grant that holds `perm` and covers `place`, as an actor (via the CLI)."""
    grants = Grant.objects.active().select_related("user", "place").filter(user__username=username)
    for grant in grants:
        actor = actor_for(grant, via="cli")
        if actor.can(perm) and place.path.startswith(actor.scope_path or "\x00"):
            return actor
    raise CommandError(f"{username} holds no grant that may {what} {place.name}")
