#!/usr/bin/env python3
"""Fills the translations of translations/hotdesk_LANG.ts from translations/LANG.json (source text -> translation).

lupdate owns the .ts files' structure; this only writes the translations kept
in the JSON files, so a refreshed .ts gets its translations back. Plural
entries map to a list of forms. Prints what is still missing; exit 1 if any.
"""
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

here = Path(__file__).resolve().parent.parent
missing = 0
for lang in sys.argv[1:] or ["de", "fr"]:
    table = json.loads((here / f"{lang}.json").read_text(encoding="utf-8"))
    ts_path = here / f"hotdesk_{lang}.ts"
    tree = ET.parse(ts_path)
    for message in tree.getroot().iter("message"):
        source = message.findtext("source")
        translation = message.find("translation")
        if source not in table:
            print(f"{lang}: missing: {source!r}")
            missing += 1
            continue
        value = table[source]
        translation.attrib.pop("type", None)
        if message.get("numerus") == "yes":
            forms = translation.findall("numerusform")
            for form, text in zip(forms, value if isinstance(value, list) else [value] * len(forms)):
                form.text = text
        else:
            translation.text = value
    ET.indent(tree, space="    ")
    with open(ts_path, "wb") as out:
        out.write(b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n')
        tree.write(out, encoding="utf-8", xml_declaration=False)
        out.write(b"\n")
sys.exit(1 if missing else 0)
