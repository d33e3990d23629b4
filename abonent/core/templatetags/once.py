"""{% once name var… %}…{% endonce %}: a fragment that depends only on the code, the
settings and the variables named (the language, the menu section) — the asset links,
the top bar, the cabinet menu — rendered once per process and then reused.

Django's {% cache %} does the same through a cache backend; on every page that is a key
hash, a lock and an unpickle per fragment (~15 µs each, four on every cabinet page);
here it is a dict lookup (decision 0016)."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.signals import setting_changed
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# The variables are a handful of languages and sections; the bound only guards against
# a template that varies a fragment on something unbounded by mistake.
MAX_FRAGMENTS = 1000
_rendered: dict[tuple[Any, ...], SafeString] = {}


def forget_fragments(**_: Any) -> None:
    _rendered.clear()


# A changed setting (tests do that: the provider's name, the languages) may change a
# fragment.
setting_changed.connect(forget_fragments, dispatch_uid="abonent-once-fragments")


class OnceNode(template.Node):
    def __init__(self, nodelist: NodeList, name: str, vary_on: list[FilterExpression]):
        self.nodelist = nodelist
        self.name = name
        self.vary_on = vary_on

    def render(self, context: template.Context) -> str:
        key = (self.name, *(var.resolve(context) for var in self.vary_on))
        try:
            return _rendered[key]
        except KeyError:
            pass
        fragment = mark_safe(self.nodelist.render(context))  # noqa: S308 — rendered by the template engine
        if len(_rendered) < MAX_FRAGMENTS:
            _rendered[key] = fragment
        return fragment


@register.tag("once")
def do_once(parser: Parser, token: Token) -> OnceNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% once %} needs a fragment name")
    nodelist = parser.parse(("endonce",))
    parser.delete_first_token()
    return OnceNode(nodelist, bits[1], [parser.compile_filter(bit) for bit in bits[2:]])
