"""Check days (集中康检日): planning, invitations, attendance, make-up checks."""

from django.urls import path

from . import views_checkdays as views

urlpatterns = [
    path("care/checkdays/", views.checkday_list, name="checkday_list"),
    path("care/checkdays/new/", views.checkday_new, name="checkday_new"),
    path("care/checkdays/<uuid:day_id>/", views.checkday_detail, name="checkday_detail"),
    path("care/checkdays/<uuid:day_id>/makeup/", views.checkday_makeup, name="checkday_makeup"),
    path("care/checkdays/<uuid:day_id>/attendance/", views.attendance, name="attendance"),
]
