"""System checks for what Haven relies on and Django cannot see by itself."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.module_loading import import_string


@register("security", deploy=True)
def csrf_middleware_present(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Stands in for Django's security.W003, which only recognises its own class by name."""
    for dotted in settings.MIDDLEWARE:
        middleware = import_string(dotted)
        if isinstance(middleware, type) and issubclass(middleware, CsrfViewMiddleware):
            return []
    return [Error("No CSRF middleware is installed.", id="haven.E001")]
