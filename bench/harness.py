"""What every benchmark script shares: a throwaway instance in a temporary folder."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def throwaway_instance(database_url: str = "") -> Path:
    """Set Django up on fresh databases and keys in a temporary folder, migrated; returns it.

    SQLite unless ``database_url`` names a PostgreSQL database (whose tables it creates).
    """
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="haven-bench-"))
    os.environ["HAVEN_VAR_DIR"] = str(work / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    if database_url:
        os.environ["HAVEN_DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    for alias in connections:
        call_command("migrate", database=alias, verbosity=0)
    return work
