"""``{% sort_header sorting "key" "Label" %}``: a table header that sorts the list (harborops/core/sorting.py)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from harborops.core.sorting import Sorting

register = template.Library()


@register.simple_tag
def sort_header(sorting: Sorting | None, key: str, label: str) -> str:
    if sorting is None:
        return format_html("<th>{}</th>", label)
    active = key == sorting.key
    state = ("descending" if sorting.descending else "ascending") if active else "none"
    return format_html('<th aria-sort="{}" data-sort="{}"><a class="sort{}" href="?{}">{} '
                       '<span class="arrow">{}</span></a></th>', state, key, " active" if active else "",
                       sorting.link(key), label, sorting.arrow(key))
