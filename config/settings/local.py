"""Local and demo use: plain HTTP on loopback."""

import os

os.environ.setdefault("HEARTH_SECURE_COOKIES", "0")

from .base import *  # noqa: F403
from .base import VAR_DIR

if not SECRET_KEY:  # noqa: F405
    # A per-installation key kept beside the database, never in the repository.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

# A development/demo keyring beside the database, created on first use; production must supply its own.
HEARTH_KEY_FILE = HEARTH_KEY_FILE or str(VAR_DIR / "keys.json")  # noqa: F405
HEARTH_KEYS_AUTOCREATE = True
