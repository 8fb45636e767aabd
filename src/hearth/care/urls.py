from django.urls import include, path

from . import views

app_name = "care"

# The fixed paths come before `<slug:code>/`: a service's code is a slug too.
urlpatterns = [
    path("care/", views.index, name="index"),
    path("care/catalogue/", views.catalogue, name="catalogue"),
    path("care/catalogue/new/", views.service_create, name="service_create"),
    path("care/catalogue/<slug:code>/edit/", views.service_edit, name="service_edit"),
    path("care/persons/<uuid:person_id>/services/", views.person_services, name="person_services"),
    path("", include("hearth.care.urls_checkdays")),
    path("care/<slug:code>/", views.worklist, name="worklist"),
    path("care/<slug:code>/persons/<uuid:person_id>/record/", views.record, name="record"),
]
