"""Flows in a real Chromium (Debian's, at /usr/bin/chromium) driven by Playwright."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import TOTP

from haven.accounts.services import add_staff_user, generate_recovery_codes
from haven.audit.models import AuditEvent
from haven.intake.tests.test_attachments import _authored_pdf, _gps_jpeg
from tests.factories import PASSWORD, make_mission, make_user, totp_code

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # around it are ordinary synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def test_first_login_to_the_desk(page: Any, live_server: Any, transactional_db: Any) -> None:
    mission = make_mission(name="Embassy of Browserland", slug="browserland")
    account = add_staff_user(actor=None, mission=mission, username="firstlogin", role="admin")

    page.goto(f"{live_server.url}/desk/")
    assert "/desk/login/" in page.url
    page.get_by_label("Username").fill("firstlogin")
    page.get_by_label("Password").fill(account.one_time_password)
    page.get_by_role("button", name="Continue").click()

    # Forced password change.
    page.wait_for_url("**/desk/password/")
    new_password = "a long passphrase chosen in a browser"
    page.get_by_label("Old password").fill(account.one_time_password)
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("New password confirmation").fill(new_password)
    page.get_by_role("button", name="Save the password").click()

    # TOTP enrolment: read the key as a person would, compute the code as their app would.
    page.wait_for_url("**/desk/mfa/enrol/")
    assert page.locator(".qr svg").count() == 1
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_role("textbox", name="Code").fill(str(TOTP(key).token()).zfill(6))
    page.get_by_role("button", name="Confirm").click()

    page.wait_for_url("**/desk/security/recovery-codes/")
    assert page.locator("#recovery-codes li").count() == 10
    page.get_by_role("link", name="I have stored them").click()

    page.wait_for_url(f"{live_server.url}/desk/")
    assert page.get_by_role("heading", name="Desk", exact=True).is_visible()
    assert "Embassy of Browserland" in page.content()


def test_portal_home_in_arabic_is_right_to_left(
    page: Any, live_server: Any, transactional_db: Any
) -> None:
    make_mission(name="Embassy of Browserland", slug="browserland")
    scripts_requested: list[str] = []
    page.on(
        "request",
        lambda r: scripts_requested.append(r.url) if r.resource_type == "script" else None,
    )
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="العربية").click()
    page.wait_for_url(f"{live_server.url}/ar/")
    html = page.locator("html")
    assert html.get_attribute("dir") == "rtl"
    assert html.get_attribute("lang") == "ar"
    # The skip link and the heading are laid out from the right.
    heading = page.locator("h1")
    box = heading.bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    assert box["x"] + box["width"] > viewport["width"] / 2
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert scripts_requested == []


def test_security_key_added_then_used_to_sign_in(
    browser: Any, live_server: Any, transactional_db: Any, settings: Any
) -> None:
    """A virtual authenticator (Chromium's WebAuthn test API) stands in for a hardware key."""
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url.replace("127.0.0.1", "localhost")]
    base = settings.OTP_WEBAUTHN_ALLOWED_ORIGINS[0]
    mission = make_mission(name="Embassy of Keys", slug="keys")
    user = make_user(mission, "officer", username="keyholder")
    recovery = generate_recovery_codes(user=user)

    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )

    def sign_in_with_password() -> None:
        page.goto(f"{base}/desk/login/")
        page.get_by_label("Username").fill("keyholder")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/desk/mfa/verify/")

    sign_in_with_password()
    page.get_by_label("Code from your authenticator app").fill(totp_code(user))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/desk/")

    # Adding a key is sensitive: Haven asks again (a recovery code, as the TOTP code of this
    # half-minute was spent signing in and works only once).
    page.goto(f"{base}/desk/security/")
    page.wait_for_url("**/desk/reauthenticate/**")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(recovery[0])
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"{base}/desk/security/")
    page.get_by_role("button", name="Add a security key or passkey").click()
    page.locator("#passkey-register-status-message").filter(has_text="regist").wait_for()
    page.reload()
    assert page.locator(".security-keys li").count() == 1
    assert AuditEvent.objects.filter(action="mfa.security_key_added").count() == 1

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/desk/login/")
    sign_in_with_password()
    page.get_by_role("button", name="Use a security key or passkey").click()
    page.wait_for_url(f"{base}/desk/")
    assert page.get_by_role("heading", name="Desk", exact=True).is_visible()
    context.close()


def test_officer_registers_a_defender_finds_them_by_phone_and_is_warned_of_a_duplicate(
    page: Any, live_server: Any, transactional_db: Any
) -> None:
    from haven.registry.consent import allows
    from haven.registry.models import Defender

    mission = make_mission(name="Embassy of Browserland", slug="browserland")
    officer = make_user(mission, "officer", username="registrar")
    base = live_server.url
    page.goto(f"{base}/desk/login/")
    page.get_by_label("Username").fill("registrar")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/desk/mfa/verify/")
    page.get_by_label("Code from your authenticator app").fill(totp_code(officer))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/desk/")

    # A new defender with two channels.
    page.get_by_role("link", name="Defenders").first.click()
    page.get_by_role("link", name="Add a defender").click()
    page.get_by_label("Name", exact=True).fill("Amina Otieno")
    page.get_by_label("Region").fill("Rift Valley")
    page.get_by_label("Land and territory").check()
    page.locator("#id_channels-0-channel_type").select_option("signal")
    page.locator("#id_channels-0-value").fill("+254 712 345 678")
    page.locator("#id_channels-0-safety_notes").fill("Evenings only")
    page.locator("#id_channels-1-channel_type").select_option("email")
    page.locator("#id_channels-1-value").fill("amina@example.org")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Amina Otieno").wait_for()

    # Her consent to a public statement, recorded on her page.
    page.get_by_role("link", name="Record consent").click()
    page.get_by_label("What they agree to").select_option("public_statement")
    page.get_by_label("How it was given").select_option("in_person")
    page.get_by_role("button", name="Record").click()
    page.get_by_role("heading", name="Amina Otieno").wait_for()
    assert page.get_by_role("cell", name="In force").is_visible()
    assert allows(Defender.objects.get(), "public_statement")

    # Found by her phone number typed another way.
    page.get_by_role("link", name="All defenders").click()
    page.get_by_label("Exact name, phone number or e-mail address").fill("0712 345678")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("link", name="Amina Otieno").is_visible()
    assert "1 defender" in page.locator("caption").inner_text()

    # A second entry with her number: warned before anything is saved.
    page.get_by_role("link", name="Add a defender").click()
    page.get_by_label("Name", exact=True).fill("A. Otieno")
    page.locator("#id_channels-0-channel_type").select_option("whatsapp")
    page.locator("#id_channels-0-value").fill("0712345678")
    page.get_by_role("button", name="Save").click()
    warning = page.get_by_role("alert")
    assert "Possible duplicate of Amina Otieno (same phone)." in warning.inner_text()
    assert Defender.objects.count() == 1


@pytest.mark.parametrize(
    ("prefix", "send", "receipt_label", "open_label"),
    [
        ("", "Send", "Your receipt", "Open"),
        ("/ar", "إرسال", "إيصالك", "فتح"),
    ],
)
def test_a_defender_without_javascript_asks_for_help_and_reads_the_reply(
    browser: Any,
    live_server: Any,
    transactional_db: Any,
    prefix: str,
    send: str,
    receipt_label: str,
    open_label: str,
) -> None:
    from haven.intake.models import Submission

    mission = make_mission(name="Embassy of Browserland", slug="browserland")
    mission.portal_languages = ["en", "ar"]
    mission.save()
    officer = make_user(mission, "officer", username="triage")
    person = browser.new_context(java_script_enabled=False)
    page = person.new_page()
    page.goto(f"{live_server.url}{prefix}/request/")
    if prefix == "/ar":
        assert page.locator("html").get_attribute("dir") == "rtl"
    page.locator("#id_kind_0").check()
    page.locator("#id_description").fill("They followed me home and threatened my children.")
    page.locator("#id_contact").fill("Signal, evenings")
    page.locator("#id_help_wanted_0").check()
    page.locator("#id_attachments").set_input_files(
        [
            {"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": _gps_jpeg()},
            {"name": "summons.pdf", "mimeType": "application/pdf", "buffer": _authored_pdf()},
        ]
    )
    page.get_by_role("button", name=send, exact=True).click()
    receipt = page.locator(".receipt").inner_text().strip()
    assert len(receipt.split()) == 7
    assert Submission.objects.count() == 1

    # The officer answers in the workspace.
    desk = browser.new_context()
    staff = desk.new_page()
    staff.goto(f"{live_server.url}/desk/login/")
    staff.get_by_label("Username").fill("triage")
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Continue").click()
    staff.get_by_label("Code from your authenticator app").fill(totp_code(officer))
    staff.get_by_role("button", name="Continue").click()
    staff.wait_for_url(f"{live_server.url}/desk/")
    staff.get_by_role("link", name="Requests", exact=True).click()
    staff.locator("tbody a").first.click()
    assert "threatened my children" in staff.content()
    assert staff.get_by_text("hidden data removed").count() == 2
    staff.get_by_label("Reply").fill("We have your request. We will write on Signal tonight.")
    staff.get_by_role("button", name="Send the reply").click()
    staff.get_by_text("Your reply is sealed to their receipt.").wait_for()
    desk.close()

    # The person reads the reply with the receipt, still without JavaScript.
    page.goto(f"{live_server.url}{prefix}/receipt/")
    page.get_by_label(receipt_label).fill(receipt.upper())
    page.get_by_role("button", name=open_label, exact=True).click()
    assert "We will write on Signal tonight." in page.content()
    person.close()
    # What was stored of the photo and the document carries no metadata.
    from haven.intake.models import Attachment

    assert sorted(Attachment.objects.values_list("kind", "sanitised")) == [
        ("jpeg", True),
        ("pdf", True),
    ]


def _sign_in(page: Any, base: str, user: Any) -> None:
    page.goto(f"{base}/desk/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code from your authenticator app").fill(totp_code(user))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/desk/")


def test_officer_runs_a_case_from_a_request_to_a_follow_up_on_the_desk(
    browser: Any, live_server: Any, transactional_db: Any
) -> None:
    import datetime

    import time_machine
    from django.utils import timezone

    from haven.cases.models import Action, Case
    from haven.intake import services as intake

    mission = make_mission(name="Embassy of Browserland", slug="browserland")
    officer = make_user(mission, "officer", username="caseworker")
    make_user(mission, "officer", username="second")
    intake.submit(
        mission=mission,
        answers={"kind": "help", "name": "Halima Yusuf", "description": "Warned to stop."},
        language="en",
    )
    base = live_server.url
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, base, officer)

    # Triage the request into a case.
    page.get_by_role("link", name="Requests", exact=True).click()
    page.locator("tbody a").first.click()
    page.get_by_role("link", name="Open a case from this request").click()
    page.get_by_role("button", name="Open the case").click()
    page.get_by_text("opened from the request").wait_for()
    case = Case.objects.get()
    assert str(case.defender.name) == "Halima Yusuf"

    # Assess the risk as high, naming a second officer.
    page.get_by_role("link", name="Assess the risk").click()
    page.get_by_label("Threats").fill("Warned by police to stop\nCar seen outside the house")
    page.get_by_label("Risk level (your judgement)").select_option("high")
    page.get_by_label("Why this level").fill("Direct warning and surveillance.")
    page.get_by_label("Second officer").select_option(label="second")
    page.get_by_role("button", name="Record the assessment").click()
    page.get_by_text("Car seen outside the house").wait_for()
    case.refresh_from_db()
    assert (case.status, case.risk_level) == ("risk_assessed", "high")

    # A public statement is refused without her consent.
    page.get_by_role("link", name="Plan an action").click()
    page.get_by_label("Action", exact=True).select_option("public_statement")
    page.get_by_label("Reprisal check").fill(
        "Her family lives abroad; statement after the hearing."
    )
    page.get_by_role("button", name="Plan it").click()
    assert "needs their consent" in page.get_by_role("alert").inner_text()
    assert not Action.objects.exists()

    # Her consent, recorded on her page; then the statement is planned.
    page.goto(f"{base}{case.get_absolute_url()}")
    page.get_by_role("link", name="Halima Yusuf").click()
    page.get_by_role("link", name="Record consent").click()
    page.get_by_label("What they agree to").select_option("public_statement")
    page.get_by_label("How it was given").select_option("in_person")
    page.get_by_role("button", name="Record").click()
    page.goto(f"{base}{case.get_absolute_url()}")
    page.get_by_role("link", name="Plan an action").click()
    page.get_by_label("Action", exact=True).select_option("public_statement")
    page.get_by_label("Reprisal check").fill(
        "Her family lives abroad; statement after the hearing."
    )
    page.get_by_role("button", name="Plan it").click()
    page.get_by_role("heading", name="Actions").wait_for()

    # Marked done, with the outcome; the case is active.
    page.get_by_role("link", name="Public statement or social media post").first.click()
    page.get_by_label("Status").select_option("done")
    page.get_by_label("Outcome", exact=True).fill("Statement published; ministry called us.")
    page.get_by_label("The defender was told the outcome").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Timeline").wait_for()
    action = Action.objects.get()
    case.refresh_from_db()
    assert (action.status, action.defender_told, case.status) == ("done", True, "active")

    # A check-in, with the next contact tomorrow.
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    page.get_by_role("link", name="Record a contact").click()
    page.get_by_label("How").select_option("call")
    page.get_by_label("Next contact").fill(tomorrow.isoformat())
    page.get_by_role("button", name="Record it").click()
    page.get_by_role("heading", name="Timeline").wait_for()
    page.goto(f"{base}/desk/")
    due_today = page.locator("section", has=page.get_by_role("heading", name="Due today"))
    assert case.reference not in due_today.inner_text()
    context.close()

    # The next day, it waits on the desk.
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, hours=1)):
        context = browser.new_context()
        page = context.new_page()
        _sign_in(page, base, officer)
        due_today = page.locator("section", has=page.get_by_role("heading", name="Due today"))
        assert case.reference in due_today.inner_text()
        due_today.get_by_role("link").first.click()
        page.get_by_role("heading", name="Timeline").wait_for()
        assert case.reference in page.title() or case.reference in page.content()
        context.close()


def test_officer_schedules_a_hearing_reports_on_it_and_finds_it_in_the_feed(
    browser: Any, live_server: Any, transactional_db: Any
) -> None:
    import datetime
    import zoneinfo

    from haven.cases import services as cases
    from tests.factories import make_defender

    mission = make_mission(name="Embassy of Browserland", slug="browserland")
    mission.timezone = "Africa/Nairobi"
    mission.save()
    officer = make_user(mission, "officer", username="observer")
    case = cases.open_case(
        mission=mission,
        actor=officer,
        title="Trial of the river committee",
        urgency="high",
        defender=make_defender(mission, name="Wanjiku Kamau", visibility="discreet"),
    )
    base = live_server.url
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, base, officer)

    # Schedule it (it began an hour ago, Nairobi time), with the officer observing.
    page.goto(f"{base}{case.get_absolute_url()}")
    page.get_by_role("link", name="Schedule a hearing").click()
    started = datetime.datetime.now(zoneinfo.ZoneInfo("Africa/Nairobi")) - datetime.timedelta(
        hours=1
    )
    page.get_by_label("Date and time").fill(started.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Court", exact=True).fill("Kisumu High Court, room 2")
    page.get_by_role("checkbox", name="observer", exact=True).check()
    page.get_by_role("button", name="Schedule it").click()
    page.get_by_role("heading", name="Observation report").wait_for()

    # The observation report, with one violation noted.
    page.get_by_role("link", name="Write the observation report").click()
    page.get_by_label("What happened", exact=True).fill("The defence could not call witnesses.")
    page.get_by_label("Access for observers").select_option("partial")
    page.get_by_label("Could examine and call witnesses", exact=True).select_option("violated")
    page.get_by_label("Notes on: Could examine and call witnesses").fill("Two sent away.")
    page.get_by_role("button", name="Save the report").click()
    page.get_by_text("The observation report is saved.").wait_for()
    assert "The defence could not call witnesses." in page.content()
    hearing = case.hearings.get()
    assert hearing.status == "held"
    assert hearing.report.checklist["witnesses"]["assessment"] == "violated"

    # In the calendar, and in the personal feed, without the defender's name.
    page.get_by_role("link", name="Hearings", exact=True).click()
    assert case.reference in page.locator("main").inner_text()
    page.get_by_role("link", name="My hearings in my calendar (feed)").click()
    page.get_by_role("button", name="Make my feed address").click()
    address = page.locator("#feed-address").inner_text().strip()
    feed = page.request.get(address)
    assert feed.ok and feed.headers["content-type"].startswith("text/calendar")
    body = feed.text()
    assert "BEGIN:VEVENT" in body and f"Hearing · {case.reference}" in body
    assert "Wanjiku" not in body and "Kisumu" not in body
    context.close()


def test_a_viewer_filters_the_dashboard_and_downloads_the_annual_input(
    browser: Any, live_server: Any, transactional_db: Any
) -> None:
    from django.utils import timezone

    from haven.cases import services as cases
    from haven.registry import services as registry
    from tests.factories import make_defender

    mission = make_mission(name="Embassy of Browserland", slug="browserland")
    officer = make_user(mission, "officer", username="caseworker")
    viewer = make_user(mission, "viewer", username="ambassador")
    for region, count in (("Lakeside", 6), ("Hills", 1)):
        for n in range(count):
            defender = make_defender(mission, name=f"Person {region} {n}", region=region)
            registry.record_consent(
                entry=defender,
                actor=officer,
                scope="deidentified_reporting",
                channel="in_person",
                given_on=timezone.localdate(),
            )
            cases.open_case(
                mission=mission, actor=officer, title="Threats", urgency="high", defender=defender
            )
    base = live_server.url
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    _sign_in(page, base, viewer)

    # The desk of a viewer is the figures; the dashboard draws them and lists them beneath.
    assert page.get_by_role("heading", name="The mission at a glance").is_visible()
    page.get_by_role("link", name="Open the dashboard").click()
    chart = page.get_by_role("img", name="Open cases by urgency")
    assert chart.is_visible()
    assert page.get_by_role("row", name="High 7", exact=True).is_visible()
    # The region of one person is not offered; a region of enough people is.
    assert page.locator('#id_region option[value="Hills"]').count() == 0
    page.get_by_label("Region", exact=True).select_option("Lakeside")
    page.get_by_role("button", name="Show").click()
    assert page.get_by_text("Region: Lakeside.").is_visible()
    assert page.get_by_role("row", name="High 6", exact=True).is_visible()
    assert "Person" not in page.content()

    page.get_by_role("link", name="Annual report input").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Requests for support opened, by urgency" in text and "Person" not in text
    assert not [v for v in violations if "Content Security Policy" in v]
    context.close()
