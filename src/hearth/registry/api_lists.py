"""Derived lists (派生名单) over the API, mounted at /api/v1/lists: definitions, members as of a date, edits."""

from datetime import date

from ninja import Query, Router, Schema
from pydantic import Field

from hearth.accounts.roles import Perm
from hearth.core import time
from hearth.core.api import Paging

from . import lists
from .api import PersonOut
from .models import ListDefinition

router = Router(tags=["lists"])


class ListOut(Schema):
    code: str
    name: str
    description: str
    rule: str
    rule_error: str | None = None
    spec: dict
    version: int
    active: bool


class ListIn(Schema):
    spec: dict
    name: str = Field(max_length=lists.NAME_MAX)
    description: str = Field("", max_length=lists.DESCRIPTION_MAX)
    version: int


class MemberOut(PersonOut):
    age_as_of: int | None = None


class MemberPage(Schema):
    items: list[MemberOut]
    count: int
    list: str
    version: int
    as_of: date


def _reader(actor) -> None:
    """Readers of lists, or those who maintain them (the definitions are rules, not personal data)."""
    if not actor.can(Perm.LIST_MANAGE):
        lists.require_reader(actor)


def _out(definition: ListDefinition) -> dict:
    rule, error = lists.describe(definition)
    return {
        "code": definition.code,
        "name": definition.name,
        "description": definition.description,
        "rule": rule,
        "rule_error": error or None,
        "spec": definition.spec,
        "version": definition.version,
        "active": definition.active,
    }


@router.get("", response=list[ListOut], exclude_none=True, url_name="list_lists", operation_id="list_lists")
def list_lists(request):
    """Definitions (active ones; all of them for those who maintain lists), with the rule in Chinese."""
    actor = request.actor
    _reader(actor)
    return [_out(d) for d in lists.definitions(include_inactive=actor.can(Perm.LIST_MANAGE))]


@router.get("/{code}", response=ListOut, exclude_none=True, url_name="get_list", operation_id="get_list")
def get_list(request, code: str):
    actor = request.actor
    _reader(actor)
    return _out(lists.definition_get(code, include_inactive=actor.can(Perm.LIST_MANAGE)))


@router.get(
    "/{code}/members",
    response=MemberPage,
    exclude_none=True,
    url_name="list_list_members",
    operation_id="list_list_members",
)
def list_list_members(request, code: str, paging: Query[Paging], as_of: date | None = None):
    """Members in the caller's scope on `as_of` (default today), by name; one audit row per request."""
    actor = request.actor
    lists.require_reader(actor)
    definition = lists.definition_get(code)
    as_of = lists.check_as_of(as_of or time.today())
    persons, total = lists.list_members(
        actor=actor, definition=definition, as_of=as_of, limit=paging.limit, offset=paging.offset
    )
    return {
        "items": lists.member_rows(persons, actor, as_of),
        "count": total,
        "list": definition.code,
        "version": definition.version,
        "as_of": as_of,
    }


@router.put(
    "/{code}", response=ListOut, exclude_none=True, url_name="update_list", operation_id="update_list"
)
def update_list(request, code: str, body: ListIn):
    """Change the condition, name or description; `version` is the one read (a stale one gets 422)."""
    actor = request.actor
    actor.require(Perm.LIST_MANAGE)
    definition = lists.definition_get(code, include_inactive=True)
    definition = lists.list_definition_update(
        actor=actor,
        definition=definition,
        spec=body.spec,
        name=body.name,
        description=body.description,
        version=body.version,
    )
    return _out(definition)
