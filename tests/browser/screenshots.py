"""README screenshots, taken inside the browser tests' real flows (never from staged pages).

``shoot(page, name)`` always takes the screenshot (so the code path runs in every test run) and writes it
to docs/screenshots/<name>.png only with HARBOROPS_UPDATE_SCREENSHOTS=1; otherwise to a temporary file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from playwright.sync_api import Page

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shoot(page: Page, name: str, *, full_page: bool = True) -> Path:
    if os.environ.get("HARBOROPS_UPDATE_SCREENSHOTS"):
        path = OUT / f"{name}.png"
    else:
        path = Path(tempfile.gettempdir()) / f"harborops-screenshot-{os.getpid()}-{name}.png"
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 1000, f"empty screenshot {path}"
    if not os.environ.get("HARBOROPS_UPDATE_SCREENSHOTS"):
        path.unlink()
    return path
