"""What a defender and an officer do, in the shape the fault tests and the soak run need.

A request is sent as a browser sends it: the form is fetched first and every hidden field it
carries (the CSRF token, and any token the portal adds) is posted back with the answers. What
counts as acknowledged is what a person is shown: a receipt on the portal, a redirect to the
case after a workspace form, a 2xx from the API. Each acknowledgement is kept so that it can be
checked afterwards; an answer that is neither an acknowledgement nor a clear refusal is a fault
of Haven's.
"""

from __future__ import annotations

import html
import re

ANSWERS = {
    "kind": "help",
    "at_risk": "me",
    "description": "Men came to the office at night and took the computers.",
}
# A video's first bytes: kept as sent, so the attachment's size is exactly what is written.
VIDEO_HEAD = b"\x00\x00\x00\x18ftypmp42"

_HIDDEN = re.compile(r"<input\b[^>]*\btype=\"hidden\"[^>]*>")
_NAME = re.compile(r"\bname=\"([^\"]+)\"")
_VALUE = re.compile(r"\bvalue=\"([^\"]*)\"")
_RECEIPT = re.compile(r'class="secret receipt"[^>]*>([^<]+)<')


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a page's form, as a browser would post them back."""
    fields = {}
    for tag in _HIDDEN.findall(page):
        name, value = _NAME.search(tag), _VALUE.search(tag)
        if name:
            fields[html.unescape(name.group(1))] = html.unescape(value.group(1) if value else "")
    return fields


def receipt_in(page: str) -> str | None:
    """The receipt a portal page shows, or ``None``: only a receipt acknowledges a request."""
    found = _RECEIPT.search(page)
    return html.unescape(found.group(1)).strip() if found else None


def video(size: int, marker: bytes = b"") -> bytes:
    """An attachment the portal keeps as sent, of exactly ``size`` bytes."""
    body = VIDEO_HEAD + marker
    return (body + b"\x5a" * size)[:size]


NOT_SENT = "was not sent"  # intake/portal/not_sent.html, in English
UNAVAILABLE_PORTAL = "Not sent: please try again"  # core/errors/503.html, the portal's shell
UNAVAILABLE_WORKSPACE = "Haven cannot reach its database just now"  # the workspace's shell


def clear_refusal(status: int, page: str) -> bool:
    """Whether a portal answer told the person, in words, that nothing was sent."""
    return status == 503 and (NOT_SENT in page or UNAVAILABLE_PORTAL in page)


class Outcome:
    """What one attempt came to, as the person saw it."""

    ACKNOWLEDGED = "acknowledged"  # a receipt, a redirect to the case, a 2xx from the API
    REFUSED = "refused"  # a clear "not sent / try again" page or a JSON 503
    NO_ANSWER = "no answer"  # the connection to Haven dropped (a killed worker)
    FAULT = "fault"  # anything else: a 500, a stack trace, an unexplained page


class People:
    """A defender, an officer in the workspace and a script on the API, over real HTTP.

    Each method makes one attempt and returns its ``Outcome``; what was acknowledged is kept in
    ``acknowledged`` (the receipts, the notes' and incidents' texts) for the check afterwards,
    and every fault's status and first lines in ``faults``."""

    def __init__(self, url: str, seeded: dict[str, object], *, timeout: float = 60) -> None:
        import requests

        self.url = url
        self.seeded = seeded
        self.timeout = timeout
        self._requests = requests
        self.acknowledged: dict[str, list[str]] = {
            "receipts": [],
            "notes": [],
            "incidents": [],
            "cases": [],
        }
        self.tally: dict[str, int] = {}
        self.faults: list[str] = []

    def _count(self, kind: str, outcome: str, detail: str = "") -> str:
        key = f"{kind}: {outcome}"
        self.tally[key] = self.tally.get(key, 0) + 1
        if outcome == Outcome.FAULT:
            self.faults.append(f"{kind}: {detail[:600]}")
        return outcome

    def submit(self, marker: str, *, attachment: int = 0) -> str:
        """A defender sends a request (with a file of ``attachment`` bytes if not 0)."""
        session = self._requests.Session()
        try:
            form = session.get(self.url + "/request/", timeout=self.timeout)
            if form.status_code != 200:
                return self._judge_portal("portal", form.status_code, form.text)
            data = {**hidden_fields(form.text), **ANSWERS, "description": marker}
            files = (
                {"attachments": ("clip.mp4", video(attachment, marker.encode()), "video/mp4")}
                if attachment
                else None
            )
            sent = session.post(
                self.url + "/request/",
                data=data,
                files=files,
                headers={"Origin": self.url},
                timeout=self.timeout,
            )
        except self._requests.RequestException:
            return self._count("portal", Outcome.NO_ANSWER)
        finally:
            session.close()
        receipt = receipt_in(sent.text) if sent.status_code == 200 else None
        if receipt:
            self.acknowledged["receipts"].append(receipt)
            return self._count("portal", Outcome.ACKNOWLEDGED)
        return self._judge_portal("portal", sent.status_code, sent.text)

    def _judge_portal(self, kind: str, status: int, page: str) -> str:
        if clear_refusal(status, page):
            return self._count(kind, Outcome.REFUSED)
        return self._count(kind, Outcome.FAULT, f"{status} {page}")

    def note(self, text: str, session_number: int = 0) -> str:
        """An officer adds a note to the case in the workspace."""
        cookies = {
            str(self.seeded["session_cookie"]): self.seeded["sessions"][session_number]  # type: ignore[index]
        }
        page = f"{self.url}/desk/cases/{self.seeded['case_id']}/notes/new/"
        session = self._requests.Session()
        session.cookies.update(cookies)
        try:
            form = session.get(page, timeout=self.timeout, allow_redirects=False)
            if form.status_code != 200:
                return self._judge_workspace(form.status_code, form.text)
            sent = session.post(
                page,
                data={**hidden_fields(form.text), "text": text},
                headers={"Origin": self.url, "Referer": page},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except self._requests.RequestException:
            return self._count("workspace", Outcome.NO_ANSWER)
        finally:
            session.close()
        case_page = f"/desk/cases/{self.seeded['case_id']}/"
        if sent.status_code == 302 and sent.headers.get("Location", "").endswith(case_page):
            self.acknowledged["notes"].append(text)
            return self._count("workspace", Outcome.ACKNOWLEDGED)
        return self._judge_workspace(sent.status_code, sent.text)

    def _judge_workspace(self, status: int, page: str) -> str:
        if status == 503 and UNAVAILABLE_WORKSPACE in page and 'class="workspace"' in page:
            return self._count("workspace", Outcome.REFUSED)
        return self._count("workspace", Outcome.FAULT, f"{status} {page}")

    def incident(self, text: str) -> str:
        """A script logs an incident on the case through the API."""
        body = {
            "incident_type": "intimidation",
            "occurred_on": "2026-12-01",
            "description": text,
            "perpetrator_type": "unknown",
            "source_type": "victim",
        }
        return self._api_write(
            f"/cases/{self.seeded['case_id']}/incidents", body, "incidents", text
        )

    def open_case(self, title: str) -> str:
        """A script opens a new case (a new data key and the case's rows) through the API."""
        body = {"title": title, "urgency": "medium", "defender_id": self.seeded["defender_id"]}
        return self._api_write("/cases", body, "cases", title)

    def _api_write(self, path: str, body: dict[str, object], kept_as: str, value: str) -> str:
        try:
            sent = self._requests.post(
                f"{self.url}/api/v1{path}",
                json=body,
                headers={"Authorization": f"Bearer {self.seeded['token']}"},
                timeout=self.timeout,
            )
        except self._requests.RequestException:
            return self._count("api", Outcome.NO_ANSWER)
        if sent.status_code == 201:
            self.acknowledged[kept_as].append(value)
            return self._count("api", Outcome.ACKNOWLEDGED)
        content_type = sent.headers.get("Content-Type", "").split(";")[0].strip()
        if sent.status_code == 503 and content_type == "application/json":
            return self._count("api", Outcome.REFUSED)
        return self._count("api", Outcome.FAULT, f"{sent.status_code} {sent.text}")

    def any_write(self, turn: int, number: int, session_number: int = 0) -> str:
        """The ``turn``-th of the four writes in rotation, its texts marked with ``number``:
        a request with a 20 KB file, a note, an incident, a new case."""
        kind = turn % 4
        if kind == 0:
            return self.submit(f"request {number}", attachment=20_000)
        if kind == 1:
            return self.note(f"note {number}", session_number)
        if kind == 2:
            return self.incident(f"incident {number}")
        return self.open_case(f"case {number}")

    def count(self, outcome: str) -> int:
        return sum(n for key, n in self.tally.items() if key.endswith(f": {outcome}"))
