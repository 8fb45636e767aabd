from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("login/grant/", views.choose_grant, name="choose_grant"),
    path("login/otp/", views.otp_verify, name="otp"),
    path("account/otp/enrol/", views.otp_enrol, name="otp_enrol"),
    path("account/grant/switch/", views.switch_grant, name="switch_grant"),
    path("account/tokens/", views.tokens, name="tokens"),
    path("account/tokens/<uuid:public_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("admin/users/", views.user_list, name="user_list"),
    path("admin/users/<uuid:public_id>/", views.user_detail, name="user_detail"),
    path("admin/grants/<uuid:public_id>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("admin/permissions/", views.permissions, name="permissions"),
    path("admin/settings/", views.system_settings, name="settings"),
]
