"""The screens: login (and the forced password change), home with the balance,
services with a tariff-change preview, support with a new ticket, logout. Every action
is one ApiClient call; what the server says (including its translated errors) is shown."""

from __future__ import annotations

import os
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
            toga.Button("Поддержка", id="support", on_press=lambda w: self.show_support()),
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
            self.preview.text = (
                f"С {when}: {plan['new_monthly_price']['amount'] / 100:.2f} ₽ в месяц"
            )

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

    def do_logout(self, widget: toga.Widget) -> None:
        self._guard(self.api.logout)
        self.show_login()


def main() -> AbonentApp:
    return AbonentApp("Абонент", "ru.abonent.cabinet")
