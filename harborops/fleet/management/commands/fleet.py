"""``manage.py fleet add|list|remove|sweep|import``: the inventory from a shell (scripts, cron, CI).

Passwords never go on the command line (other users see it in ``ps``): ``--password-stdin``,
``--password-file``, or a prompt when a terminal is attached."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from harborops.core.actor import Actor
from harborops.fleet.models import HAGroup, Instance
from harborops.fleet.services import importer, inventory, sweep

ACTOR = Actor.system("manage.py fleet")


def _password(options: dict[str, Any]) -> str:
    if options["password_stdin"]:
        return sys.stdin.readline().rstrip("\n")
    if options["password_file"]:
        return Path(options["password_file"]).read_text().rstrip("\n")
    if sys.stdin.isatty():
        return getpass.getpass("Password or robot secret: ")
    raise CommandError("give the password with --password-stdin or --password-file (never as an argument)")


def _labels(items: list[str]) -> dict[str, str]:
    labels = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"--label {item!r} is not key=value")
        labels[key] = value
    return labels


def _errors(exc: ValidationError) -> CommandError:
    text = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()) if hasattr(exc, "error_dict") \
        else " ".join(exc.messages)
    return CommandError(text)


class Command(BaseCommand):
    help = "Manage the fleet of Harbor instances: add, list, remove, sweep, import."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="register an instance (tests the connection first)")
        add.add_argument("name")
        add.add_argument("url")
        add.add_argument("--username", required=True)
        add.add_argument("--robot", action="store_true", help="the credentials are a system robot account")
        add.add_argument("--password-stdin", action="store_true")
        add.add_argument("--password-file")
        add.add_argument("--ca-file", help="PEM CA bundle to verify the instance with")
        add.add_argument("--label", action="append", default=[], help="key=value, repeatable")
        add.add_argument("--ha-group", help="name of an existing HA group")
        add.add_argument("--notes", default="")
        add.add_argument("--disabled", action="store_true")
        add.add_argument("--no-check", action="store_true", help="save without testing the connection")
        lst = sub.add_parser("list", help="the instances and their status")
        lst.add_argument("--json", action="store_true")
        lst.add_argument("--label", help="key=value filter")
        lst.add_argument("--status", choices=Instance.Status.values)
        rm = sub.add_parser("remove", help="remove instances from the fleet")
        rm.add_argument("names", nargs="+")
        sw = sub.add_parser("sweep", help="poll instances now (all enabled ones by default) and print their status")
        sw.add_argument("names", nargs="*")
        imp = sub.add_parser("import", help="bulk import from a CSV or YAML file ('-' for stdin)")
        imp.add_argument("file")
        imp.add_argument("--format", choices=("csv", "yaml"), default="")
        imp.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"do_{options['action']}")(options)

    def do_add(self, o: dict[str, Any]) -> None:
        password = _password(o)
        ca = Path(o["ca_file"]).read_text() if o["ca_file"] else ""
        if not o["no_check"]:
            check = inventory.check_connection(o["url"], o["username"], password, ca)
            if not check.ok:
                raise CommandError(f"connection test failed ({check.problem}): {check.message}"
                                   " — fix it, or save anyway with --no-check")
            self.stdout.write(f"connection works: {check.message}")
        group = None
        if o["ha_group"]:
            group = HAGroup.objects.filter(name=o["ha_group"]).first()
            if group is None:
                raise CommandError(f"no HA group named {o['ha_group']!r}")
        try:
            instance = inventory.create_instance(
                actor=ACTOR, name=o["name"], url=o["url"], username=o["username"], password=password,
                credential_kind=Instance.CredentialKind.ROBOT if o["robot"] else Instance.CredentialKind.SYSADMIN,
                ca_bundle=ca, labels=_labels(o["label"]), notes=o["notes"], enabled=not o["disabled"], ha_group=group)
        except ValidationError as exc:
            raise _errors(exc) from None
        self.stdout.write(self.style.SUCCESS(f"added {instance.name} (id {instance.pk})"))

    def do_list(self, o: dict[str, Any]) -> None:
        qs = Instance.objects.select_related("ha_group").order_by("name")
        if o["status"]:
            qs = qs.filter(status=o["status"])
        if o["label"]:
            key, _, value = o["label"].partition("=")
            qs = qs.filter(**{f"labels__{key}": value})
        rows = [{"name": i.name, "url": i.url, "status": i.status, "version": i.version,
                 "latency_ms": i.latency_ms, "labels": i.labels, "enabled": i.enabled,
                 "ha_group": i.ha_group.name if i.ha_group else None, "problem": i.error_message} for i in qs]
        if o["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        for r in rows:
            labels = ",".join(f"{k}={v}" for k, v in r["labels"].items())
            self.stdout.write(f"{r['name']:<24} {r['status']:<9} {r['version'] or '-':<22} {r['url']:<40} {labels}")
        self.stdout.write(f"{len(rows)} instances")

    def do_remove(self, o: dict[str, Any]) -> None:
        found = {i.name: i for i in Instance.objects.filter(name__in=o["names"])}
        missing = [n for n in o["names"] if n not in found]
        if missing:
            raise CommandError(f"no such instance: {', '.join(missing)} (nothing removed)")
        for name in o["names"]:
            inventory.delete_instance(found[name], actor=ACTOR)
            self.stdout.write(f"removed {name}")

    def do_sweep(self, o: dict[str, Any]) -> None:
        qs = Instance.objects.filter(enabled=True)
        if o["names"]:
            qs = qs.filter(name__in=o["names"])
            missing = set(o["names"]) - set(qs.values_list("name", flat=True))
            if missing:
                raise CommandError(f"no such enabled instance: {', '.join(sorted(missing))}")
        result = sweep.sweep_ids(list(qs.values_list("pk", flat=True)))
        for i in qs.order_by("name"):
            self.stdout.write(f"{i.name:<24} {i.health_label()}" + (f" — {i.error_message}" if i.error_message else ""))
        self.stdout.write(result.summary())

    def do_import(self, o: dict[str, Any]) -> None:
        text = sys.stdin.read() if o["file"] == "-" else Path(o["file"]).read_text()
        try:
            rows = importer.parse(text, o["format"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        result = importer.import_instances(rows, actor=ACTOR, dry_run=o["dry_run"])
        for err in result.errors:
            self.stderr.write(err)
        verb = "would be" if o["dry_run"] else ""
        self.stdout.write(f"{len(result.created)} {verb} created, {len(result.updated)} {verb} updated, "
                          f"{len(result.unchanged)} unchanged".replace("  ", " "))
        if result.errors:
            raise CommandError(f"{len(result.errors)} row(s) have errors: nothing was imported")
