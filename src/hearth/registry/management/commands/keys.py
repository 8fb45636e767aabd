"""`hearth keys init|add|status|rotate`: the keyring for encrypted ID numbers (docs/adr/0004)."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hearth.accounts.actor import Actor
from hearth.core import crypto
from hearth.registry import keys


class Command(BaseCommand):
    help = "Manage the keyring of encrypted ID numbers: init, add a key, status, rotate."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        init = sub.add_parser("init", help="create the key file (HEARTH_KEY_FILE) if it does not exist")
        init.add_argument("--alg", choices=[crypto.AES, crypto.SM4], default=settings.HEARTH_ID_CIPHER)
        init.add_argument(
            "--index-alg", choices=[crypto.HMAC_SHA256, crypto.HMAC_SM3], default=crypto.HMAC_SHA256
        )
        add = sub.add_parser("add", help="add a new data key and make it current (then run rotate)")
        add.add_argument("--alg", choices=[crypto.AES, crypto.SM4], default=settings.HEARTH_ID_CIPHER)
        sub.add_parser("status", help="which keys exist and how many values each encrypts")
        rotate = sub.add_parser(
            "rotate", help="re-encrypt values under the current key, in batches (resumable)"
        )
        rotate.add_argument("--batch", type=int, default=2000)

    def handle(self, *args, action, **opts):
        getattr(self, f"_{action}")(**opts)

    def _path(self):
        path = crypto.key_file_path()
        if path is None:
            raise CommandError(
                "HEARTH_KEY_FILE is not set; keys from HEARTH_ID_KEYS are managed outside Hearth."
            )
        return path

    def _init(self, alg, index_alg, **_):
        path = self._path()
        if path.exists():
            raise CommandError(f"{path} exists; use `keys add` to add a key.")
        crypto.write_key_file(path, crypto.new_keyring_data(alg, index_alg))
        self.stdout.write(
            f"created {path} (data key k1, {alg}; index {index_alg}). Back it up apart from the database."
        )

    def _add(self, alg, **_):
        path = self._path()
        data = json.loads(path.read_text())
        n = 1 + max(int(k[1:]) for k in data["keys"] if k[1:].isdigit())
        key_id = f"k{n}"
        data["keys"][key_id] = crypto.new_key_spec(alg)
        data["current"] = key_id
        crypto.parse_keyring(data)  # refuse to write a keyring that would not load
        crypto.write_key_file(path, data)
        crypto.reset_keyring_cache()
        self.stdout.write(
            f"added {key_id} ({alg}) as the current key; run `hearth keys rotate`, then restart."
        )

    def _status(self, **_):
        ring = crypto.keyring()
        usage = keys.key_usage()
        for key_id, key in sorted(ring.keys.items()):
            mark = " (current)" if key_id == ring.current else ""
            self.stdout.write(f"{key_id}{mark}: {key.alg}, {usage.pop(key_id, 0)} values")
        for key_id, n in usage.items():
            self.stdout.write(
                self.style.ERROR(f"{key_id}: NOT IN THE KEYRING, {n} values cannot be decrypted")
            )
        self.stdout.write(f"index: {ring.index_alg}")

    def _rotate(self, batch, **_):
        def progress(done, total):
            self.stdout.write(f"\r{done}/{total}", ending="")
            self.stdout.flush()

        n = keys.rotate(actor=Actor.system("keys rotate"), batch=batch, progress=progress)
        self.stdout.write(f"\nre-encrypted {n} values under {crypto.keyring().current}")
