from django.urls import path

from . import views

app_name = "places"
urlpatterns = [
    path("places/", views.place_list, name="place_list"),
    path("places/<uuid:public_id>/", views.place_detail, name="place_detail"),
    path("places/<uuid:public_id>/children/", views.place_add_child, name="place_add_child"),
    path("places/<uuid:public_id>/dwellings/", views.dwelling_add, name="dwelling_add"),
]
