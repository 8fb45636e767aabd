from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("audit/", views.audit_log, name="log"),
    path("audit/export/", views.audit_export, name="export"),
    path("exports/", views.export_list, name="export_list"),
    path("exports/<uuid:public_id>/decide/", views.export_decide, name="export_decide"),
]
