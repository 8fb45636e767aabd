from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("imports/", views.job_list, name="job_list"),
    path("imports/<uuid:public_id>/", views.job_detail, name="job_detail"),
    path("imports/<uuid:public_id>/progress/", views.job_progress, name="job_progress"),
    path("imports/<uuid:public_id>/mapping/", views.job_mapping, name="job_mapping"),
    path("imports/<uuid:public_id>/commit/", views.job_commit, name="job_commit"),
    path("imports/<uuid:public_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("imports/<uuid:public_id>/errors.xlsx", views.job_errors, name="job_errors"),
]
