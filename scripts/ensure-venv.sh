#!/usr/bin/env bash
# Create .venv and install a requirements file into it, only when that file changed.
set -euo pipefail
cd "$(dirname "$0")/.."
req=${1:-requirements.txt}
py=$(command -v python3.11 || command -v python3)
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
stamp=".venv/.stamp-$(basename "$req")-$(cat "$req" requirements.txt | sha256sum | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  .venv/bin/pip install -q --disable-pip-version-check -r "$req"
  touch "$stamp"
fi
