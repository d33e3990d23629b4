"""The screens: login (and the forced password change), home with the balance,
services with a tariff-change preview, support with a new ticket, logout. Every action
is one ApiClient call; what the server says (including its translated errors) is shown."""

from __future__ import annotations

import os
import webbrowser
from typing import Any

import toga
from toga.style import Pack

from .api import ApiClient, ApiError

SERVER = os.environ.get("ABONENT_SERVER", "https://cabinet.example.ru")


class AbonentApp(toga.App):
    def __init__(self, *args: Any, server: str = SERVER, **kwargs: Any) -> None:
        self.api = ApiClient(server)
        super().__init__(*args, **kwargs)

    # --- screens -------------------------------------------------------------------

    def startup(self) -> None:
        self.window = toga.MainWindow(title=self.formal_name)
        self.main_window = self.window
        self.status = toga.Label("")
        self.show_login()
        self.window.show()

    def _screen(self, *widgets: toga.Widget) -> None:
        self.window.content = toga.Box(
            children=[*widgets, self.status], style=Pack(direction="column", margin=12)
        )

    def _say(self, text: str) -> None:
        self.status.text = text

    def show_login(self) -> None:
        self.number = toga.TextInput(placeholder="Номер договора")
        self.password = toga.PasswordInput(placeholder="Пароль")
        self._screen(
            toga.Label("Личный кабинет"),
            self.number,
            self.password,
            toga.Button("Войти", id="login", on_press=self.do_login),
            toga.Button("Забыли пароль?", id="forgot", on_press=lambda w: self.show_recovery()),
        )

    def show_recovery(self) -> None:
        self.recovery_phone = toga.TextInput(placeholder="Телефон из договора")
        self.recovery_code = toga.TextInput(placeholder="Код из SMS")
        self.recovery_password = toga.PasswordInput(placeholder="Новый пароль")
        self._screen(
            self.recovery_phone,
            toga.Button("Получить код", id="recovery-start", on_press=self.do_recovery_start),
            self.recovery_code,
            self.recovery_password,
            toga.Button("Сохранить и войти", id="recovery-done", on_press=self.do_recovery_done),
            toga.Button("Назад", on_press=lambda w: self.show_login()),
        )

    def show_password_change(self) -> None:
        self.old_password = toga.PasswordInput(placeholder="Текущий пароль")
        self.new_password = toga.PasswordInput(placeholder="Новый пароль")
        self._screen(
            toga.Label("Задайте свой пароль"),
            self.old_password,
            self.new_password,
            toga.Button("Сохранить", id="save-password", on_press=self.do_change_password),
        )

    def show_home(self) -> None:
        account = self.api.account()
        self.balance = toga.Label(f"{account['balance']['amount'] / 100:.2f} ₽")
        self._screen(
            toga.Label(f"Договор {account['contract_number']}"),
            self.balance,
            toga.Button("Услуги", id="services", on_press=lambda w: self.show_services()),
            toga.Button("Трафик", id="traffic", on_press=lambda w: self.show_traffic()),
            toga.Button("Платежи", id="payments", on_press=lambda w: self.show_payments()),
            toga.Button("Поддержка", id="support", on_press=lambda w: self.show_support()),
            toga.Button("Профиль", id="profile", on_press=lambda w: self.show_profile()),
            toga.Button("Выйти", id="logout", on_press=self.do_logout),
        )

    def show_services(self) -> None:
        self.tariff_choice = toga.Selection(
            items=[{"name": t["name"], "id": t["id"]} for t in self.api.tariffs()],
            accessor="name",
        )
        self.preview = toga.Label("")
        self._screen(
            self.tariff_choice,
            toga.Button("Что изменится", id="preview", on_press=self.do_preview),
            self.preview,
            toga.Button("Сменить тариф", id="change", on_press=self.do_change_tariff),
            toga.Button(
                "Дополнительные услуги", id="addons", on_press=lambda w: self.show_addons()
            ),
            toga.Button(
                "Приостановить", id="suspension", on_press=lambda w: self.show_suspension()
            ),
            toga.Button("Назад", on_press=lambda w: self.show_home()),
        )

    def show_addons(self) -> None:
        self.addon_rows = self.api.addons()
        buttons = [
            toga.Button(
                f"{'Отключить' if a['active'] else 'Подключить'}: {a['name']}",
                id=f"addon-{a['id']}",
                on_press=lambda w, a=a: self.do_addon(a),
            )
            for a in self.addon_rows
        ]
        self._screen(*buttons, toga.Button("Назад", on_press=lambda w: self.show_services()))

    def show_suspension(self) -> None:
        self.suspend_from = toga.TextInput(placeholder="С (ГГГГ-ММ-ДД)")
        self.suspend_to = toga.TextInput(placeholder="По (ГГГГ-ММ-ДД)")
        self.suspend_preview = toga.Label("")
        self._screen(
            self.suspend_from,
            self.suspend_to,
            toga.Button("Что изменится", id="suspend-preview", on_press=self.do_suspend_preview),
            self.suspend_preview,
            toga.Button("Приостановить", id="suspend", on_press=self.do_suspend),
            toga.Button("Назад", on_press=lambda w: self.show_services()),
        )

    def show_traffic(self) -> None:
        rows = self.api.traffic()
        self.traffic_table: toga.Table = toga.Table(
            columns=["День", "Получено, МБ", "Отправлено, МБ"],
            data=[
                (r["period"], f"{r['bytes_out'] / 1e6:.1f}", f"{r['bytes_in'] / 1e6:.1f}")
                for r in reversed(rows)
            ],
        )
        self._screen(self.traffic_table, toga.Button("Назад", on_press=lambda w: self.show_home()))

    def show_payments(self) -> None:
        self.amount = toga.TextInput(placeholder="Сумма, ₽")
        rule = self.api.autopay()
        self.autopay_switch = toga.Switch("Автоплатёж", value=bool(rule.get("enabled")))
        self._screen(
            self.amount,
            toga.Button("Оплатить картой", id="pay", on_press=self.do_pay),
            self.autopay_switch,
            toga.Button("Сохранить автоплатёж", id="autopay", on_press=self.do_autopay),
            toga.Button("Назад", on_press=lambda w: self.show_home()),
        )

    def show_profile(self) -> None:
        profile = self.api.profile()
        self.email = toga.TextInput(value=profile["email"], placeholder="E-mail")
        self._screen(
            toga.Label(profile["full_name"]),
            toga.Label(profile["phone"]),
            self.email,
            toga.Button("Сохранить", id="save-profile", on_press=self.do_save_profile),
            toga.Button("Назад", on_press=lambda w: self.show_home()),
        )

    def show_support(self) -> None:
        self.subject = toga.TextInput(placeholder="Тема")
        self.text = toga.MultilineTextInput(placeholder="Ваш вопрос")
        self._screen(
            self.subject,
            self.text,
            toga.Button("Отправить", id="send-ticket", on_press=self.do_open_ticket),
            toga.Button("Назад", on_press=lambda w: self.show_home()),
        )

    # --- actions -------------------------------------------------------------------

    def _guard(self, action: Any) -> Any:
        try:
            return action()
        except ApiError as exc:
            details = " ".join(m for msgs in exc.fields.values() for m in msgs)
            self._say(" ".join(p for p in (exc.message, details) if p))
            return None

    def do_login(self, widget: toga.Widget) -> None:
        if self._guard(lambda: self.api.login(self.number.value, self.password.value)) is None:
            return
        if self.api.session.password_change_required:
            self.show_password_change()
        else:
            self.show_home()

    def do_change_password(self, widget: toga.Widget) -> None:
        def change() -> bool:
            self.api.change_password(self.old_password.value, self.new_password.value)
            return True

        if self._guard(change):
            self.show_home()

    def do_preview(self, widget: toga.Widget) -> None:
        plan = self._guard(lambda: self.api.preview_tariff(self._tariff_id()))
        if plan:
            when = "сейчас" if plan["immediate"] else plan["effective_date"]
            text = f"С {when}: {plan['new_monthly_price']['amount'] / 100:.2f} ₽ в месяц"
            announced = plan.get("price_change")
            if announced:  # told to the tariff's subscribers already; the joiner sees it too
                text += (
                    f"\nОбъявлено изменение цены: с {announced['valid_from']} — "
                    f"{announced['monthly_price']['amount'] / 100:.2f} ₽ в месяц"
                )
            self.preview.text = text

    def _tariff_id(self) -> int:
        return int(getattr(self.tariff_choice.value, "id", 0))

    def do_change_tariff(self, widget: toga.Widget) -> None:
        change = self._guard(lambda: self.api.change_tariff(self._tariff_id()))
        if change:
            self._say(f"Смена тарифа: {change['status']}")

    def do_open_ticket(self, widget: toga.Widget) -> None:
        ticket = self._guard(
            lambda: self.api.open_ticket("other", self.subject.value, self.text.value)
        )
        if ticket:
            self._say(f"Обращение №{ticket['id']} отправлено")

    def do_addon(self, addon: dict[str, Any]) -> None:
        if self._guard(lambda: self.api.set_addon(addon["id"], not addon["active"]) or True):
            self.show_addons()

    def do_suspend_preview(self, widget: toga.Widget) -> None:
        plan = self._guard(
            lambda: self.api.preview_suspension(self.suspend_from.value, self.suspend_to.value)
        )
        if plan:
            self.suspend_preview.text = (
                f"{plan['days']} дн., сбор {plan['fee']['amount'] / 100:.2f} ₽"
            )

    def do_suspend(self, widget: toga.Widget) -> None:
        if self._guard(lambda: self.api.suspend(self.suspend_from.value, self.suspend_to.value)):
            self._say("Приостановка оформлена")

    def do_pay(self, widget: toga.Widget) -> None:
        payment = self._guard(lambda: self.api.pay(self.amount.value))
        if payment:
            self.opened_url = payment["confirmation_url"]
            webbrowser.open(self.opened_url)  # the provider's page: card data never here

    def do_autopay(self, widget: toga.Widget) -> None:
        if self._guard(lambda: self.api.set_autopay(bool(self.autopay_switch.value))):
            self._say("Сохранено")

    def do_save_profile(self, widget: toga.Widget) -> None:
        if self._guard(lambda: self.api.set_email(self.email.value)):
            self._say("Сохранено")

    def do_recovery_start(self, widget: toga.Widget) -> None:
        started = self._guard(lambda: self.api.recovery_start(self.recovery_phone.value))
        if started:
            self.recovery_request = started["request_id"]
            self._say("Код отправлен")

    def do_recovery_done(self, widget: toga.Widget) -> None:
        def finish() -> bool:
            verified = self.api.recovery_verify(self.recovery_request, self.recovery_code.value)
            contracts = verified["contracts"]
            self.api.recovery_complete(
                verified["reset_token"],
                self.recovery_password.value,
                contracts[0] if len(contracts) == 1 else "",
            )
            return True

        if self._guard(finish):
            self.show_home()

    def do_logout(self, widget: toga.Widget) -> None:
        self._guard(self.api.logout)
        self.show_login()


def main() -> AbonentApp:
    return AbonentApp("Абонент", "ru.abonent.cabinet")
