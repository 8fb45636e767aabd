"""`hearth …`: the console entry point, a thin wrapper over the Django management commands.

`hearth audit verify`, `hearth token create --user NAME`, `hearth migrate`, `hearth load_demo`,
`hearth demo-data --persons N` … (a hyphen in the command name stands for an underscore)
"""

import os
import sys
from pathlib import Path


def main() -> None:
    # The project root (manage.py, config/) sits two levels above the package in this editable install.
    root = Path(__file__).resolve().parents[2]
    if (root / "config").is_dir() and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:]
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")  # `hearth demo-data` runs the demo_data command
    execute_from_command_line(["hearth", *args])


if __name__ == "__main__":
    main()
