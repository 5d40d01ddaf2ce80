#!/usr/bin/env bash
# `make run` until the desktop app exists: create a vault in the default
# place on first use (asks for a master password), then show the commands.
set -euo pipefail
tessera=$1
if ! "$tessera" info >/dev/null 2>&1; then
  echo "Welcome to Tessera. Let's create your vault."
  echo
  "$tessera" init
  echo
fi
"$tessera" info
echo
"$tessera" --help
