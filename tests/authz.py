"""The authorization matrix's vocabulary. Each app lists its routes in `hearth/<app>/tests/authz_*.py` as
`ROUTES = [RouteCase(...)]`; tests/test_authorization_matrix.py runs every route × role × location and
fails for any URL pattern or API operation that has no RouteCase.

Expectations are written out here by hand, never read from the permission table in the database, so a
wrong row in that table makes the test fail.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from hearth.accounts.roles import Role

ROLES = [r.value for r in Role]
LOCATIONS = ["own", "child", "sibling", "other_district"]

# Who may read persons at all, and how (by role, as the foundation issue states it).
PERSON_READERS = {
    Role.DISTRICT_ADMIN,
    Role.SUBDISTRICT_OFFICER,
    Role.COMMUNITY_OFFICER,
    Role.ASSISTANT,
    Role.BUILDING_VOLUNTEER,
    Role.DATA_CLERK,
    Role.ASSOCIATION_OFFICER,
}
# Clinic staff read persons only through their facility's enrolments (none exist yet): they see nobody.
PERSON_EDITORS = {Role.SUBDISTRICT_OFFICER, Role.COMMUNITY_OFFICER, Role.ASSISTANT, Role.DATA_CLERK}
PERSON_CREATORS = PERSON_EDITORS
ID_REVEALERS = {Role.DISTRICT_ADMIN, Role.SUBDISTRICT_OFFICER}
EXPORTERS = {Role.DISTRICT_ADMIN, Role.SUBDISTRICT_OFFICER, Role.COMMUNITY_OFFICER, Role.DATA_CLERK}
EXPORT_APPROVERS = {Role.DISTRICT_ADMIN, Role.SUBDISTRICT_OFFICER}
PLACE_MANAGERS = {Role.DISTRICT_ADMIN, Role.SUBDISTRICT_OFFICER, Role.COMMUNITY_OFFICER, Role.DATA_CLERK}
# Places are not personal data: the account and grant administrators need the tree to do their work.
PLACE_READERS = PERSON_READERS | {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}
ACCOUNT_MANAGERS = {Role.SYSTEM_ADMIN}
GRANT_MANAGERS = {Role.SECURITY_ADMIN}
SETTINGS_MANAGERS = {Role.SYSTEM_ADMIN}
AUDITORS = {Role.AUDITOR}
IN_SCOPE = {"own", "child"}


@dataclass
class Ctx:
    """What a RouteCase callable gets: the fixture world, the acting role and the target location."""

    world: object
    role: str
    where: str

    @property
    def person(self):
        return self.world.person_for(self.role, self.where)

    @property
    def place(self):
        return self.world.place_for(self.role, self.where)


@dataclass
class RouteCase:
    """One URL name (HTML) or API operation, how to call it, and what each role should get."""

    name: str  # URL name ("registry:person_detail") or API operation id ("api:get_person")
    expect: Callable[[str, str], int]  # (role, where) -> HTTP status for a logged-in role
    method: str = "get"
    kwargs: Callable[[Ctx], dict] = field(default=lambda ctx: {})
    data: Callable[[Ctx], dict] | None = None
    anonymous: int = 302  # pages redirect to login; API routes answer 401
    json: bool = False
    query: str = ""


def allow(roles, ok: int = 200, denied: int = 404) -> Callable[[str, str], int]:
    """The same answer wherever the target is (pages without a target object)."""
    roles = {str(r) for r in roles}
    return lambda role, where: ok if role in roles else denied


def allow_in_scope(roles, ok: int = 200, denied: int = 404) -> Callable[[str, str], int]:
    """`ok` for the listed roles on a target in their own place or below; 404 otherwise (never 403)."""
    roles = {str(r) for r in roles}
    return lambda role, where: ok if role in roles and where in IN_SCOPE else denied


def everyone(ok: int = 200) -> Callable[[str, str], int]:
    return lambda role, where: ok
