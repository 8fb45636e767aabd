from tests.authz import PLACE_MANAGERS, PLACE_READERS, RouteCase, allow, allow_in_scope

_place = lambda ctx: {"public_id": ctx.place.public_id}  # noqa: E731

ROUTES = [
    RouteCase("places:place_list", expect=allow(PLACE_READERS)),
    RouteCase("places:place_detail", kwargs=_place, expect=allow_in_scope(PLACE_READERS)),
    # An empty form: the managers in scope get the form back with its errors (422), everyone else 404.
    RouteCase(
        "places:place_add_child",
        method="post",
        kwargs=_place,
        data=lambda ctx: {},
        expect=allow_in_scope(PLACE_MANAGERS, ok=422),
    ),
    RouteCase(
        "places:dwelling_add",
        method="post",
        kwargs=_place,
        data=lambda ctx: {},
        expect=allow_in_scope(PLACE_MANAGERS, ok=422),
    ),
    RouteCase("api:list_places", expect=allow(PLACE_READERS), anonymous=401),
    RouteCase(
        "api:get_place",
        kwargs=lambda ctx: {"place_id": ctx.place.public_id},
        expect=allow_in_scope(PLACE_READERS),
        anonymous=401,
    ),
]

ROUTES += [
    # Renaming and merging act on places strictly below the actor's own; empty forms come back as 422.
    RouteCase(
        "places:place_rename",
        method="post",
        kwargs=_place,
        data=lambda ctx: {},
        expect=lambda role, where: 422 if role in PLACE_MANAGERS and where == "child" else 404,
    ),
    RouteCase(
        "places:place_merge",
        method="post",
        kwargs=_place,
        data=lambda ctx: {},
        expect=lambda role, where: 422 if role in PLACE_MANAGERS and where == "child" else 404,
    ),
    RouteCase("places:facility_list", expect=allow(PLACE_READERS)),
    RouteCase(
        "api:list_dwellings",
        kwargs=lambda ctx: {"place_id": ctx.place.public_id},
        expect=allow_in_scope(PLACE_READERS),
        anonymous=401,
    ),
    RouteCase("api:list_facilities", expect=allow(PLACE_READERS), anonymous=401),
]

ROUTES += [
    RouteCase("places:dwelling_search", query="q=室", expect=allow(PLACE_READERS)),
]
