"""harbor.yml from the installer's own harbor.yml.tmpl, comments kept (ruamel.yaml round trip).

The diff shown to people replaces every secret value with a mask before it is computed, so the
diff itself never holds a password.
"""

from __future__ import annotations

import difflib
import io
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

MASK = "********"


@dataclass(frozen=True)
class Values:
    hostname: str
    http_port: int
    https_enabled: bool
    https_port: int
    certificate_path: str
    private_key_path: str
    admin_password: str
    db_password: str
    data_volume: str


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _section(data: CommentedMap, key: str) -> CommentedMap:
    value = data.get(key)
    if not isinstance(value, CommentedMap):
        value = CommentedMap()
        data[key] = value
    return value


def render(template: str, values: Values) -> str:
    yaml = _yaml()
    data: Any = yaml.load(template)
    if not isinstance(data, CommentedMap):
        raise ValueError("harbor.yml.tmpl is not a YAML mapping")
    data["hostname"] = values.hostname
    _section(data, "http")["port"] = values.http_port
    if values.https_enabled:
        https = _section(data, "https")
        https["port"] = values.https_port
        https["certificate"] = values.certificate_path
        https["private_key"] = values.private_key_path
    data["harbor_admin_password"] = values.admin_password
    _section(data, "database")["password"] = values.db_password
    data["data_volume"] = values.data_volume
    out = io.StringIO()
    yaml.dump(data, out)
    text = out.getvalue()
    return text if values.https_enabled else comment_out_block(text, "https")


def comment_out_block(text: str, key: str) -> str:
    """Comment out a top-level block (what Harbor's docs say to do with ``https:`` for plain http;
    deleting the key through ruamel would drop the comments that follow it)."""
    lines = text.split("\n")
    out: list[str] = []
    inside = False
    for line in lines:
        if line.startswith(f"{key}:"):
            inside = True
        elif inside and line.strip() and not line[0].isspace():
            inside = False
        out.append(f"# {line}" if inside and line.strip() else line)
    return "\n".join(out)


def redacted(text: str, secrets: list[str]) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def diff(template: str, rendered: str, secrets: list[str]) -> str:
    lines = difflib.unified_diff(template.splitlines(), redacted(rendered, secrets).splitlines(),
                                 "harbor.yml.tmpl", "harbor.yml", lineterm="", n=1)
    return "\n".join(lines)
