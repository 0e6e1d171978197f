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
import secrets
from pathlib import Path

from locust import FastHttpUser, HttpUser, constant, task

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
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
        found, form_token = _TOKEN.search(form.text), _FORM_TOKEN.search(form.text)
        if form.status_code != 200 or found is None or form_token is None:
            return
        with self.client.post(
            "/request/",
            name="portal submission",
            data={
                "csrfmiddlewaretoken": found.group(1),
                "form_token": form_token.group(1),
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


class FloodPortalUser(PortalUser):
    """A defender sending a request while the portal is flooded (``flood`` scenario)."""

    fixed_count = 4


_WORDS = ("abacus", "abdomen", "abide", "ablaze", "acorn", "adrift", "agenda", "almond")


class FloodUser(FastHttpUser):
    """An adversary who keeps no cookies: wrong receipts and junk posts at full speed, to spend
    the portal's budgets or its workers. What the portal answers (a page, 400, 403, 429) is a
    success here; only a server error or a dropped connection is a failure. Locust's lighter
    client (geventhttpclient): the flood runs on the same two cores as the server, and a real
    adversary's own machine would not take them from it."""

    wait_time = constant(0)
    fixed_count = 16

    def _handled(self, response: object) -> None:
        status = getattr(response, "status_code", 0)
        if 0 < status < 500:
            response.success()  # type: ignore[attr-defined]
        else:
            response.failure(f"status {status}")  # type: ignore[attr-defined]

    @task(2)
    def wrong_receipt(self) -> None:
        self.client.cookiejar.clear()
        page = self.client.get("/receipt/", name="flood: receipt page")
        found, form_token = _TOKEN.search(page.text), _FORM_TOKEN.search(page.text)
        words = " ".join(secrets.choice(_WORDS) for _ in range(7))
        with self.client.post(
            "/receipt/",
            name="flood: wrong receipt",
            data={
                "csrfmiddlewaretoken": found.group(1) if found else "",
                "form_token": form_token.group(1) if form_token else "",
                "passphrase": words,
            },
            headers={"Origin": self.host.rstrip("/"), "Sec-Fetch-Site": "same-origin"},
            catch_response=True,
        ) as response:
            self._handled(response)
        self.client.cookiejar.clear()

    @task(1)
    def junk_post(self) -> None:
        self.client.cookiejar.clear()
        page = self.client.get("/request/", name="flood: form page")
        found = _TOKEN.search(page.text)
        with self.client.post(
            "/request/",
            name="flood: junk post",
            data={
                "csrfmiddlewaretoken": found.group(1) if found else "",
                "form_token": "forged",
                "kind": "help",
                "description": "junk " * 200,
            },
            headers={"Origin": self.host.rstrip("/"), "Sec-Fetch-Site": "same-origin"},
            catch_response=True,
        ) as response:
            self._handled(response)
        self.client.cookiejar.clear()
