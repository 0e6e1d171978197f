"""WSGI entry point for gunicorn and the embedded server."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
# Everything Haven writes (database, keys, logs) is readable by its own user only.
os.umask(0o077)

application = get_wsgi_application()
