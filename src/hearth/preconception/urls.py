"""Pages of the free pre-pregnancy eugenic check (孕前优生)."""

from django.urls import path

from . import views

app_name = "preconception"

urlpatterns = [
    path("preconception/", views.enrolment_list, name="enrolment_list"),
    path("preconception/persons/<uuid:person_id>/enrol/", views.enrol, name="enrol"),
    path("preconception/<uuid:public_id>/", views.enrolment_detail, name="enrolment_detail"),
    path("preconception/<uuid:public_id>/card/", views.service_card, name="card"),
    path("preconception/<uuid:public_id>/examine/<slug:who>/", views.examine, name="examine"),
    path("preconception/<uuid:public_id>/deliver/", views.deliver, name="deliver"),
    path("preconception/<uuid:public_id>/follow-up/", views.follow_up, name="follow_up"),
    path("preconception/<uuid:public_id>/outcome/", views.outcome, name="outcome"),
    path("preconception/<uuid:public_id>/consent/", views.consent, name="consent"),
    path("preconception/<uuid:public_id>/date/", views.reschedule, name="reschedule"),
    path("preconception/<uuid:public_id>/withdraw/", views.withdraw, name="withdraw"),
]
