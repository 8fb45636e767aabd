def actor(request):
    a = getattr(request, "actor", None)
    if a is None or a.grant is None:
        return {"actor": a}
    from .models import Grant
    from .navigation import menu_entries

    place = a.scope_place
    grants = Grant.objects.active().filter(user=a.user).select_related("place", "facility")
    return {
        "actor": a,
        "nav_menu": menu_entries(a),
        "user_grants": list(grants),
        "scope_breadcrumbs": list(place.ancestors()) if place else [],
    }
