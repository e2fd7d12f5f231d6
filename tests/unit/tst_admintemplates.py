#!/usr/bin/python3
"""The admin templates (packaging/admin-templates) against the policy schema.

Runs packaging/admin-templates/generate.py into a temporary folder and fails
when a committed file differs (drift); checks that every XML file is well
formed, that every leaf member of resources/policy.schema.json is a policy with
the right element, registry key and value name in the ADMX and a key of the
right property-list type in the .mobileconfig (read with plistlib), and that
every $(string.X) and $(presentation.X) resolves in the three ADML files.
Usage: tst_admintemplates.py SOURCE_DIR
"""
import difflib
import json
import plistlib
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

SOURCE = Path(sys.argv.pop(1) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
TEMPLATES = SOURCE / "packaging" / "admin-templates"
GENERATOR = TEMPLATES / "generate.py"
NS = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}
LANGUAGES = ("en-US", "de-DE", "fr-FR")
DOMAIN = "org.hotdesk.agent"
REGISTRY_KEY = "Software\\Policies\\Hotdesk"


def generated_files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.suffix != ".py"
                  and "__pycache__" not in p.parts)


def schema_leaves():
    """(path, resolved node) of every member that is not an object with members, read here independently of the generator."""
    schema = json.loads((SOURCE / "resources" / "policy.schema.json").read_text(encoding="utf-8"))

    def resolve(node):  # keywords beside a $ref win over the definition's
        while "$ref" in node:
            node = {**schema["definitions"][node["$ref"].split("/")[-1]],
                    **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    def walk(node, path):
        for name, member in node.get("properties", {}).items():
            member = resolve(member)
            if member.get("type") == "object" and "properties" in member:
                yield from walk(member, path + (name,))
            else:
                yield path + (name,), member, resolve(member.get("items", {}))

    return list(walk(schema, ()))


class AdminTemplates(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admx = ET.parse(TEMPLATES / "windows" / "hotdesk.admx").getroot()
        cls.adml = {lang: ET.parse(TEMPLATES / "windows" / lang / "hotdesk.adml").getroot() for lang in LANGUAGES}
        with open(TEMPLATES / "macos" / f"{DOMAIN}.mobileconfig", "rb") as f:
            cls.profile = plistlib.load(f)
        cls.leaves = schema_leaves()

    def test_committed_files_are_what_the_generator_writes(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = subprocess.run([sys.executable, str(GENERATOR), "--output", tmp], capture_output=True, text=True)
            self.assertEqual(run.returncode, 0, f"generate.py failed:\n{run.stderr}")
            fresh = generated_files(Path(tmp))
            self.assertEqual(generated_files(TEMPLATES), fresh, "the committed files are not the generated ones")
            drift = []
            for name in fresh:
                old = (TEMPLATES / name).read_text(encoding="utf-8").splitlines(keepends=True)
                new = (Path(tmp) / name).read_text(encoding="utf-8").splitlines(keepends=True)
                drift += difflib.unified_diff(old, new, f"committed/{name}", f"generated/{name}")
        if drift:
            self.fail("the committed admin templates differ from what the schema and the translations give "
                      "(regenerate with 'cmake --build build --target admin_templates' or "
                      "'python3 packaging/admin-templates/generate.py', and commit):\n" + "".join(drift))

    def test_xml_is_well_formed(self):
        for path in sorted(TEMPLATES.rglob("*.adm[xl]")) + sorted(TEMPLATES.rglob("*.mobileconfig")):
            try:
                ET.parse(path)
            except ET.ParseError as error:
                self.fail(f"{path}: {error}")

    def policy_for(self, path):
        key = "\\".join((REGISTRY_KEY,) + path[:-1])
        for policy in self.admx.iterfind("p:policies/p:policy", NS):
            if policy.get("key") != key:
                continue
            if policy.get("valueName") == path[-1]:
                return policy
            for element in policy.iterfind("p:elements/*", NS):
                if element.get("valueName") == path[-1] or element.get("key") == key + "\\" + path[-1]:
                    return policy
        self.fail(f"{'.'.join(path)}: no policy writes value {path[-1]} in {key}")

    def test_every_leaf_is_a_policy_with_the_right_element(self):
        self.assertGreater(len(self.leaves), 30)
        for path, node, items in self.leaves:
            with self.subTest(member=".".join(path)):
                policy = self.policy_for(path)
                self.assertEqual(policy.get("class"), "Machine")
                self.assertIsNotNone(policy.find("p:supportedOn", NS))
                elements = policy.findall("p:elements/*", NS)
                kind = node["type"]
                if kind == "boolean":
                    self.assertEqual(policy.find("p:enabledValue/p:decimal", NS).get("value"), "1")
                    self.assertEqual(policy.find("p:disabledValue/p:decimal", NS).get("value"), "0")
                    self.assertEqual(elements, [])
                    continue
                self.assertEqual(len(elements), 1)
                self.check_element(path, node, items, elements[0])

    def check_element(self, path, node, items, element):
        tag = element.tag.split("}")[1]
        if "enum" in node:
            self.assertEqual(tag, "enum")
            values = [v.get("value") if v.tag.endswith("decimal") else v.text
                      for v in element.iterfind("p:item/p:value/*", NS)]
            self.assertEqual(values, [str(v) for v in node["enum"]])
        elif node["type"] == "integer":
            self.assertEqual(tag, "decimal")
            self.assertEqual(element.get("minValue"), str(node["minimum"]))
            self.assertEqual(element.get("maxValue"), str(node["maximum"]))
        elif node["type"] == "string":
            self.assertEqual(tag, "text")
            if "maxLength" in node:
                self.assertEqual(element.get("maxLength"), str(node["maxLength"]))
        elif node["type"] == "array" and items.get("type") == "string":
            self.assertEqual(tag, "list")
            self.assertEqual(element.get("key"), "\\".join((REGISTRY_KEY,) + path))
            self.assertEqual(element.get("valuePrefix"), "")
        else:  # lists of objects: JSON text
            self.assertEqual(tag, "text")
            self.assertEqual(element.get("valueName"), path[-1])

    def test_categories_nest_like_the_schema(self):
        categories = {c.get("name"): c for c in self.admx.iterfind("p:categories/p:category", NS)}
        for policy in self.admx.iterfind("p:policies/p:policy", NS):
            parent = policy.find("p:parentCategory", NS).get("ref")
            self.assertIn(parent, categories)
            depth = 0
            while categories[parent].find("p:parentCategory", NS) is not None:
                parent = categories[parent].find("p:parentCategory", NS).get("ref")
                depth += 1
            self.assertEqual(parent, "Hotdesk")
            # One category per object: version at the top, triggers.idle one below, failure.offline.mode two below.
            self.assertEqual(depth, policy.get("key").count("\\") - REGISTRY_KEY.count("\\"), policy.get("name"))
        supported = {d.get("name") for d in self.admx.iterfind("p:supportedOn/p:definitions/p:definition", NS)}
        for element in self.admx.iter(f"{{{NS['p']}}}supportedOn"):
            if element.get("ref"):
                self.assertIn(element.get("ref"), supported)

    def test_every_reference_resolves_in_every_adml(self):
        text = ET.tostring(self.admx, encoding="unicode")
        strings = set(re.findall(r"\$\(string\.([A-Za-z0-9_]+)\)", text))
        presentations = set(re.findall(r"\$\(presentation\.([A-Za-z0-9_]+)\)", text))
        self.assertGreater(len(strings), 60)
        self.assertFalse(re.findall(r"\$\((?!string\.|presentation\.)", text), "an unknown kind of reference")
        root = self.admx
        self.assertEqual((root.get("revision"), root.get("schemaVersion")), ("1.0", "1.0"))
        self.assertIsNotNone(root.find("p:policyNamespaces/p:target", NS).get("namespace"))
        self.assertIsNotNone(root.find("p:resources", NS).get("minRequiredRevision"))
        for lang, adml in self.adml.items():
            with self.subTest(language=lang):
                defined = {s.get("id"): s.text for s in adml.iterfind("p:resources/p:stringTable/p:string", NS)}
                self.assertEqual(sorted(strings - set(defined)), [])
                self.assertTrue(all(defined[s] for s in strings), "an empty string")
                shown = {p.get("id"): p for p in adml.iterfind("p:resources/p:presentationTable/p:presentation", NS)}
                self.assertEqual(sorted(presentations - set(shown)), [])
                for policy in root.iterfind("p:policies/p:policy", NS):
                    ref = re.match(r"\$\(presentation\.(\w+)\)", policy.get("presentation", ""))
                    ids = sorted(e.get("id") for e in policy.iterfind("p:elements/*", NS))
                    refs = sorted(c.get("refId") for c in shown[ref.group(1)]) if ref else []
                    self.assertEqual(refs, ids, policy.get("name"))

    def test_explain_texts_carry_the_schema_descriptions(self):
        schema = json.loads((SOURCE / "resources" / "policy.schema.json").read_text(encoding="utf-8"))
        english = {s.get("id"): s.text for s in self.adml["en-US"].iterfind("p:resources/p:stringTable/p:string", NS)}
        german = {s.get("id"): s.text for s in self.adml["de-DE"].iterfind("p:resources/p:stringTable/p:string", NS)}
        triggers = schema["properties"]["triggers"]["properties"]
        self.assertTrue(english["triggers_idle_Explain"].startswith(triggers["idle"]["description"]))
        self.assertIn("HKLM\\Software\\Policies\\Hotdesk\\triggers", english["triggers_idle_Explain"])
        self.assertNotEqual(german["triggers_idle_Explain"].split("\n")[0], triggers["idle"]["description"])
        for policy in self.admx.iterfind("p:policies/p:policy", NS):
            explain = policy.get("explainText")[len("$(string."):-1]
            self.assertIn(policy.get("key"), english[explain])

    def settings(self):
        self.assertEqual(self.profile["PayloadType"], "Configuration")
        payloads = self.profile["PayloadContent"]
        self.assertEqual(len(payloads), 1)
        self.assertEqual(payloads[0]["PayloadType"], "com.apple.ManagedClient.preferences")
        forced = payloads[0]["PayloadContent"][DOMAIN]["Forced"]
        return forced[0]["mcx_preference_settings"]

    def test_every_leaf_is_in_the_profile_with_its_type(self):
        types = {"boolean": bool, "integer": int, "string": str, "array": list, "object": dict}
        settings = self.settings()
        for path, node, items in self.leaves:
            with self.subTest(member=".".join(path)):
                value = settings
                for name in path:
                    self.assertIsInstance(value, dict)
                    self.assertIn(name, value)
                    value = value[name]
                self.assertIs(type(value), types[node["type"]])
                if node["type"] == "array":
                    self.assertTrue(all(type(v) is types[items["type"]] for v in value), value)
                if "default" in node:
                    self.assertEqual(value, node["default"])

    def test_profile_identifiers(self):
        payloads = [self.profile] + self.profile["PayloadContent"]
        for payload in payloads:
            for key in ("PayloadIdentifier", "PayloadType", "PayloadUUID", "PayloadVersion", "PayloadDisplayName",
                        "PayloadDescription"):
                self.assertIn(key, payload)
            uuid.UUID(payload["PayloadUUID"])
        self.assertEqual(len({p["PayloadUUID"] for p in payloads}), len(payloads))
        self.assertEqual(len({p["PayloadIdentifier"] for p in payloads}), len(payloads))

    def test_a_missing_translation_is_refused_by_name(self):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp)
            (copy / "packaging" / "admin-templates").mkdir(parents=True)
            shutil.copy(GENERATOR, copy / "packaging" / "admin-templates")
            shutil.copytree(SOURCE / "resources", copy / "resources")
            shutil.copytree(SOURCE / "translations", copy / "translations")
            table_file = copy / "translations" / "admin-templates.fr.json"
            table = json.loads(table_file.read_text(encoding="utf-8"))
            source = "The format of this file. Always 1."
            del table[source]
            table_file.write_text(json.dumps(table, indent=1, ensure_ascii=False), encoding="utf-8")
            run = subprocess.run([sys.executable, str(copy / "packaging" / "admin-templates" / "generate.py"),
                                  "--output", str(copy / "out")], capture_output=True, text=True)
            self.assertEqual(run.returncode, 1)
            self.assertIn(f"admin-templates.fr.json: no translation of {source!r}", run.stderr)
            self.assertFalse((copy / "out").exists(), "nothing is written when a translation is missing")


if __name__ == "__main__":
    unittest.main(verbosity=2)
