"""Opens a key scope around every request, so unwrapped data keys die with the request.

Invariant: whatever the view does, and whether it returns or raises, the cache of unwrapped
keys is emptied before the response leaves this middleware. A streaming body that decrypts
while it is sent runs after that, uncached: it unwraps again, it never reuses a dead scope.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from haven.crypto.cache import key_scope


class DataKeyCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with key_scope():
            return self.get_response(request)
