"""The one scoping mechanism for personal data (see docs/adr/0001).

Every model holding personal data uses `ScopedQuerySet`: `visible_to(actor)` limits rows to the subtree of
the actor's grant, refusing by default (no grant, no permission, an administrative role: nothing).
`for_system()` is the spelled-out unscoped read for system jobs. `get_visible_or_404` is the one way to open
a record by its public id: missing and out of scope are the same 404.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404

from hearth.places.tree import subtree_q

from .actor import Actor
from .roles import Perm


class ScopedQuerySet(models.QuerySet):
    # The path of the place a row belongs to, e.g. "dwelling__place__path".
    scope_path_field: str = ""
    view_permission: str = Perm.PERSON_VIEW

    def visible_to(self, actor: Actor):
        if actor is None or actor.grant is None or not actor.sees_personal_data:
            return self.none()
        if not actor.can(self.view_permission):
            return self.none()
        if actor.facility is not None:
            return self.for_facility(actor.facility)
        return self.filter(subtree_q(self.scope_path_field, actor.scope_path))

    def for_facility(self, facility):
        """Clinic staff see persons only through their facility's enrolments, invitations and referrals.

        The care and linkage apps add those relations and extend this; until then a facility reaches nobody.
        """
        return self.none()

    def for_system(self):
        """Unscoped: only for system jobs (sealing, migrations of data, benchmarks). Review every use."""
        return self.all()


def get_visible_or_404(queryset: ScopedQuerySet, actor: Actor, public_id) -> models.Model:
    try:
        return queryset.visible_to(actor).get(public_id=public_id)
    except (queryset.model.DoesNotExist, ValueError, ValidationError):
        # A malformed id is as unknown as a foreign one.
        raise Http404 from None
