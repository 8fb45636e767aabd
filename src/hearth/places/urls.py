from django.urls import path

from . import views, views_bulk

app_name = "places"
urlpatterns = [
    path("places/", views.place_list, name="place_list"),
    path("places/<uuid:public_id>/", views.place_detail, name="place_detail"),
    path("places/<uuid:public_id>/children/", views.place_add_child, name="place_add_child"),
    path("places/<uuid:public_id>/dwellings/", views.dwelling_add, name="dwelling_add"),
    path("places/<uuid:public_id>/rename/", views.place_rename, name="place_rename"),
    path("places/<uuid:public_id>/merge/", views.place_merge, name="place_merge"),
    path("facilities/", views.facility_list, name="facility_list"),
    path("dwellings/search/", views.dwelling_search, name="dwelling_search"),
    path("setup/import/", views_bulk.bulk_import, name="bulk_import"),
    path("setup/import/template/<slug:kind>/", views_bulk.bulk_template, name="bulk_template"),
    path("setup/import/<str:token>/errors/", views_bulk.bulk_errors, name="bulk_errors"),
]
