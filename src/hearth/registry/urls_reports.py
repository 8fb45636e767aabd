"""Change reports (变动报告) and household pages. Included from registry/urls.py."""

from django.urls import path

from . import views_reports as views

urlpatterns: list = [
    path("change-reports/", views.report_list, name="report_list"),
    path("change-reports/new/", views.report_create, name="report_create"),
    path("change-reports/<uuid:public_id>/", views.report_detail, name="report_detail"),
    path("change-reports/<uuid:public_id>/confirm/", views.report_confirm, name="report_confirm"),
    path("change-reports/<uuid:public_id>/reject/", views.report_reject, name="report_reject"),
    path("households/<uuid:public_id>/", views.household_detail, name="household_detail"),
    path("dwellings/<uuid:public_id>/household/", views.dwelling_household, name="dwelling_household"),
]
