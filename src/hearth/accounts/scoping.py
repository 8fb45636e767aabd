"""The one scoping mechanism for personal data (see docs/adr/0001).

Every model holding personal data uses `ScopedQuerySet`: `visible_to(actor)` limits rows to the subtree of
the actor's grant, refusing by default (no grant, no permission, an administrative role: nothing).
`for_system()` is the spelled-out unscoped read for system jobs. `get_visible_or_404` is the one way to open
a record by its public id: missing and out of scope are the same 404.
"""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404

from hearth.places.tree import subtree_q

from .actor import Actor
from .roles import Perm

# Who a facility reaches (clinic staff see only these persons): each provider, registered by the app that
# relates facilities to persons (care: enrolments, referrals, invitations, services given there), maps a
# facility to a queryset of person ids (`.values("person_id")`). Registered from AppConfig.ready().
_facility_reach: list[Callable] = []


def register_facility_reach(provider: Callable) -> None:
    if provider not in _facility_reach:
        _facility_reach.append(provider)


def facility_reach_q(field: str, facility) -> models.Q:
    """Rows whose person (at `field`: "pk" on persons, "person_id" elsewhere) the facility reaches."""
    q = models.Q(pk__in=[])
    for provider in _facility_reach:
        q |= models.Q(**{f"{field}__in": provider(facility)})
    return q


class ScopedQuerySet(models.QuerySet):
    # The path of the place a row belongs to, e.g. "dwelling__place__path".
    scope_path_field: str = ""
    view_permission: str = Perm.PERSON_VIEW
    # The path of the row's person, for clinic staff (reached through their facility); "" = never reached.
    facility_person_field: str = ""

    def visible_to(self, actor: Actor):
        if actor is None or actor.grant is None or not actor.sees_personal_data:
            return self.none()
        if not actor.can(self.view_permission):
            return self.none()
        if actor.facility is not None:
            return self.for_facility(actor.facility)
        return self.filter(subtree_q(self.scope_path_field, actor.scope_path))

    def for_facility(self, facility):
        """Clinic staff see persons only through their facility's enrolments, invitations and referrals (the
        providers registered with `register_facility_reach`), and only the kinds of rows that name a person."""
        if not self.facility_person_field:
            return self.none()
        return self.filter(facility_reach_q(self.facility_person_field, facility))

    def for_system(self):
        """Unscoped: only for system jobs (sealing, migrations of data, benchmarks). Review every use."""
        return self.all()


def get_visible_or_404(queryset: ScopedQuerySet, actor: Actor, public_id) -> models.Model:
    try:
        return queryset.visible_to(actor).get(public_id=public_id)
    except (queryset.model.DoesNotExist, ValueError, ValidationError):
        # A malformed id is as unknown as a foreign one.
        raise Http404 from None
