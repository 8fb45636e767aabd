"""Tests: immediate tasks, fast password hashing, the same database choice as the deployment (DATABASE_URL)."""

import os

os.environ.setdefault("HEARTH_SECURE_COOKIES", "0")

from .base import *  # noqa: F403

SECRET_KEY = "test-secret-key-not-for-production"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
