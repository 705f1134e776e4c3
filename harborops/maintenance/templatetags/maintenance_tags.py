"""``{% gc_instance_panel instance %}``: GC on the fleet's instance page (freed-bytes trend, storage
used before and after each run), included there from maintenance/instance_gc.html."""

from __future__ import annotations

from typing import Any

from django import template

from harborops.fleet.models import Instance

register = template.Library()


@register.inclusion_tag("maintenance/htmx/instance_gc_panel.html")
def gc_instance_panel(instance: Instance) -> dict[str, Any]:
    from harborops.maintenance.cleanup_views import instance_panel

    return instance_panel(instance)
