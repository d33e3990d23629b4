"""{% once %}: a fragment rendered once per process for each value of its variables."""

import itertools

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import override_settings

from abonent.core.templatetags import once

TEMPLATE = Template("{% load once %}[{% once menu lang %}{{ counter }}{% endonce %}]")


class Counter:
    def __init__(self) -> None:
        self.calls = itertools.count(1)

    def __str__(self) -> str:
        return str(next(self.calls))


@pytest.fixture(autouse=True)
def _fresh():
    once.forget_fragments()
    yield
    once.forget_fragments()


def render(counter: Counter, lang: str) -> str:
    return TEMPLATE.render(Context({"counter": counter, "lang": lang}))


def test_a_fragment_is_rendered_once_for_each_value_of_its_variables():
    counter = Counter()
    assert render(counter, "ru") == "[1]"
    assert render(counter, "ru") == "[1]"
    assert render(counter, "en") == "[2]"
    assert render(counter, "en") == "[2]"
    assert render(counter, "ru") == "[1]"


def test_a_changed_setting_renders_fragments_again():
    counter = Counter()
    assert render(counter, "ru") == "[1]"
    with override_settings(PROVIDER_NAME="Другой провайдер"):
        assert render(counter, "ru") == "[2]"


def test_past_the_bound_fragments_are_rendered_every_time(monkeypatch):
    monkeypatch.setattr(once, "MAX_FRAGMENTS", 1)
    counter = Counter()
    assert render(counter, "ru") == "[1]"
    assert render(counter, "en") == "[2]"
    assert render(counter, "en") == "[3]"  # not kept
    assert render(counter, "ru") == "[1]"


def test_a_fragment_needs_a_name():
    with pytest.raises(TemplateSyntaxError):
        Template("{% load once %}{% once %}x{% endonce %}")
