"""The cabinet as an installed Android app: Chromium with phone emulation finds a valid
manifest and an active service worker, and offline it shows the offline page with the
last balance this device saw."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from .test_payment_flow import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_installable_and_useful_offline(browser, playwright, live_server):
    call_command("seed_demo", "--force", "--subscribers", "3", verbosity=0)
    android = playwright.devices["Pixel 7"]
    context = browser.new_context(**android, locale="ru-RU")
    page = context.new_page()
    login(page, live_server.url, "1000001")
    balance = page.get_by_test_id("balance").inner_text()

    href = page.locator('link[rel="manifest"]').get_attribute("href")
    manifest = page.evaluate("url => fetch(url).then(r => r.json())", href)
    assert manifest["display"] == "standalone"
    assert manifest["start_url"].startswith("/")
    assert manifest["name"].endswith("личный кабинет") or "кабинет" in manifest["name"]
    sizes = {(i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert page.evaluate("url => fetch(url).then(r => r.status)", icon["src"]) == 200

    state = page.evaluate(
        "() => navigator.serviceWorker.ready.then(r => r.active && r.active.state)"
    )
    assert state in ("activated", "activating")
    page.reload()  # now controlled by the worker
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    page.goto(f"{live_server.url}/traffic/")
    expect(page.get_by_test_id("offline")).to_be_visible()
    expect(page.get_by_test_id("offline-balance")).to_contain_text(balance)
    context.set_offline(False)
    context.close()


def test_asset_links_for_the_store(client, settings):
    assert client.get("/.well-known/assetlinks.json").json() == []
    settings.TWA_PACKAGE_NAME = "ru.skynet.cabinet"
    settings.TWA_SHA256_FINGERPRINTS = ["AA:BB"]
    statement = client.get("/.well-known/assetlinks.json").json()[0]
    assert statement["target"]["package_name"] == "ru.skynet.cabinet"
    assert statement["target"]["sha256_cert_fingerprints"] == ["AA:BB"]
