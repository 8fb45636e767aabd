import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from hearth.accounts.services import token_create
from hearth.audit.models import AuditEntry
from hearth.testing import PASSWORD, SYSTEM


def post_login(client, username, password):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR="10.0.0.7")


def test_login_success_and_failure_are_audited(world, client):
    assert post_login(client, "u_community_officer", "wrong-password").status_code == 200
    fail = AuditEntry.objects.filter(action="login.failure").get()
    assert fail.object_id == "u_community_officer" and fail.ip == "10.0.0.7"
    r = post_login(client, "u_community_officer", PASSWORD)
    assert r.status_code == 302
    ok = AuditEntry.objects.filter(action="login.success").get()
    assert ok.actor_username == "u_community_officer" and ok.role == "community_officer"


def test_five_failures_lock_the_account_on_that_address(world, settings):
    client = Client()
    for _ in range(5):
        r = post_login(client, "u_community_officer", "wrong-password")
    # The lockout says so clearly; even the right password is refused now.
    r = post_login(client, "u_community_officer", PASSWORD)
    assert r.status_code == 429
    assert "锁定15分钟" in r.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not locked (the lock is account + IP).
    other = Client().post(
        "/login/", {"username": "u_community_officer", "password": PASSWORD}, REMOTE_ADDR="10.0.0.8"
    )
    assert other.status_code == 302


def test_second_factor_is_required_where_the_role_asks(world):
    client = Client()
    r = post_login(client, "u_district_admin", PASSWORD)
    assert r.status_code == 302
    # Not yet enrolled: every page leads to enrolment first.
    assert client.get("/persons/").url == "/login/otp/"
    assert client.get("/login/otp/").url == "/account/otp/enrol/"
    page = client.get("/account/otp/enrol/")
    assert page.status_code == 200 and b"data:image/svg+xml;base64," in page.content
    device = TOTPDevice.objects.get(user=world.users["district_admin"])
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    assert client.post("/account/otp/enrol/", {"token": f"{token:06d}"}).status_code == 302
    assert client.get("/persons/").status_code == 200


def test_wrong_second_factor_is_refused(world):
    client = Client()
    TOTPDevice.objects.create(user=world.users["auditor"], name="default", confirmed=True)
    post_login(client, "u_auditor", PASSWORD)
    r = client.post("/login/otp/", {"token": "000000"})
    assert r.status_code == 200 and "验证码错误" in r.content.decode()
    assert client.get("/audit/").status_code == 302


def test_roles_without_the_requirement_need_no_second_factor(world):
    client = Client()
    post_login(client, "u_community_officer", PASSWORD)
    assert client.get("/persons/").status_code == 200


def test_demo_accounts_skip_the_second_factor(world):
    user = world.users["district_admin"]
    user.is_demo = True
    user.save()
    client = Client()
    post_login(client, "u_district_admin", PASSWORD)
    assert client.get("/persons/").status_code == 200


def test_several_grants_choose_one_and_switch(world, client):
    from hearth.accounts.services import grant_create

    user = world.users["community_officer"]
    second = grant_create(actor=SYSTEM, user=user, role="association_officer", place=world.places["A1b"])
    post_login(client, "u_community_officer", PASSWORD)
    assert client.get("/").url == "/login/grant/"
    client.post("/login/grant/", {"grant": str(world.grants["community_officer"].public_id)})
    assert "居民A1b" not in client.get("/persons/").content.decode()
    client.post("/account/grant/switch/", {"grant": str(second.public_id)})
    page = client.get("/persons/").content.decode()
    assert "居民A1b" in page and "居民A1a" not in page
    assert AuditEntry.objects.filter(action="grant.switch").count() == 1


def test_idle_timeout_and_cookie_flags(settings):
    from django.conf import settings as s

    assert s.SESSION_COOKIE_AGE == 30 * 60 and s.SESSION_SAVE_EVERY_REQUEST
    assert s.SESSION_COOKIE_HTTPONLY and s.AXES_FAILURE_LIMIT == 5


def test_security_headers(world, client):
    r = client.get("/login/")
    assert "script-src 'self'" in r["Content-Security-Policy"]
    assert r["X-Frame-Options"] == "DENY" and r["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer hth_abc_def", ""])
def test_api_refuses_bad_tokens(world, client, header):
    r = client.get("/api/v1/persons", HTTP_AUTHORIZATION=header)
    assert r.status_code == 401


def test_token_acts_exactly_as_its_grant_and_can_be_revoked(world, client):
    token, secret = token_create(actor=SYSTEM, grant=world.grants["community_officer"], name="t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    r = client.get("/api/v1/persons", **auth)
    assert r.status_code == 200 and r.json()["count"] == 4
    assert client.get(f"/api/v1/persons/{world.persons['A1b'].public_id}", **auth).status_code == 404
    entry = AuditEntry.objects.filter(action="person.list").latest("id")
    assert entry.via == "token" and entry.role == "community_officer"
    # Tokens need no CSRF token, but a session does for writes.
    assert client.post("/api/v1/tokens/" + str(token.public_id) + "/revoke", **auth).status_code == 200
    assert client.get("/api/v1/persons", **auth).status_code == 401


def test_session_api_writes_need_csrf(world):
    client = Client(enforce_csrf_checks=True)
    world.login(client, "community_officer")
    r = client.patch(
        f"/api/v1/persons/{world.persons['A1a'].public_id}",
        '{"version": 1, "name": "X"}',
        content_type="application/json",
    )
    assert r.status_code in {401, 403}
