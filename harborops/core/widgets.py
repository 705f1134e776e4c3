"""Form widgets for long option lists."""

from __future__ import annotations

from html import escape
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import SafeString, mark_safe


class LongSelect(forms.Select):
    """A ``<select>`` for a thousand options (every instance of the fleet in a page's filter), written here:
    the stock widget renders two templates per option, ~40 µs each, so 40 ms of every page that shows the
    filter of a 1,000-instance fleet (issue 15). Same markup as the stock widget; option groups and
    per-option attributes are not supported (the stock widget renders those)."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None,
               renderer: Any = None) -> SafeString:
        choices = list(self.choices)
        if self.allow_multiple_selected or any(isinstance(label, (list, tuple)) for _v, label in choices):
            return super().render(name, value, attrs, renderer)
        chosen = set(self.format_value(value))
        options, has_selected = [], False
        for option_value, label in choices:
            text = "" if option_value is None else str(option_value)
            selected = not has_selected and text in chosen
            has_selected |= selected
            options.append(f'  <option value="{escape(text)}"{" selected" if selected else ""}>'
                           f"{escape(str(label))}</option>")
        final = self.build_attrs(self.attrs, attrs)
        return mark_safe(f'<select name="{escape(name)}"{flatatt(final)}>\n' + "\n".join(options)  # noqa: S308
                         + "\n</select>")


def _attrs_html(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html in Python: ``True`` a bare name, ``False`` left out."""
    return "".join("" if v is False else f" {k}" if v is True else f' {k}="{escape(str(v))}"' for k, v in attrs.items())


def _input_html(option: dict[str, Any]) -> str:
    """django/forms/widgets/input.html for one option of a choice widget."""
    value = "" if option["value"] is None else f' value="{escape(str(option["value"]))}"'
    return f'<input type="{option["type"]}" name="{escape(option["name"])}"{value}{_attrs_html(option["attrs"])}>'


class LongCheckboxSelectMultiple(forms.CheckboxSelectMultiple):
    """Checkboxes for a thousand options (every instance of the fleet in a form), written here: the stock
    widget renders three templates per option (~150 µs each at 1,000 instances: 180 ms of the page, issue
    15). The options come from the stock ``get_context`` (ids, checked state, attributes), so the markup is
    the stock widget's (tests/core/test_widgets.py); option groups fall back to the stock widget."""

    def __init__(self, attrs: dict[str, Any] | None = None, choices: Any = (), *, inline: bool = False) -> None:
        super().__init__(attrs, choices)
        self.inline = inline

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None,
               renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        if any(group for group, _options, _index in widget["optgroups"]):
            return super().render(name, value, attrs, renderer)
        if self.inline:  # what ``{% for box in field %}<label class="inline-choice">{{ box.tag }} …`` writes
            return mark_safe("".join(  # noqa: S308 - every value is escaped
                f'<label class="inline-choice">{_input_html(o)} {escape(str(o["label"]))}</label> '
                for _group, options, _index in widget["optgroups"] for o in options))
        wid, css = widget["attrs"].get("id"), widget["attrs"].get("class")
        id_html = f' id="{escape(wid)}"' if wid else ""
        class_html = f' class="{escape(css)}"' if css else ""
        parts = [f"<div{id_html}{class_html}>"]
        for _group, options, _index in widget["optgroups"]:
            for o in options:
                field = _input_html(o)
                if o["wrap_label"]:
                    label_for = f' for="{escape(o["attrs"]["id"])}"' if o["attrs"].get("id") else ""
                    field = f"<label{label_for}>{field}\n {escape(str(o['label']))}</label>"
                parts.append(f"<div>\n    {field}\n\n</div>")
        return mark_safe("".join(parts) + "\n</div>")  # noqa: S308 - every value above is escaped
