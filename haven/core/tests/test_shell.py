"""The page shell: security headers, error pages, languages, health, production settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import path

from haven.core.access import public
from tests.factories import make_user, signed_in_client

ROOT = Path(settings.BASE_DIR)


def test_security_headers_on_portal_workspace_and_api(officer: Any) -> None:
    responses = [
        Client().get("/"),
        signed_in_client(officer).get("/desk/"),
        Client().get("/desk/login/"),
        Client().get("/api/v1/me"),
        Client().get("/no-such-page"),
    ]
    for response in responses:
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response["Referrer-Policy"] == "no-referrer"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert response["Cache-Control"] == "no-store"
        assert "Server" not in response


@pytest.mark.parametrize("language", ["", "fr/", "es/", "ar/", "ru/"])
def test_portal_home_has_no_script_no_outside_asset_and_is_small(
    mission: Any, language: str
) -> None:
    response = Client().get(f"/{language}")
    assert response.status_code == 200
    html = response.content.decode()
    assert len(response.content) < 50 * 1024
    assert "<script" not in html
    assert " style=" not in html
    assert not re.search(r'src="(https?:)?//', html)
    # The only way off the site is the quick-exit link, to the mission's neutral site.
    outside = re.findall(r'href="((?:https?:)?//[^"]*)"', html)
    assert outside == [mission.quick_exit_url]
    assert 'class="quick-exit"' in html and 'rel="noreferrer noopener"' in html
    # The portal sets no cookie at all on a plain visit.
    assert not response.cookies


def test_portal_speaks_the_language_of_its_path(mission: Any) -> None:
    arabic = Client().get("/ar/").content.decode()
    assert '<html lang="ar" dir="rtl">' in arabic
    french = Client().get("/fr/").content.decode()
    assert '<html lang="fr" dir="ltr">' in french
    assert "Ask for help safely" not in french


def test_portal_offers_only_the_missions_languages(mission: Any) -> None:
    mission.portal_languages = ["en", "ar"]
    mission.save()
    html = Client().get("/").content.decode()
    assert 'hreflang="ar"' in html and 'hreflang="fr"' not in html


def test_workspace_text_is_translated(officer: Any) -> None:
    client = signed_in_client(officer)
    client.post("/desk/language/", {"language": "ru", "next": "/desk/"})
    html = client.get("/desk/").content.decode()
    assert '<html lang="ru"' in html
    assert ">Desk<" not in html


def test_not_found_page_shows_a_request_id(db: Any) -> None:
    response = Client().get("/desk/../nothing-here/at-all")
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert request_id in response.content.decode()


def _boom(request: Any) -> Any:
    raise RuntimeError("secret internal detail")


urlpatterns = [path("boom", public(_boom))]
handler500 = "haven.core.views.server_error"


@pytest.mark.urls("haven.core.tests.test_shell")
def test_server_error_shows_a_request_id_and_no_trace(db: Any) -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/boom")
    assert response.status_code == 500
    body = response.content.decode()
    assert response["X-Request-ID"] in body
    assert "secret internal detail" not in body
    assert "Traceback" not in body


def test_oversized_body_is_a_clear_400_not_a_crash(db: Any) -> None:
    response = Client().post(
        "/desk/login/",
        data=b"username=" + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in {400, 403, 413}
    many = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 10)}
    response = Client().post("/desk/login/", many)
    assert response.status_code == 400


def test_overlong_password_is_refused_before_hashing(officer: Any) -> None:
    client = Client()
    response = client.post("/desk/login/", {"username": "otto", "password": "p" * 10_000})
    assert response.status_code == 200
    assert "at most 128 characters" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_healthz_checks_the_database(db: Any) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_healthz_reports_a_dead_database(db: Any, monkeypatch: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise connection.Database.OperationalError("down")

    client = Client()
    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", broken)
        response = client.get("/healthz")
    assert response.status_code == 503


def test_unmarked_workspace_view_is_refused(officer: Any) -> None:
    from haven.accounts.middleware import WorkspaceGateMiddleware

    gate = WorkspaceGateMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    request = Client().get("/desk/").wsgi_request
    response = gate.process_view(request, lambda r: None, (), {})
    assert response is not None and response.status_code == 403


def test_cross_site_post_with_null_origin_is_refused(officer: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/desk/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    data = {"csrfmiddlewaretoken": token.group(1), "username": "otto", "password": "x" * 20}
    cross = client.post(
        "/desk/login/", data, headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status_code == 403
    same = client.post(
        "/desk/login/", data, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    )
    assert same.status_code == 200


# -- translations ---------------------------------------------------------------------------


def _po_entries(path: Path) -> list[tuple[str, list[str], bool]]:
    """(msgid, msgstrs, fuzzy) of every entry of a .po file, header excluded."""
    entries: list[tuple[str, list[str], bool]] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fuzzy = "#, fuzzy" in block
        msgid = "".join(re.findall(r'^(?:msgid|")(?: )?"?(.*?)"$', block, re.M)[:1])
        ids = re.search(r'^msgid "(.*?)"\n((?:".*"\n?)*)', block, re.M)
        if not ids:
            continue
        msgid = ids.group(1) + "".join(re.findall(r'"(.*)"', ids.group(2)))
        strs = [
            m.group(1) + "".join(re.findall(r'"(.*)"', m.group(2)))
            for m in re.finditer(r'^msgstr(?:\[\d\])? "(.*?)"\n?((?:".*"\n?)*)', block, re.M)
        ]
        if msgid:
            entries.append((msgid, strs, fuzzy))
    return entries


@pytest.mark.parametrize("language", ["fr", "es", "ar", "ru"])
def test_every_string_is_translated_and_compiled(language: str) -> None:
    po = ROOT / "haven" / "locale" / language / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    entries = _po_entries(po)
    assert len(entries) > 100
    untranslated = [msgid for msgid, strs, fuzzy in entries if fuzzy or not all(strs)]
    assert not untranslated, f"{language}: {untranslated[:5]}"
    assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime - 1, "run make messages"


def test_catalogue_covers_every_template_string() -> None:
    """Every translatable string in the code is in the catalogue (make messages was run)."""
    po_ids = {
        msgid for msgid, _s, _f in _po_entries(ROOT / "haven/locale/fr/LC_MESSAGES/django.po")
    }
    simple = re.compile(r'\{% translate "([^"{}%]+)" %\}')
    missing = []
    for template in (ROOT / "haven").rglob("templates/**/*.html"):
        for text in simple.findall(template.read_text(encoding="utf-8")):
            if text not in po_ids:
                missing.append((template.name, text))
    assert not missing, missing[:5]


# -- production settings --------------------------------------------------------------------


def _production(**env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ["PATH"],
        "HAVEN_ENV": "production",
        "HAVEN_SECRET_KEY": "k" * 20 + "abcdefghijklmnopqrstuvwxyz0123456789",
        "HAVEN_ALLOWED_HOSTS": "haven.example.org",
        "HAVEN_DATABASE_URL": "postgresql://haven@127.0.0.1:5432/haven",
        "HAVEN_KEYSTORE_URL": "postgresql://haven_keys@127.0.0.1:5432/haven_keys",
        "HAVEN_KEY_PROVIDER": "env",
        "HAVEN_KEY_SECRETS_DIR": "/run/secrets/haven",
        "HAVEN_WEBAUTHN_RP_ID": "haven.example.org",
        "HAVEN_WEBAUTHN_ORIGINS": "https://haven.example.org",
        "HAVEN_VAR_DIR": "/nonexistent",
    }
    base.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import haven.settings"],
        env={k: v for k, v in base.items() if v},
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_production_settings_load_with_safe_values() -> None:
    assert _production().returncode == 0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HAVEN_SECRET_KEY", "", "HAVEN_SECRET_KEY"),
        ("HAVEN_SECRET_KEY", "short", "HAVEN_SECRET_KEY"),
        ("HAVEN_ALLOWED_HOSTS", "", "HAVEN_ALLOWED_HOSTS"),
        ("HAVEN_ALLOWED_HOSTS", "*", "HAVEN_ALLOWED_HOSTS"),
        ("HAVEN_DEBUG", "1", "HAVEN_DEBUG"),
        ("HAVEN_DATABASE_URL", "", "PostgreSQL"),
        ("HAVEN_KEYSTORE_URL", "", "HAVEN_KEYSTORE_URL"),
        ("HAVEN_WEBAUTHN_RP_ID", "", "HAVEN_WEBAUTHN_RP_ID"),
    ],
)
def test_production_refuses_unsafe_values(variable: str, value: str, message: str) -> None:
    result = _production(**{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_embedded_key_file_must_be_private(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    secret = keys / "django-secret-key"
    secret.write_text("x" * 60)
    secret.chmod(0o644)
    result = subprocess.run(
        [sys.executable, "-c", "import haven.settings"],
        env={"PATH": os.environ["PATH"], "HAVEN_KEY_DIR": str(keys)},
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode != 0 and "chmod 600" in result.stderr


def test_admin_of_a_mission_is_not_an_admin_of_another(officer: Any, other_mission: Any) -> None:
    admin_b = make_user(other_mission, "admin", username="bertha")
    members = signed_in_client(admin_b).get("/desk/members/").content.decode()
    assert "bertha" in members
    assert "otto" not in members


def test_odd_input_is_a_clear_answer_not_a_crash(admin: Any) -> None:
    client = signed_in_client(admin)
    assert client.post("/desk/mission/", {"mission": str(10**20)}).status_code == 302
    assert client.get("/desk/audit/", {"action": "a\x00b"}).status_code == 200


def test_portal_only_host_answers_404_for_the_workspace(db: Any, settings: Any) -> None:
    settings.HAVEN_FACE = "portal"
    response = Client().get("/desk/anything-not-there/")
    assert response.status_code == 404
    assert "Sign out" not in response.content.decode()


def test_missing_csrf_middleware_is_a_deploy_error(settings: Any) -> None:
    from haven.core.checks import csrf_middleware_present

    assert csrf_middleware_present() == []
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "haven.core.middleware.FetchMetadataCsrfMiddleware"
    ]
    assert [e.id for e in csrf_middleware_present()] == ["haven.E001"]
