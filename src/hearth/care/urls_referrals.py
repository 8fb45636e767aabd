"""Referrals and enrolments (转介与登记)."""

from django.urls import path

from . import views_referrals as views

urlpatterns = [
    path("care/referrals/", views.referral_list, name="referral_list"),
    path("care/referrals/<uuid:public_id>/close/", views.referral_close, name="referral_close"),
    path("care/persons/<uuid:person_id>/refer/", views.refer, name="refer"),
]
