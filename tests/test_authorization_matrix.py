"""Every URL pattern and API operation × every role × {own, child, sibling, other district} + anonymous.

The world is built once per module inside an outer transaction; each case runs in the `db` fixture's
atomic block (a savepoint inside it) that is rolled back, so cases cannot see each other's writes.
"""

import importlib
import json
import pkgutil

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import hearth
from hearth.testing import build_world
from tests.authz import LOCATIONS, ROLES, Ctx, RouteCase


def _collect_cases() -> dict[str, RouteCase]:
    cases: dict[str, RouteCase] = {}
    for mod in pkgutil.walk_packages(hearth.__path__, "hearth."):
        if ".tests.authz_" not in mod.name:
            continue
        for case in importlib.import_module(mod.name).ROUTES:
            assert case.name not in cases, f"{case.name} listed twice in the authorization matrix"
            cases[case.name] = case
    return cases


def _url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, ns):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, ":".join(x for x in (ns, p.namespace) if x) or None)
            elif isinstance(p, URLPattern):
                assert p.name, f"unnamed URL pattern {p.pattern} cannot be in the matrix"
                names.add(f"{ns}:{p.name}" if ns else p.name)

    walk(get_resolver().url_patterns, None)
    return names


CASES = _collect_cases()
# ninja's root view only says where the docs are; it holds no data.
UNLISTED_OK = {"api:api-root"}


def test_every_route_is_in_the_matrix():
    missing = sorted(_url_names() - set(CASES) - UNLISTED_OK)
    assert not missing, f"routes without a row in the authorization matrix: {missing}"


def test_matrix_lists_no_unknown_routes():
    unknown = sorted(set(CASES) - _url_names())
    assert not unknown, f"matrix rows for routes that do not exist: {unknown}"


@pytest.fixture(scope="module")
def mworld(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def case_world(mworld, db):
    """The `db` fixture's per-test atomic block nests inside the module's, as a savepoint rolled back after."""
    return mworld


def _call(client: Client, case: RouteCase, ctx: Ctx):
    url = reverse(case.name, kwargs=case.kwargs(ctx)) + (f"?{case.query}" if case.query else "")
    data = case.data(ctx) if case.data else None
    call = getattr(client, case.method)
    if case.json:
        return call(url, data=json.dumps(data or {}), content_type="application/json")
    if case.method == "patch":
        return call(url, data=json.dumps(data or {}), content_type="application/json")
    return call(url, data=data or {}) if case.method == "post" else call(url)


@pytest.mark.parametrize("where", LOCATIONS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_route_role_location(case_world, name, role, where):
    case = CASES[name]
    client = Client()
    case_world.login(client, role)
    ctx = Ctx(world=case_world, role=role, where=where)
    response = _call(client, case, ctx)
    expected = case.expect(role, where)
    assert response.status_code == expected, response.content[:300].decode(errors="replace") + (
        f"{name} as {role} on a target at {where}: got {response.status_code}, expected {expected}"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_route_anonymous(case_world, name):
    case = CASES[name]
    ctx = Ctx(world=case_world, role="community_officer", where="own")
    response = _call(Client(), case, ctx)
    assert response.status_code == case.anonymous, f"{name} anonymous: got {response.status_code}"
    if case.anonymous == 302 and response.status_code == 302:
        assert "/login/" in response["Location"] or case.name in {"accounts:logout", "set_language"}
