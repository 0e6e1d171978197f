"""Schema fuzzing of the API: schemathesis sends every operation of the served OpenAPI schema
(``/api/v1/openapi.json``) what the schema allows and what it does not, as a token of each role.

Operations are read from the schema the API serves, so routes added later are fuzzed without
editing this file. The data is the access matrix's mission (one object of each kind), and ids
in paths and bodies are often those of its real rows, so requests reach the services and not
only "not found". Each request runs in a savepoint rolled back afterwards: every example meets
the same seeded mission, whatever the one before it changed.

The figure: 0 server errors and 0 answers the schema does not describe (status, content type,
body), invalid input always refused with a 4xx, no operation reachable without a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from haven.core.access import ALL_ROLES
from tests.test_access_matrix import OBJECT_FACTORIES, World

# Examples per operation and role (about a quarter valid, a quarter invalid, half with real ids):
# the officer does the mission's casework, the admin shares it; viewers and auditors are
# refused almost everything once the input is validated, so a few of theirs find as much.
# With 62 operations that is at most 1,364 examples, about a minute on SQLite.
EXAMPLES = {"officer": 12, "admin": 6}
OTHER_ROLE_EXAMPLES = 2
# What every answer is held to. Left out: positive_data_acceptance, since the schema cannot
# say which vocabulary codes exist (a well-formed unknown code is rightly a 422), and the
# stateful checks (use_after_free, ensure_resource_availability, object_level_authorization),
# which need links between operations; the access matrix checks scope instead.
CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "ignored_auth",
    "unsupported_method",
    "allow_header_conformance",
)
# The token is sent by the test; a query parameter the schema does not name is ignored, as
# web servers do, so neither is generated as "invalid input".
CONFIG = schemathesis.Config.from_dict(
    {"generation": {"with-security-parameters": False, "allow-extra-parameters": False}}
)
# Body fields that name a member of the mission rather than a row of OBJECT_FACTORIES.
MEMBER_FIELDS = {"owner_id": "officer", "second_officer_id": "admin", "observer_id": "officer"}


def _checks() -> list[Any]:
    load_all_checks()
    by_name = {check.__name__: check for check in CHECKS.get_all()}
    return [by_name[name] for name in CHECK_NAMES]


@contextmanager
def _in_process_requests() -> Iterator[None]:
    """Requests served in the test's own transaction, as Django's test client serves them:
    the handler must not close the connection at the start and end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _rolled_back(call: Callable[[], Any]) -> Any:
    """``call()`` inside a savepoint of every database, rolled back whatever happened."""
    savepoints = {alias: transaction.savepoint(using=alias) for alias in connections}
    try:
        return call()
    finally:
        for alias, savepoint in savepoints.items():
            transaction.savepoint_rollback(savepoint, using=alias)
        cache.clear()


class Seeds:
    """Real ids of the seeded mission for the parameters and body fields an operation takes."""

    def __init__(self, world: World, role: str) -> None:
        self.world = world
        self.role = role

    def id_for(self, name: str) -> Any:
        if name in MEMBER_FIELDS:
            return self.world.members[MEMBER_FIELDS[name]].pk
        factory = OBJECT_FACTORIES.get(name)
        return None if factory is None else factory(self.world, self.role)

    def path(self, names: list[str]) -> dict[str, Any]:
        return {name: value for name in names if (value := self.id_for(name)) is not None}

    def body(self, body: Any) -> None:
        """Ids in a JSON body replaced, in place, by those of real rows where known."""
        if not isinstance(body, dict):
            return
        for key, value in list(body.items()):
            if key.endswith("_ids") and isinstance(value, list):
                real = self.id_for(key[:-1])
                if real is not None:
                    body[key] = [real]
            elif key.endswith("_id") and isinstance(value, int):
                real = self.id_for(key)
                if real is not None:
                    body[key] = real
            elif isinstance(value, list):
                for item in value:
                    self.body(item)


def _strategy(operation: Any, seeds: Seeds, base: list[Any]) -> st.SearchStrategy[Any]:
    """Cases of both modes, and (as often as both together) positive ones with the ids of
    real rows in the path and body."""
    real_path = seeds.path([p.name for p in operation.path_parameters])
    seeded = st.tuples(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=real_path),
        st.just(True),
    )
    return st.one_of(*[st.tuples(b, st.just(False)) for b in base], seeded, seeded)


def _fuzz(
    strategy: st.SearchStrategy[Any], seeds: Seeds, token: str, examples: int, statuses: set[int]
) -> None:
    """Up to ``examples`` requests; the status of each answer is added to ``statuses``."""
    headers = {"Authorization": f"Bearer {token}"}
    checks = _checks()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @given(drawn=strategy)
    def run(drawn: tuple[Any, bool]) -> None:
        case, seeded = drawn
        if seeded:
            seeds.body(case.body)
        response = _rolled_back(lambda: case.call_and_validate(headers=headers, checks=checks))
        statuses.add(response.status_code)

    run()


def test_every_operation_answers_as_its_schema_says(db: Any) -> None:
    world = World()
    started = time.monotonic()
    failures: list[str] = []
    # Read operations a case worker never saw succeed: the seeding no longer reaches real rows.
    unreached: list[str] = []
    with _in_process_requests():
        schema = schemathesis.openapi.from_wsgi(
            "/api/v1/openapi.json", get_wsgi_application(), config=CONFIG
        )
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 40, "the schema lost its operations"
        for operation in operations:
            base = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
            statuses: set[int] = set()
            for role in sorted(ALL_ROLES):
                seeds = Seeds(world, role)
                examples = EXAMPLES.get(role, OTHER_ROLE_EXAMPLES)
                answered = statuses if role in EXAMPLES else set()
                strategy = _strategy(operation, seeds, base)
                try:
                    _fuzz(strategy, seeds, world.tokens[role].secret, examples, answered)
                except (Exception, BaseExceptionGroup) as error:  # all operations, then report
                    failures.append(f"{role} {operation.label}:\n{error}")
            if operation.method.upper() == "GET" and not any(200 <= s < 300 for s in statuses):
                unreached.append(f"{operation.label} {sorted(statuses)}")
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} failed ({elapsed:.0f}s):\n\n" + "\n\n".join(failures)
    assert not unreached, "reads that never answered 2xx to a case worker:\n" + "\n".join(unreached)
