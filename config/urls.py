from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from .api import api

urlpatterns = [
    path("", include("hearth.core.urls")),
    path("", include("hearth.accounts.urls")),
    path("", include("hearth.places.urls")),
    path("", include("hearth.registry.urls")),
    path("", include("hearth.migrants.urls")),
    path("", include("hearth.imports.urls")),
    path("", include("hearth.linkage.urls")),
    path("", include("hearth.care.urls")),
    path("", include("hearth.preconception.urls")),
    path("", include("hearth.documents.urls")),
    path("", include("hearth.audit.urls")),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("api/v1/", api.urls),
]
