"""Tests: immediate tasks, fast password hashing, the same database choice as the deployment (DATABASE_URL)."""

import os

os.environ.setdefault("HEARTH_SECURE_COOKIES", "0")

from .base import *  # noqa: F403

SECRET_KEY = "test-secret-key-not-for-production"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    # The production backend, for tests of the enqueueing itself.
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]},
}
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # Never the developer's var/hearth.sqlite3, even for a fixture that reaches the database unprepared.
    DATABASES["default"]["NAME"] = ":memory:"  # noqa: F405
# WhiteNoise would index every static file for each test client; tests look files up lazily instead.
WHITENOISE_AUTOREFRESH = True

# A fixed keyring: the same bytes on every run, never used outside tests.
HEARTH_KEYRING = {
    "current": "t1",
    "keys": {"t1": {"alg": "aes-256-gcm", "key": "dGVzdC1rZXktMDEtYWVzLTI1Ni1nY20tMzJieXRlcyE="}},
    "index": {"alg": "hmac-sha256", "key": "dGVzdC1pbmRleC1rZXktaG1hYy1zaGEyNTYtMzJieXRlcyEhIQ=="},
}

# Uploaded files (event attachments) go to a temporary directory, never var/media.
import tempfile  # noqa: E402

STORAGES["default"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": tempfile.mkdtemp(prefix="hearth-test-media-")},
}
