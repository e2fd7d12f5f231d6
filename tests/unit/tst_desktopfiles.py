#!/usr/bin/env python3
"""The tray agent's desktop integration (packaging/linux/desktop, docs/man-pages.md).

- the launcher APPID.desktop and the autostart entry pass desktop-file-validate
  without a word, start hotdesk and name the icon hotdesk;
- the generated AppStream metainfo passes appstreamcli validate --no-net
  --strict (no error, warning or info), names the launcher and the icon, and
  its release is the project's version;
- the agent sets the same application id (app/agent/main.cpp);
- every hicolor PNG was rendered at its size, and the SVG source is square.

Registered by packaging/linux/desktop/CMakeLists.txt as tst_desktopfiles (label unit).
"""
import argparse
import configparser
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

SIZES = [16, 22, 24, 32, 48, 64, 128, 256]
failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def run(command):
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def check_desktop_file(path, launcher):
    result = run(["desktop-file-validate", path])
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0 or output:
        fail(f"desktop-file-validate {os.path.basename(path)}: exit {result.returncode}: {output}")
    entry = configparser.RawConfigParser(strict=True, interpolation=None)
    entry.optionxform = str
    entry.read(path, encoding="utf-8")
    values = dict(entry["Desktop Entry"]) if entry.has_section("Desktop Entry") else {}
    expected = {"Type": "Application", "Exec": "hotdesk", "TryExec": "hotdesk", "Icon": "hotdesk", "Terminal": "false"}
    # The launcher is in the menus; the autostart entry is not offered there (nor in GNOME's Startup Applications).
    expected.update({"NoDisplay": "true"} if not launcher else {})
    for key, value in expected.items():
        if values.get(key) != value:
            fail(f"{os.path.basename(path)}: {key}={values.get(key)}, expected {value}")
    if launcher and "NoDisplay" in values:
        fail(f"{os.path.basename(path)}: the launcher must show in the menus")


def check_metainfo(path, app_id, version):
    result = run(["appstreamcli", "validate", "--no-net", "--strict", path])
    if result.returncode != 0:
        fail(f"appstreamcli validate --no-net --strict: exit {result.returncode}: {(result.stdout + result.stderr).strip()}")
    root = ElementTree.parse(path).getroot()
    checks = {
        "id": root.findtext("id"),
        "launchable": root.findtext("launchable[@type='desktop-id']"),
        "icon": root.findtext("icon[@type='stock']"),
        "release": (root.find("releases/release") if root.find("releases/release") is not None else {}).get("version"),
    }
    expected = {"id": app_id, "launchable": app_id + ".desktop", "icon": "hotdesk", "release": version}
    for key, value in expected.items():
        if checks[key] != value:
            fail(f"metainfo: {key} is {checks[key]}, expected {value}")


def png_size(path):
    with open(path, "rb") as file:
        header = file.read(24)
    if header[:8] != b"\x89PNG\r\n\x1a\n" or header[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", header[16:24])


def check_icons(build, svg):
    for size in SIZES:
        path = os.path.join(build, "icons", f"{size}x{size}", "hotdesk.png")
        if not os.path.isfile(path):
            fail(f"no icon {path}")
        elif png_size(path) != (size, size):
            fail(f"{path} is {png_size(path)}, expected {size}x{size}")
    root = ElementTree.parse(svg).getroot()
    view_box = root.get("viewBox", "").split()
    if not root.tag.endswith("svg") or len(view_box) != 4 or view_box[2] != view_box[3]:
        fail(f"{svg}: not a square SVG (viewBox {root.get('viewBox')})")


def main():
    parser = argparse.ArgumentParser()
    for option in ("--source", "--build", "--app-id", "--svg", "--main", "--version"):
        parser.add_argument(option, required=True)
    args = parser.parse_args()
    check_desktop_file(os.path.join(args.source, args.app_id + ".desktop"), launcher=True)
    check_desktop_file(os.path.join(args.source, "hotdesk-autostart.desktop"), launcher=False)
    check_metainfo(os.path.join(args.build, args.app_id + ".metainfo.xml"), args.app_id, args.version)
    with open(args.main, encoding="utf-8") as file:
        if not re.search(r'setDesktopFileName\(QStringLiteral\("' + re.escape(args.app_id) + r'"\)\)', file.read()):
            fail(f"{args.main} does not set the desktop file name {args.app_id}")
    check_icons(args.build, args.svg)
    print(f"{len(failures)} failures" if failures else "PASS: all checks")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
