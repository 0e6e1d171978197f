"""The only place unwrapped keys are kept between uses: a per-request (or per-task) cache.

Invariant: an unwrapped data key or intake private key outlives the request or task that
unwrapped it by no more than the end of its ``key_scope()``: the scope empties the cache when
it closes. Outside any scope nothing is cached, and every use unwraps again (slower, never
wrong). ``DataKeyCacheMiddleware`` opens a scope around each request; tasks and commands use
``key_scope()`` themselves.

Python cannot promise to wipe memory; dropping every reference is the most it can do.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

_unwrapped: contextvars.ContextVar[dict[Hashable, bytes] | None] = contextvars.ContextVar(
    "haven_unwrapped_keys", default=None
)


@contextmanager
def key_scope() -> Iterator[None]:
    """Cache unwrapped keys until the block ends. Nested scopes share the outermost one."""
    if _unwrapped.get() is not None:
        yield
        return
    store: dict[Hashable, bytes] = {}
    token = _unwrapped.set(store)
    try:
        yield
    finally:
        store.clear()
        _unwrapped.reset(token)


def scope_active() -> bool:
    return _unwrapped.get() is not None


def cached_key(name: Hashable) -> bytes | None:
    store = _unwrapped.get()
    return None if store is None else store.get(name)


def remember_key(name: Hashable, key: bytes) -> None:
    """Keep ``key`` until the current scope ends; outside a scope, do nothing."""
    store = _unwrapped.get()
    if store is not None:
        store[name] = key


def cached_or(name: Hashable, unwrap: Callable[[], bytes]) -> bytes:
    """The key named ``name`` from this scope's cache, or ``unwrap()`` and remember it."""
    key = cached_key(name)
    if key is None:
        key = unwrap()
        remember_key(name, key)
    return key


def forget_key(name: Hashable) -> None:
    """Drop one key now (after it is destroyed, so this request cannot keep using it)."""
    store = _unwrapped.get()
    if store is not None:
        store.pop(name, None)


def forget_all() -> None:
    """Drop every key of the current scope (emergency destruction)."""
    store = _unwrapped.get()
    if store is not None:
        store.clear()


def cached_count() -> int:
    store = _unwrapped.get()
    return 0 if store is None else len(store)
