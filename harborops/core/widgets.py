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
