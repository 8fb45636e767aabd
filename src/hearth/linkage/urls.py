from django.urls import path

from . import views

app_name = "linkage"

urlpatterns = [
    path("linkage/", views.list_index, name="list_index"),
    path("linkage/facts/", views.facts, name="facts"),
    path("linkage/missing/", views.missing, name="missing"),
    path("linkage/disagreements/", views.disagreements, name="disagreements"),
    path("linkage/duplicates/", views.duplicates, name="duplicates"),
    path("linkage/duplicates/<uuid:public_id>/dismiss/", views.duplicate_dismiss, name="duplicate_dismiss"),
    path("linkage/<uuid:public_id>/", views.list_detail, name="list_detail"),
    path("linkage/<uuid:public_id>/progress/", views.list_progress, name="list_progress"),
    path("linkage/<uuid:public_id>/mapping/", views.list_mapping, name="list_mapping"),
    path("linkage/<uuid:public_id>/apply/", views.list_apply, name="list_apply"),
    path("linkage/<uuid:public_id>/records/", views.list_records, name="list_records"),
    path("linkage/<uuid:public_id>/rows/<int:row>/", views.record_review, name="record_review"),
    path("linkage/<uuid:public_id>/rows/<int:row>/register/", views.record_register, name="record_register"),
]
