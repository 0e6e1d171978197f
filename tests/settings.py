"""Settings for the test suite: Haven's own, plus an app of test-only models.

The test app gives the crypto tests data subjects of every kind before the domain apps
that own real ones exist; it is never installed outside tests.
"""

from haven.settings import *  # noqa: F403
from haven.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
