"""Site-wide behaviour: headers, error pages, translations."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = pytest.mark.django_db
ROOT = Path(settings.BASE_DIR)


def test_security_headers(client):
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_inline_scripts_in_pages(client):
    body = client.get("/login/").content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)


def test_404_is_a_translated_page_not_a_trace(client):
    client.cookies["abonent_language"] = "ru"
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Страница не найдена" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_500_is_a_friendly_page_or_json(rf):
    from abonent.cabinet.views.errors import server_error

    page = server_error(rf.get("/"))
    assert page.status_code == 500
    assert "Traceback" not in page.content.decode()
    api = server_error(rf.get("/api/v1/account"))
    assert api.status_code == 500
    assert api["Content-Type"].startswith("application/json")
    assert '"internal_error"' in api.content.decode()


def test_language_switch_sets_the_cookie(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    assert client.get("/login/").content.decode().count("Contract number") >= 1


PO = ROOT / "locale/ru/LC_MESSAGES/django.po"


def test_russian_catalogue_is_complete():
    catalogue = polib.pofile(str(PO))
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []
    for entry in catalogue:
        if entry.msgid_plural:
            assert len(entry.msgstr_plural) == 3, entry.msgid  # Russian has three forms


def test_compiled_catalogue_is_fresh(tmp_path):
    """The committed .mo must be what msgfmt makes of the .po."""
    mo = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(PO)], check=True)
    assert mo.read_bytes() == PO.with_suffix(".mo").read_bytes()


def test_every_marked_string_is_in_the_catalogue(tmp_path):
    """makemessages finds no msgid that the committed catalogue lacks. It writes in
    place, so the committed file is put back afterwards."""
    saved = tmp_path / "django.po"
    shutil.copy(PO, saved)
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)
        call_command(
            "makemessages",
            locale=["ru"],
            no_location=True,
            no_obsolete=True,
            ignore_patterns=[".venv/*", "tests/*", "*/tests/*"],
            verbosity=0,
        )
        found = {e.msgid for e in polib.pofile(str(PO))}
    finally:
        shutil.copy(saved, PO)
        os.chdir(cwd)
    assert found - {e.msgid for e in polib.pofile(str(PO))} == set()
