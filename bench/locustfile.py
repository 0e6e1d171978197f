"""Load scenarios for ``bench/run.py``: locust runs this headless, in a process of its own,
against Haven under gunicorn on loopback. One user class per scenario, named on the command
line; what they need comes in environment variables set by the harness:

- ``BENCH_SESSIONS``: session cookie values of a signed-in officer (password and second factor
  passed), created server-side, one per simulated user, comma-separated;
- ``BENCH_SESSION_COOKIE``: the session cookie's name;
- ``BENCH_CASE_LIST``: the case list path (with its filter) the officer reads;
- ``BENCH_ATTACHMENT``: a file sent with each portal submission.

Nothing here talks to anything but the ``--host`` it is given (127.0.0.1).
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

from locust import HttpUser, constant, task

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_sessions = itertools.cycle(os.environ.get("BENCH_SESSIONS", "").split(",") or [""])


class BareUser(HttpUser):
    """The baseline: a trivial Django view in the same server (one ``SELECT 1``)."""

    wait_time = constant(0)

    @task
    def bare(self) -> None:
        self.client.get("/healthz", name="bare view")


class CaseListUser(HttpUser):
    """A signed-in officer reading the filtered case list."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.client.cookies.set(
            os.environ.get("BENCH_SESSION_COOKIE", "sessionid"), next(_sessions)
        )

    @task
    def case_list(self) -> None:
        path = os.environ.get("BENCH_CASE_LIST", "/desk/cases/")
        with self.client.get(
            path, name="case list", allow_redirects=False, catch_response=True
        ) as response:
            # A lapsed session would redirect to the sign-in page: that is an error here.
            if response.status_code != 200:
                response.failure(f"status {response.status_code}, not the case list")


class PortalUser(HttpUser):
    """A person sending a request through the portal with one attachment."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.attachment = Path(os.environ["BENCH_ATTACHMENT"]).read_bytes()

    @task
    def submit(self) -> None:
        form = self.client.get("/request/", name="portal form")
        found = _TOKEN.search(form.text)
        if form.status_code != 200 or found is None:
            return
        with self.client.post(
            "/request/",
            name="portal submission",
            data={
                "csrfmiddlewaretoken": found.group(1),
                "kind": "help",
                "at_risk": "me",
                "description": "They came at night and took the computers. " * 10,
            },
            files={"attachments": ("photo.jpg", self.attachment, "image/jpeg")},
            headers={"Origin": self.host.rstrip("/"), "Sec-Fetch-Site": "same-origin"},
            catch_response=True,
        ) as response:
            if response.status_code != 200 or b"secret receipt" not in response.content:
                response.failure(f"status {response.status_code}, no receipt")
