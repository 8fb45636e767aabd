from django.urls import include, path

from . import views

app_name = "registry"
urlpatterns = [
    path("persons/", views.person_list, name="person_list"),
    path("persons/new/", views.person_create, name="person_create"),
    path("persons/export/", views.person_export, name="person_export"),
    path("persons/export/<uuid:public_id>/", views.person_export_download, name="person_export_download"),
    path("persons/<uuid:public_id>/", views.person_detail, name="person_detail"),
    path("persons/<uuid:public_id>/edit/", views.person_edit, name="person_edit"),
    path("persons/<uuid:public_id>/reveal/", views.person_reveal, name="person_reveal"),
    path("persons/<uuid:public_id>/events/new/", views.event_create, name="event_create"),
    path("persons/<uuid:public_id>/birth/", views.birth_create, name="birth_create"),
    path("persons/<uuid:public_id>/merge/<uuid:other_id>/", views.person_merge, name="person_merge"),
    path("merges/<uuid:public_id>/undo/", views.merge_undo, name="merge_undo"),
    path("transfers/", views.transfer_list, name="transfer_list"),
    path("transfers/new/", views.transfer_create, name="transfer_create"),
    path("transfers/<uuid:public_id>/decide/", views.transfer_decide, name="transfer_decide"),
    path("events/<uuid:public_id>/correct/", views.event_correct, name="event_correct"),
    path("events/<uuid:public_id>/attachment/", views.event_attachment, name="event_attachment"),
    path("", include("hearth.registry.urls_lists")),
    path("", include("hearth.registry.urls_reports")),
]
