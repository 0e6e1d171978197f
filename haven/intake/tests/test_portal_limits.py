"""The portal against hostile input and floods: every bad file refused in plain words, every
limit answered with the form and what was typed, junk and receipt guessing unable to close it
to the people it is for (docs/portal-limits.md)."""

from __future__ import annotations

import datetime
import inspect
import io
import random
import re
from typing import Any

import pikepdf
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from haven.intake import attachments, tokens
from haven.intake.models import Submission
from tests.factories import portal_post

ANSWERS = {
    "kind": "incident",
    "at_risk": "me",
    "description": "Men in plain clothes searched the office of the land network.",
}
WRONG = {"passphrase": "abacus abdomen abdominal abide abiding ability ablaze"}


def _pdf(**encryption: str) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = "Amina Author"
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(**encryption) if encryption else False)
    return out.getvalue()


def _image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((40, 30), 50).convert("RGB").save(out, format=kind)
    return out.getvalue()


def _send(client: Client, *files: tuple[str, bytes], **changes: Any) -> Any:
    uploads = [SimpleUploadedFile(name, data) for name, data in files]
    return portal_post(
        client, "intake_portal:request", {**ANSWERS, **changes, "attachments": uploads}
    )


def _sent(response: Any) -> bool:
    return response.status_code == 200 and "secret receipt" in response.content.decode()


# -- files no cleaner can read


@pytest.mark.parametrize(
    "encryption",
    [{"user": "secret", "owner": "owner"}, {"user": "", "owner": "owner"}],
    ids=["opening-password", "owner-password-only"],
)
def test_a_password_protected_pdf_is_refused_in_plain_words(
    mission: Any, encryption: dict[str, str]
) -> None:
    response = _send(Client(), ("court.pdf", _pdf(**encryption)))
    page = response.content.decode()
    assert response.status_code == 200 and "secret receipt" not in page
    assert "protected by a password" in page
    assert "searched the office of the land network" in page  # nothing typed is lost
    assert not Submission.objects.exists()


def _library_errors(*modules: Any) -> set[type[BaseException]]:
    found = set()
    for module in modules:
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, Exception) and not issubclass(value, Warning):
                found.add(value)
    return found


def test_every_error_class_of_the_cleaning_libraries_becomes_a_refusal() -> None:
    """If the cleaner's net were narrowed to named classes, one of these would escape as a
    server error (as pikepdf's PasswordError, which is no PdfError, once did)."""
    import PIL.Image
    import PIL.ImageFile
    import PIL.PngImagePlugin
    import PIL.TiffImagePlugin

    errors = _library_errors(pikepdf, PIL, PIL.Image, PIL.ImageFile, PIL.PngImagePlugin)
    errors |= _library_errors(PIL.TiffImagePlugin)
    errors |= {SyntaxError, EOFError, IndexError, KeyError, MemoryError, ZeroDivisionError}
    assert pikepdf.PasswordError in errors and PIL.UnidentifiedImageError in errors
    escaping = [error for error in errors if not issubclass(error, attachments.READ_FAILURES)]
    assert escaping == []


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp", "pdf"])
def test_damaged_files_are_cleaned_or_refused_never_a_crash(kind: str) -> None:
    """Truncated and bit-flipped files of every cleaned kind: each is either cleaned or
    refused with a message, whatever the decoder raised inside."""
    sample = _pdf() if kind == "pdf" else _image(kind.upper())
    chance = random.Random(f"{kind}-damage")  # the same damage on every run
    outcomes = {"cleaned": 0, "refused": 0}
    for attempt in range(150):
        data = bytearray(sample)
        if attempt % 3 == 0:
            data = data[: chance.randrange(8, len(data))]
        for _flip in range(chance.randrange(1, 12)):
            spot = chance.randrange(8, len(data))
            data[spot] = chance.randrange(256)
        try:
            cleaned = attachments.sanitise(kind, bytes(data))
        except attachments.Refused as refused:
            assert str(refused)
            outcomes["refused"] += 1
        else:
            assert cleaned
            outcomes["cleaned"] += 1
    assert outcomes["refused"] > 0


# -- limits answered with the form and what was typed


def test_eleven_files_show_the_form_again_with_what_was_typed(mission: Any, settings: Any) -> None:
    photo = ("photo.jpg", _image("JPEG"))
    response = _send(Client(), *[photo] * (settings.HAVEN_ATTACHMENTS_MAX + 1))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Send at most 10 files." in page
    assert "searched the office of the land network" in page
    assert not Submission.objects.exists()
    assert _sent(_send(Client(), *[photo] * settings.HAVEN_ATTACHMENTS_MAX))


def test_a_long_text_pasted_is_answered_by_the_form_not_the_framework(mission: Any) -> None:
    response = _send(Client(), description="They came again. " * 200_000)  # 3.4 MB
    assert response.status_code == 200
    assert "Ensure this value has at most 20000 characters" in response.content.decode()
    assert not Submission.objects.exists()


# -- form tokens


def test_posts_that_never_came_from_a_portal_page_are_turned_away_cheaply(mission: Any) -> None:
    """No token, a forged one, or one issued for another form: a short answer that renders
    no form (the junk of a flood costs the server little), and nothing is counted."""
    mission.portal_hourly_limit = 1
    mission.portal_receipt_limit = 1
    mission.save()
    request, receipt = reverse("intake_portal:request"), reverse("intake_portal:receipt")
    for token in ["", "forged", tokens.issue("receipt"), tokens.issue("request") + "x"]:
        response = Client().post(request, {**ANSWERS, "form_token": token})
        page = response.content.decode()
        assert response.status_code == 400
        assert "could not be checked, so nothing was sent" in page
        assert 'name="description"' not in page
    for token in ["", "forged", tokens.issue("request"), tokens.issue("receipt") + "x"]:
        assert Client().post(receipt, {**WRONG, "form_token": token}).status_code == 400
    assert not Submission.objects.exists()
    # Neither budget was touched: one request and one receipt check still go through.
    assert _sent(_send(Client()))
    assert portal_post(Client(), "intake_portal:receipt", WRONG).status_code == 200


def test_the_blank_forms_carry_a_new_token_on_every_view(mission: Any) -> None:
    for url in (reverse("intake_portal:request"), reverse("intake_portal:receipt")):
        pages = [Client().get(url).content.decode() for _ in range(2)]
        found = [re.findall(r'name="form_token" value="([^"]+)"', page) for page in pages]
        assert len(found[0]) == 1 and len(found[1]) == 1 and found[0] != found[1]
    french = Client().get("/fr/request/").content.decode()
    assert "Que s'est-il passé ?" in french


def test_a_form_token_is_taken_once(mission: Any) -> None:
    data = {**ANSWERS, "form_token": tokens.issue("request")}
    assert _sent(Client().post(reverse("intake_portal:request"), data))
    again = Client().post(reverse("intake_portal:request"), data)
    assert again.status_code == 400 and "already sent once" in again.content.decode()
    assert Submission.objects.count() == 1


def test_a_form_token_is_taken_only_between_its_minimum_and_maximum_age(
    mission: Any, settings: Any
) -> None:
    settings.HAVEN_PORTAL_FORM_MIN_SECONDS = 2
    settings.HAVEN_PORTAL_FORM_MAX_SECONDS = 3600
    url = reverse("intake_portal:request")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        quick, old, fine = (tokens.issue("request") for _ in range(3))
        response = Client().post(url, {**ANSWERS, "form_token": quick})
        assert response.status_code == 400
        assert "searched the office" in response.content.decode()
        # The form comes back with a new token, which a person's second click sends.
        renewed = re.search(r'name="form_token" value="([^"]+)"', response.content.decode())
        assert renewed and renewed.group(1) != quick
    with time_machine.travel(start + datetime.timedelta(seconds=3601), tick=False):
        response = Client().post(url, {**ANSWERS, "form_token": old})
        assert response.status_code == 400 and "open for a long time" in response.content.decode()
    with time_machine.travel(start + datetime.timedelta(seconds=3), tick=False):
        assert _sent(Client().post(url, {**ANSWERS, "form_token": fine}))
    assert Submission.objects.count() == 1


# -- budgets counted apart


# Counting windows are minutes and hours of the clock: the tests of budgets start well inside
# one, so that a run that happens to cross a boundary does not renew a budget halfway.
START = datetime.datetime(2026, 12, 8, 10, 0, 5, tzinfo=datetime.UTC)


@time_machine.travel(START, tick=False)
def test_only_stored_requests_count_against_the_hourly_cap(mission: Any) -> None:
    mission.portal_hourly_limit = 2
    mission.save()
    for _ in range(5):  # invalid, junk and refused posts use none of it
        assert _send(Client(), description="").status_code == 200
        assert Client().post(reverse("intake_portal:request"), ANSWERS).status_code == 400
        assert not _sent(_send(Client(), ("court.pdf", _pdf(user="x", owner="y"))))
    assert _sent(_send(Client())) and _sent(_send(Client()))
    full = _send(Client(), description="A third request, typed with care.")
    page = full.content.decode()
    assert full.status_code == 429 and int(full["Retry-After"]) > 0
    assert "Many people are using this page right now." in page
    assert "A third request, typed with care." in page
    assert Submission.objects.count() == 2
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1)):
        assert _sent(_send(Client()))


@time_machine.travel(START, tick=False)
def test_guessing_receipts_never_closes_the_portal_to_requests(mission: Any) -> None:
    mission.portal_receipt_limit = 3
    mission.save()
    answers = [portal_post(Client(), "intake_portal:receipt", WRONG) for _ in range(10)]
    assert [answer.status_code for answer in answers] == [200] * 3 + [429] * 7
    assert "These words do not open any request." in answers[0].content.decode()
    assert int(answers[-1]["Retry-After"]) <= 60
    # Requests have their own budget: still open, and the receipt they give opens them later.
    response = _send(Client())
    assert _sent(response)
    receipt = re.search(r'<p class="secret receipt"[^>]*>([a-z ]+)</p>', response.content.decode())
    assert receipt
    busy = portal_post(Client(), "intake_portal:receipt", {"passphrase": receipt.group(1)})
    assert busy.status_code == 429
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=1)):
        opened = portal_post(Client(), "intake_portal:receipt", {"passphrase": receipt.group(1)})
        assert opened.status_code == 200 and "Your request" in opened.content.decode()


def test_a_message_refused_by_the_receipt_budget_comes_back_to_send_again(mission: Any) -> None:
    mission.portal_receipt_limit = 0
    mission.save()
    response = portal_post(
        Client(),
        "intake_portal:receipt_message",
        {**WRONG, "text": "They followed me home again tonight."},
    )
    page = response.content.decode()
    assert response.status_code == 429
    assert "They followed me home again tonight." in page and "Send again" in page


def test_the_portal_keeps_no_cookie_of_its_own(mission: Any) -> None:
    client = Client()
    _send(client)
    portal_post(client, "intake_portal:receipt", WRONG)
    assert set(client.cookies) <= {"csrftoken"}
