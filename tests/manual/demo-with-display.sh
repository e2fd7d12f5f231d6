#!/usr/bin/env bash
# Runs the display branch of ./dev demo on a private X display with a system
# tray (trayer), a private D-Bus session and an unlocked gnome-keyring, and
# plays the person at the phone with 'hotdesk-stubs phone approve'. Not part of
# ctest: the demo waits one idle minute. Usage: tests/manual/demo-with-display.sh
# (from the repository root; installs trayer with apt-get when missing).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
if [ -z "${HOTDESK_IN_SESSION:-}" ]; then
  command -v trayer >/dev/null && command -v xwininfo >/dev/null || apt-get install -y -q trayer x11-utils >/dev/null
  exec env HOTDESK_IN_SESSION=1 dbus-run-session -- "$0" "$@"
fi
display=":$(( 40 + RANDOM % 50 ))"
Xvfb "$display" -screen 0 1280x1024x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb ${tray:-} ${phone:-} 2>/dev/null || true' EXIT
export DISPLAY="$display"
for _ in $(seq 1 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
trayer --edge top --align right --widthtype pixel --width 120 --height 24 >/dev/null 2>&1 &
tray=$!
keyring="$(mktemp -d)"
printf pw | XDG_DATA_HOME="$keyring" gnome-keyring-daemon --unlock --components=secrets >/dev/null
stubs="$ROOT/build/app/stubs/hotdesk-stubs"
started="$(date +%s)"
# The phone: approve alice's sign-in once the demo's servers run and the push arrives.
( for _ in $(seq 1 600); do
    data="$(ls -dt /tmp/hotdesk-demo.*/data 2>/dev/null | head -n 1)"
    if [ -n "$data" ] && [ "$(stat -c %Y "$data")" -ge "$started" ] \
       && "$stubs" phone approve alice --data "$data" >/dev/null 2>&1; then
      echo "demo-with-display: the phone approved alice's sign-in" >&2
      exit 0
    fi
    sleep 0.5
  done; exit 1 ) &
phone=$!
# The tray icon: an X window of hotdesk docked in trayer while the agent runs.
( for _ in $(seq 1 200); do
    if xwininfo -root -tree 2>/dev/null | grep -q '"hotdesk"'; then
      echo "demo-with-display: hotdesk has windows on $display:" >&2
      xwininfo -root -tree | grep '"hotdesk"' | sed 's/^/    /' >&2
      exit 0
    fi
    sleep 0.5
  done ) &
cd "$ROOT"
HOTDESK_DEMO_TIMEOUT="${HOTDESK_DEMO_TIMEOUT:-240}" ./dev demo
wait "$phone"
