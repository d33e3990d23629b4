from django.conf import settings
from django.http import HttpRequest


def provider(request: HttpRequest) -> dict[str, str]:
    return {
        "PROVIDER_NAME": settings.PROVIDER_NAME,
        "HOTLINE": settings.PROVIDER_HOTLINE,
        "VAPID_PUBLIC_KEY": settings.VAPID_PUBLIC_KEY,
    }
