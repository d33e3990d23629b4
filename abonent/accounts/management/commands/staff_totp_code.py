from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Development only: print a staff user's current TOTP code (no phone needed for demos)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("This command only works with DEBUG on.")
        device = (
            TOTPDevice.objects.filter(user__username=username).order_by("-confirmed", "-id").first()
        )
        if device is None:
            raise CommandError(
                f"{username} has no authenticator yet: log in once at /staff/login/ to create it."
            )
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
