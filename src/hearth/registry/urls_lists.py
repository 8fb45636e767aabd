"""Derived lists (派生名单) pages. Owned by the lists work; included from registry/urls.py."""

from django.urls import path

from . import views_lists

urlpatterns = [
    path("lists/", views_lists.list_index, name="list_index"),
    path("lists/export/<uuid:public_id>/", views_lists.list_export_download, name="list_export_download"),
    path("lists/<slug:code>/", views_lists.list_detail, name="list_detail"),
    path("lists/<slug:code>/export/", views_lists.list_export, name="list_export"),
    path("lists/<slug:code>/edit/", views_lists.list_edit, name="list_edit"),
]
