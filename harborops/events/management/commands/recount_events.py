"""Recompute the per-instance stored-event figures from the events table (a repair; the ingest and
the purge keep them up to date on their own)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from harborops.events.figures import recount


class Command(BaseCommand):
    help = "Recount stored audit events per instance (count, oldest, newest) from the events table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("instance_ids", nargs="*", type=int, help="only these instances (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        n = recount(options["instance_ids"] or None)
        self.stdout.write(f"recounted the stored events of {n} instance(s)")
