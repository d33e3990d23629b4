"""Demo support data for `seed_demo`: canned answers the hotline really uses, so the
staff desk has something to insert from the first run. Idempotent."""

from __future__ import annotations

from .models import CannedAnswer

CANNED = [
    (
        "Перезагрузка роутера",
        "no_connection",
        "Выключите роутер из розетки на 30 секунд и включите снова. Если через 5 минут "
        "интернета нет, напишите, какие индикаторы горят на роутере.",
    ),
    (
        "Проверка скорости",
        "slow_speed",
        "Проверьте скорость по кабелю, не по Wi-Fi, на speedtest.net и пришлите снимок "
        "результата: так мы поймём, где теряется скорость.",
    ),
    (
        "Платёж зачислен",
        "billing",
        "Платёж зачислен на ваш счёт, доступ восстановлен. Спасибо, что остаётесь с нами!",
    ),
]


def ensure_canned_answers() -> int:
    created = 0
    for title, category, text in CANNED:
        _row, new = CannedAnswer.objects.get_or_create(
            title=title, defaults={"category": category, "text": text}
        )
        created += new
    return created
