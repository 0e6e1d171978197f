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
