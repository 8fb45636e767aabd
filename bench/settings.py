"""Settings for the benchmark: the local settings with a bench-only database.

`bench.run` sets HEARTH_BENCH_DATABASE_URL (from --db-url or DATABASE_URL) before Django starts; without it
the database is var/bench/bench.sqlite3, deleted and recreated on each run. The developer's
var/hearth.sqlite3 is never opened.
"""

import os

import dj_database_url

from config.settings.local import *  # noqa: F403
from config.settings.local import ALLOWED_HOSTS, INSTALLED_APPS, STORAGES, VAR_DIR

BENCH_DATABASE_URL = os.environ.get("HEARTH_BENCH_DATABASE_URL", "")
BENCH_SQLITE_PATH = VAR_DIR / "bench.sqlite3"

if BENCH_DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(BENCH_DATABASE_URL, conn_max_age=0)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BENCH_SQLITE_PATH),
            # The same options as config.settings.base uses for SQLite, so the figures mean the same thing.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
        }
    }

DEBUG = False
# The page figure goes through django.test.Client, whose requests carry Host: testserver.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
# No collectstatic for a benchmark: plain static storage, so {% static %} needs no manifest.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# The import figure compares with django-import-export (bench/import_export_compare.py); only the bench
# installs its app, never the product settings.
INSTALLED_APPS = [*INSTALLED_APPS, "import_export"]
