#!/usr/bin/env bash
# Fails when the sources hold a user-visible string that a translation lacks:
# runs lupdate over the sources into copies of the .ts files and looks for
# unfinished entries. Usage: check-complete.sh LUPDATE SOURCE_DIR
set -euo pipefail
lupdate="$1" src="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
for ts in "$src"/translations/hotdesk_*.ts; do
  cp "$ts" "$tmp/"
  copy="$tmp/$(basename "$ts")"
  "$lupdate" -silent -no-obsolete -locations none "$src/ui" "$src/core/flow" "$src/core/agent" "$src/app/agent" -ts "$copy" >/dev/null
  unfinished="$(grep -c 'type="unfinished"' "$copy" || true)"
  if [ "$unfinished" != "0" ]; then
    echo "$(basename "$ts"): $unfinished string(s) without a translation; run 'cmake --build build --target update_translations' and translations/tools/fill.py:" >&2
    grep -B2 'type="unfinished"' "$copy" | grep '<source>' >&2 || true
    status=1
  fi
done
[ "$status" -ne 0 ] || echo "every string has a German and a French translation"
exit "$status"
