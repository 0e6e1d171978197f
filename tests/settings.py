"""Settings for the test suite: Haven's own, plus an app of test-only models.

The test app gives the crypto tests data subjects of every kind before the domain apps
that own real ones exist; it is never installed outside tests.
"""

import os
import tempfile
from pathlib import Path

from haven.settings import *  # noqa: F403
from haven.settings import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]

# A file-backed SQLite test database, so the canary scan can read what reaches the disk
# (main file, -wal and -shm) exactly as an attacker with the disk would.
for _alias, _database in DATABASES.items():
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        _test_db = Path(tempfile.gettempdir()) / f"haven-test-{os.getpid()}-{_alias}.sqlite3"
        _database["TEST"] = {"NAME": str(_test_db)}
