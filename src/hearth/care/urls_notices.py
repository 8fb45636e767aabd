"""Notices (通知单): who needs one, one person's PDF, combined PDFs made in the background, SMS texts, marking."""

from django.urls import path

from . import views_notices as views

# Fixed paths under care/notices/ first; a service's code is a slug too (catalogue reserves "notices").
urlpatterns = [
    path("care/notices/batches/<uuid:public_id>/", views.notices_batch, name="notices_batch"),
    path("care/notices/batches/<uuid:public_id>/pdf/", views.notices_batch_pdf, name="notices_batch_pdf"),
    path("care/notices/documents/<uuid:public_id>/mark/", views.notice_mark, name="notice_mark"),
    path("care/<slug:code>/notices/", views.notices_page, name="notices"),
    path("care/<slug:code>/notices/generate/", views.notices_generate, name="notices_generate"),
    path("care/<slug:code>/notices/persons/<uuid:person_id>/pdf/", views.notice_pdf, name="notice_pdf"),
    path("care/<slug:code>/notices/persons/<uuid:person_id>/sms/", views.notice_sms, name="notice_sms"),
]
