"""The actor: who is acting, under which grant, with which permissions. Every scoped read takes one."""

from dataclasses import dataclass, field

from django.http import Http404

from .roles import ADMINISTRATIVE_ROLES, Perm


@dataclass(frozen=True)
class Actor:
    user: object | None  # accounts.User; None for a system job
    grant: object | None  # accounts.Grant
    permissions: frozenset[str] = field(default_factory=frozenset)
    ip: str | None = None
    via: str = "session"  # session | token | system | cli
    system_reason: str = ""

    @property
    def is_system(self) -> bool:
        return self.via == "system"

    @property
    def role(self) -> str | None:
        return self.grant.role if self.grant is not None else None

    @property
    def scope_place(self):
        return self.grant.scope_place if self.grant is not None else None

    @property
    def scope_path(self) -> str | None:
        place = self.scope_place
        return place.path if place is not None else None

    @property
    def facility(self):
        return self.grant.facility if self.grant is not None and self.grant.facility_id else None

    @property
    def sees_personal_data(self) -> bool:
        return self.role not in ADMINISTRATIVE_ROLES and Perm.PERSON_VIEW in self.permissions

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        """Refuse as 'not found', so a forbidden page cannot be told from a missing one."""
        if permission not in self.permissions:
            raise Http404

    @classmethod
    def system(cls, reason: str) -> "Actor":
        return cls(user=None, grant=None, permissions=frozenset(), via="system", system_reason=reason)

    @classmethod
    def anonymous(cls, ip: str | None = None) -> "Actor":
        return cls(user=None, grant=None, ip=ip, via="anonymous")


def permissions_for(role: str) -> frozenset[str]:
    from .models import RolePermission

    return frozenset(RolePermission.objects.filter(role=role).values_list("permission", flat=True))


def actor_for(grant, *, ip: str | None = None, via: str = "session") -> Actor:
    return Actor(user=grant.user, grant=grant, permissions=permissions_for(grant.role), ip=ip, via=via)
