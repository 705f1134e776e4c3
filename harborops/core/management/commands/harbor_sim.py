"""``manage.py harbor_sim``: the Harbor simulator in the foreground (same options as
``python -m harborops.harbor_sim``); prints each instance's URL and admin credentials."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from harborops.harbor_sim import cli


class Command(BaseCommand):
    help = "Run simulated Harbor instances (for demos and manual testing)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # The simulator's --version (Harbor version) replaces Django's --version here.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        for action in cli.parser()._actions:
            if action.dest == "help":
                continue
            kwargs: dict[str, Any] = {"dest": action.dest, "default": action.default, "help": action.help}
            if action.nargs == 0:
                kwargs["action"] = "store_true"
            else:
                kwargs["type"] = action.type
            parser.add_argument(*action.option_strings, **kwargs)

    def handle(self, *args: Any, **options: Any) -> None:
        known = {a.dest for a in cli.parser()._actions}
        namespace = cli.parser().parse_args([])
        for key, value in options.items():
            if key in known:
                setattr(namespace, key, value)
        sys.exit(cli.run(namespace, self.stdout))  # type: ignore[arg-type]
