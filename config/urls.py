from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from abonent.api import fallback as api_fallback
from abonent.api.api import api
from abonent.cabinet.views import pwa
from abonent.core.observability import views as observability

urlpatterns = [
    path("healthz", observability.healthz, name="healthz"),
    path("readyz", observability.readyz, name="readyz"),
    path("metrics", observability.prometheus, name="metrics"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("offline/", pwa.offline, name="offline"),
    path(".well-known/assetlinks.json", pwa.asset_links, name="asset_links"),
    path("api/v1/", api.urls),
    path("api/v1/<path:rest>", api_fallback.not_found),
    path("staff/admin/", admin.site.urls),
    path("staff/", include("abonent.staff.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("webhooks/", include("abonent.payments.urls")),
    path("radius/", include("abonent.network.urls")),
    path("sandbox-pay/", include("abonent.payments.sandbox_urls")),
    path("", include("abonent.cabinet.urls")),
]

handler400 = "abonent.cabinet.views.errors.bad_request"
handler403 = "abonent.cabinet.views.errors.permission_denied"
handler404 = "abonent.cabinet.views.errors.page_not_found"
handler500 = "abonent.cabinet.views.errors.server_error"
