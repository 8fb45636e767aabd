from django.urls import include, path

from . import views, views_exports

app_name = "care"

# The fixed paths come before `<slug:code>/`: a service's code is a slug too.
urlpatterns = [
    path("care/", views.index, name="index"),
    path("care/catalogue/", views.catalogue, name="catalogue"),
    path("care/catalogue/new/", views.service_create, name="service_create"),
    path("care/catalogue/<slug:code>/edit/", views.service_edit, name="service_edit"),
    path("care/persons/<uuid:person_id>/services/", views.person_services, name="person_services"),
    path("", include("hearth.care.urls_checkdays")),
    path("", include("hearth.care.urls_notices")),
    path("", include("hearth.care.urls_referrals")),
    path(
        "care/exports/<uuid:public_id>/",
        views_exports.worklist_export_download,
        name="worklist_export_download",
    ),
    path("care/<slug:code>/", views.worklist, name="worklist"),
    path("care/<slug:code>/export/", views_exports.worklist_export, name="worklist_export"),
    path("care/<slug:code>/persons/<uuid:person_id>/record/", views.record, name="record"),
]
