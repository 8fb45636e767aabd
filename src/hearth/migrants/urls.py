from django.urls import path

from . import views

app_name = "migrants"
urlpatterns = [
    path("persons/<uuid:public_id>/inflow/", views.inflow_edit, name="inflow_edit"),
    path("persons/<uuid:public_id>/outflow/", views.outflow_edit, name="outflow_edit"),
    path("migrants/inflow/new/", views.inflow_register, name="inflow_register"),
    path("landlords/", views.landlord_list, name="landlord_list"),
    path("landlords/new/", views.landlord_create, name="landlord_create"),
    path("landlords/worklist/", views.rental_worklist, name="rental_worklist"),
    path("landlords/<uuid:public_id>/", views.landlord_detail, name="landlord_detail"),
    path("landlords/<uuid:public_id>/edit/", views.landlord_edit, name="landlord_edit"),
    path("landlords/<uuid:public_id>/tenancies/new/", views.tenancy_create, name="tenancy_create"),
    path("tenancies/<uuid:public_id>/end/", views.tenancy_end, name="tenancy_end"),
    path("tenancies/<uuid:public_id>/tenants/", views.tenancy_tenants, name="tenancy_tenants"),
]
