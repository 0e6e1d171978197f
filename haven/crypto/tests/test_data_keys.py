"""Data keys: wrapped at rest, unwrapped only for the length of a request or task."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from haven.crypto import cache
from haven.crypto.datakeys import forget_data_key, new_data_key, unwrap_data_key
from haven.crypto.errors import DecryptionError
from haven.crypto.middleware import DataKeyCacheMiddleware
from haven.crypto.models import DataKey
from haven.crypto.tests.conftest import make_subject
from tests.factories import all_queries
from tests.testapp.models import Subject


def test_data_key_is_stored_wrapped_and_bound_to_its_row(db: Any) -> None:
    data_key = new_data_key()
    stored = DataKey.objects.get(pk=data_key.pk)
    dek = unwrap_data_key(stored)
    assert len(dek) == 32
    assert dek not in bytes(stored.wrapped)
    assert bytes(stored.wrapped)[0] == 1 and len(bytes(stored.wrapped)) == 1 + 24 + 32 + 16
    assert stored.kek_version == 1
    assert str(stored.pk) in repr(stored) and dek.hex() not in repr(stored)


def test_each_subject_gets_its_own_key(db: Any) -> None:
    assert unwrap_data_key(new_data_key()) != unwrap_data_key(new_data_key())


def test_tampered_wrapped_key_is_refused_naming_it(db: Any) -> None:
    data_key = new_data_key()
    wrapped = bytearray(bytes(data_key.wrapped))
    wrapped[-1] ^= 1
    DataKey.objects.filter(pk=data_key.pk).update(wrapped=bytes(wrapped))
    with pytest.raises(DecryptionError, match=f"Data key {data_key.pk}"):
        unwrap_data_key(DataKey.objects.get(pk=data_key.pk))


def test_nothing_is_cached_outside_a_scope(mission: Any) -> None:
    subject = make_subject(mission, name="Jane", nickname="J")
    assert cache.cached_count() == 0
    reloaded = Subject.objects.get(pk=subject.pk)
    with all_queries() as queries:  # the data key row, fetched once per instance
        assert (reloaded.name, reloaded.nickname) == ("Jane", "J")
    assert queries.count == 1
    assert cache.cached_count() == 0


def test_a_scope_unwraps_each_key_once_and_forgets_it_at_the_end(mission: Any) -> None:
    subject = make_subject(mission, name="Jane")
    make_subject(mission, name="John", data_key=subject.data_key)
    with cache.key_scope():
        with all_queries() as queries:  # the rows, then the one shared data key
            assert sorted(s.name for s in Subject.objects.all()) == ["Jane", "John"]
        assert queries.count == 2
        assert cache.cached_count() == 1
        with all_queries() as queries:  # the rows only: the key is cached
            assert sorted(s.name for s in Subject.objects.all()) == ["Jane", "John"]
        assert queries.count == 1
        with cache.key_scope():  # nested scopes share the outer cache
            assert cache.cached_count() == 1
        assert cache.cached_count() == 1
        forget_data_key(subject.data_key_id)
        assert cache.cached_count() == 0
    assert cache.cached_count() == 0
    assert not cache.scope_active()


def test_middleware_empties_the_cache_when_the_request_ends(mission: Any) -> None:
    subject = make_subject(mission, name="Jane")
    seen: list[int] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(len(Subject.objects.get(pk=subject.pk).name))
        seen.append(cache.cached_count())
        return HttpResponse("ok")

    response = DataKeyCacheMiddleware(view)(RequestFactory().get("/"))
    assert response.status_code == 200
    assert seen == [4, 1]
    assert cache.cached_count() == 0 and not cache.scope_active()


def test_middleware_empties_the_cache_when_the_view_fails(mission: Any) -> None:
    subject = make_subject(mission, name="Jane")

    def view(request: HttpRequest) -> HttpResponse:
        assert Subject.objects.get(pk=subject.pk).name == "Jane"
        raise RuntimeError("the view failed")

    with pytest.raises(RuntimeError):
        DataKeyCacheMiddleware(view)(RequestFactory().get("/"))
    assert cache.cached_count() == 0 and not cache.scope_active()


def test_data_keys_made_in_bulk_are_wrapped_bound_and_cached_like_single_ones(db: Any) -> None:
    from haven.crypto.datakeys import new_data_keys

    single = DataKey.objects.get(pk=new_data_key().pk)
    with cache.key_scope():
        made = new_data_keys(3)
        assert cache.cached_count() == 3
        cached = [cache.cached_key(("dek", data_key.id)) for data_key in made]
    stored = list(DataKey.objects.filter(pk__in=[data_key.id for data_key in made]))
    assert len(stored) == 3
    for data_key in stored:
        wrapped = bytes(data_key.wrapped)
        assert len(wrapped) == len(bytes(single.wrapped)) and wrapped[0] == 1
        assert data_key.kek_version == single.kek_version
        assert unwrap_data_key(data_key) in cached  # opens, outside the scope, under the KEK
    assert len({unwrap_data_key(data_key) for data_key in stored}) == 3
    moved = stored[0]
    DataKey.objects.filter(pk=stored[1].pk).update(wrapped=bytes(moved.wrapped))
    with pytest.raises(DecryptionError):
        unwrap_data_key(DataKey.objects.get(pk=stored[1].pk))
