#!/usr/bin/env python3
"""Generates the Windows Group Policy template (ADMX, ADML in en-US, de-DE,
fr-FR) and the macOS configuration profile (.mobileconfig) from
resources/policy.schema.json and the translations in
translations/admin-templates.LANG.json (then translations/LANG.json, the UI's).

Usage: generate.py [--output DIR]   (default: packaging/admin-templates)

docs/admin-templates.md describes the files; docs/policy.md ("Windows Group
Policy and macOS profiles") the registry keys and the profile's domain that
the agent's managed-settings reader follows. Python 3 standard library only;
the output depends on the inputs alone, so the test can compare it with the
committed files.
"""
import argparse
import json
import re
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "resources" / "policy.schema.json"
TRANSLATIONS = ROOT / "translations"
LANGUAGES = {"en-US": None, "de-DE": "de", "fr-FR": "fr"}
REGISTRY_KEY = "Software\\Policies\\Hotdesk"
DOMAIN = "org.hotdesk.agent"
ADMX_NAMESPACE = "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"
JSON_TEXT_MAX = 16384
ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# Fixed texts of the templates (English source; translated like the descriptions).
ADML_DESCRIPTION = "Group Policy settings of the Hotdesk re-authentication agent, generated from policy.schema.json."
SUPPORTED_ON = "At least Windows 10"
HINT_BOOLEAN = "Enabled: true. Disabled: false. Not Configured: the value from policy.json applies, or the default."
HINT_VALUE = "Enabled: the value below applies. Disabled or Not Configured: the value from policy.json applies, or the default."
HINT_LIST = "Under Show…, enter one entry per row; the order is kept."
HINT_ALLOWED = "Allowed values: {values}."
HINT_JSON = "Enter the value as JSON text, written as in policy.json."
WHERE_VALUE = "Policy member {member}: registry value {value} ({type}) in HKLM\\{key}."
WHERE_LIST = "Policy member {member}: registry key HKLM\\{key}, one value (REG_SZ) per entry, named 1, 2, 3 and so on."
PROFILE_NAME = "Hotdesk policy"
PROFILE_DESCRIPTION = (
    "Managed preferences of the Hotdesk agent (domain {domain}). Every member of the policy is listed, with an empty "
    "or out-of-range placeholder where the schema gives no default: delete the keys you do not set and fill in the others."
)


class GenerateError(Exception):
    pass


def load_json(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise GenerateError(f"{path}: {error}") from error


class Schema:
    """The policy schema's members: objects (categories) and leaves, in schema order."""

    def __init__(self, schema):
        self.root = schema
        self.definitions = schema.get("definitions", {})

    def resolve(self, node):
        """The node with its $ref followed; keywords beside a $ref (description, default) win over the definition's."""
        merged = {}
        for _ in range(8):
            merged = {**node, **merged}
            ref = node.get("$ref")
            if ref is None:
                merged.pop("$ref", None)
                return merged
            if not ref.startswith("#/definitions/") or ref[14:] not in self.definitions:
                raise GenerateError(f"unsupported $ref {ref!r}")
            node = self.definitions[ref[14:]]
        raise GenerateError("$ref chain too long")

    def members(self, node, path=()):
        """Yields (path, resolved node) for every member below node, depth first."""
        for name, declared in node.get("properties", {}).items():
            resolved = self.resolve(declared)
            yield path + (name,), resolved
            if resolved.get("type") == "object" and "properties" in resolved:
                yield from self.members(resolved, path + (name,))

    def description(self, path, resolved):
        text = resolved.get("description")
        if not text:
            raise GenerateError(f"{'.'.join(path)}: the schema gives no description")
        return text


def kind_of(schema, path, node):
    """What a leaf becomes: boolean, decimal, enum (strings or integers), text, list or json."""
    kind = node.get("type")
    if kind == "boolean":
        return "boolean"
    if kind == "integer":
        if "enum" in node:
            return "enum"
        if node.get("minimum", 0) < 0:
            raise GenerateError(f"{'.'.join(path)}: a negative minimum cannot be a Group Policy decimal")
        return "decimal"
    if kind == "string":
        return "enum" if "enum" in node else "text"
    if kind == "array":
        items = schema.resolve(node.get("items", {}))
        if items.get("type") == "string":
            return "list"
        if items.get("type") == "object":
            return "json"
    if kind == "object":
        return "json"
    raise GenerateError(f"{'.'.join(path)}: type {kind!r} has no Group Policy element")


class Translator:
    """English source text -> translation: translations/admin-templates.LANG.json, then the UI's LANG.json."""

    def __init__(self, lang):
        self.lang = lang
        self.own_file = TRANSLATIONS / f"admin-templates.{lang}.json" if lang else None
        self.own = load_json(self.own_file) if lang else {}
        self.ui = load_json(TRANSLATIONS / f"{lang}.json") if lang else {}
        self.used = set()
        self.missing = []

    def __call__(self, text, **fields):
        translated = text
        if self.lang:
            self.used.add(text)
            translated = self.own.get(text, self.ui.get(text))
            if not isinstance(translated, str) or not translated:
                self.missing.append(text)
                translated = text
            elif placeholders(translated) != placeholders(text):
                raise GenerateError(f"{self.own_file}: the translation of {text!r} must keep the placeholders "
                                    f"{sorted(placeholders(text))}")
        return translated.format(**fields) if fields else translated

    def check(self):
        problems = [f"{self.own_file}: no translation of {text!r}" for text in sorted(set(self.missing))]
        unused = sorted(set(self.own) - self.used)
        problems += [f"{self.own_file}: {text!r} is used nowhere any more; remove it" for text in unused]
        if problems:
            raise GenerateError("\n".join(problems))


def placeholders(text):
    return set(re.findall(r"\{([a-z]+)\}", text))


def identifier(*parts):
    name = "_".join(re.sub(r"[^A-Za-z0-9_]", "_", part) for part in parts)
    if not ID.match(name):
        raise GenerateError(f"{name!r} is not a valid Group Policy name")
    return name


def build_model(schema):
    """Categories and policies, each a dict; names are checked to be unique."""
    categories = [{"name": "Hotdesk", "parent": None, "explain": schema.root.get("description", "")}]
    policies = []
    for path, node in schema.members(schema.root):
        description = schema.description(path, node)
        parent = identifier("cat", *path[:-1]) if len(path) > 1 else "Hotdesk"
        if node.get("type") == "object" and "properties" in node:
            categories.append({"name": identifier("cat", *path), "label": path[-1], "parent": parent,
                               "explain": description})
            continue
        policies.append({
            "name": identifier(*path),
            "path": path,
            "parent": parent,
            "key": "\\".join((REGISTRY_KEY,) + path[:-1]),
            "kind": kind_of(schema, path, node),
            "node": node,
            "items": schema.resolve(node.get("items", {})),
            "explain": description,
        })
    names = [c["name"] for c in categories] + [p["name"] for p in policies]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise GenerateError(f"two members map to the same Group Policy name: {', '.join(duplicates)}")
    return categories, policies


def enum_items(policy):
    """(string id, value) for each choice of an enum element."""
    return [(identifier(policy["name"], "is", str(value)), value) for value in policy["node"]["enum"]]


def sub(parent, tag, **attributes):
    return ET.SubElement(parent, tag, {k.rstrip("_"): str(v) for k, v in attributes.items()})


def admx_element(elements, policy):
    node, name, member = policy["node"], policy["name"], policy["path"][-1]
    kind = policy["kind"]
    if kind == "decimal":
        sub(elements, "decimal", id=name, valueName=member, required="true",
            minValue=node.get("minimum", 0), maxValue=node.get("maximum", 4294967295))
    elif kind == "enum":
        enum = sub(elements, "enum", id=name, valueName=member, required="true")
        for string_id, value in enum_items(policy):
            value_element = sub(sub(enum, "item", displayName=f"$(string.{string_id})"), "value")
            if isinstance(value, str):
                sub(value_element, "string").text = value
            elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                sub(value_element, "decimal", value=value)
            else:
                raise GenerateError(f"{'.'.join(policy['path'])}: enum value {value!r} is neither a string "
                                    "nor an unsigned integer")
    elif kind == "list":
        sub(elements, "list", id=name, key=policy["key"] + "\\" + member, valuePrefix="")
    else:  # text, json
        limit = JSON_TEXT_MAX if kind == "json" else node.get("maxLength")
        text = sub(elements, "text", id=name, valueName=member, required="true")
        if limit:
            text.set("maxLength", str(limit))


def admx(categories, policies):
    root = ET.Element("policyDefinitions", {
        "xmlns:xsd": "http://www.w3.org/2001/XMLSchema",
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "revision": "1.0", "schemaVersion": "1.0", "xmlns": ADMX_NAMESPACE})
    sub(sub(root, "policyNamespaces"), "target", prefix="hotdesk", namespace="Hotdesk.Policies.Hotdesk")
    sub(root, "resources", minRequiredRevision="1.0")
    sub(sub(sub(root, "supportedOn"), "definitions"), "definition", name="SUPPORTED_Windows10",
        displayName="$(string.SUPPORTED_Windows10)")
    cats = sub(root, "categories")
    for category in categories:
        element = sub(cats, "category", name=category["name"], displayName=f"$(string.{category['name']})",
                      explainText=f"$(string.{category['name']}_Explain)")
        if category["parent"]:
            sub(element, "parentCategory", ref=category["parent"])
    pols = sub(root, "policies")
    for policy in policies:
        attributes = {"name": policy["name"], "class_": "Machine", "displayName": f"$(string.{policy['name']})",
                      "explainText": f"$(string.{policy['name']}_Explain)", "key": policy["key"]}
        if policy["kind"] == "boolean":
            attributes["valueName"] = policy["path"][-1]
        else:
            attributes["presentation"] = f"$(presentation.{policy['name']})"
        element = sub(pols, "policy", **attributes)
        sub(element, "parentCategory", ref=policy["parent"])
        sub(element, "supportedOn", ref="SUPPORTED_Windows10")
        if policy["kind"] == "boolean":
            sub(sub(element, "enabledValue"), "decimal", value=1)
            sub(sub(element, "disabledValue"), "decimal", value=0)
        else:
            admx_element(sub(element, "elements"), policy)
    return root


def explain(policy, tr):
    """The explain text: the schema's description, how the states act, and where the value goes."""
    member = ".".join(policy["path"])
    kind = policy["kind"]
    hints = [tr(HINT_BOOLEAN if kind == "boolean" else HINT_VALUE)]
    if kind == "list":
        hints.append(tr(HINT_LIST))
        if "enum" in policy["items"]:
            hints.append(tr(HINT_ALLOWED, values=", ".join(str(v) for v in policy["items"]["enum"])))
    if kind == "json":
        hints.append(tr(HINT_JSON))
    if kind == "list":
        where = tr(WHERE_LIST, member=member, key=policy["key"] + "\\" + policy["path"][-1])
    else:
        registry_type = "REG_DWORD" if policy["node"].get("type") in ("boolean", "integer") else "REG_SZ"
        where = tr(WHERE_VALUE, member=member, value=policy["path"][-1], type=registry_type, key=policy["key"])
    return "\n\n".join([tr(policy["explain"]), " ".join(hints), where])


def presentation(table, policy):
    node, name, label = policy["node"], policy["name"], policy["path"][-1]
    element = sub(table, "presentation", id=name)
    kind = policy["kind"]
    if kind == "decimal":
        sub(element, "decimalTextBox", refId=name, defaultValue=node.get("default", node.get("minimum", 0))).text = label
    elif kind == "enum":
        choices = node["enum"]
        default = choices.index(node["default"]) if node.get("default") in choices else 0
        sub(element, "dropdownList", refId=name, noSort="true", defaultItem=default).text = label
    elif kind == "list":
        sub(element, "listBox", refId=name).text = label
    else:
        box = sub(element, "textBox", refId=name)
        sub(box, "label").text = label
        if isinstance(node.get("default"), str):
            sub(box, "defaultValue").text = node["default"]


def adml(categories, policies, tr, title):
    root = ET.Element("policyDefinitionResources", {
        "xmlns:xsd": "http://www.w3.org/2001/XMLSchema",
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "revision": "1.0", "schemaVersion": "1.0", "xmlns": ADMX_NAMESPACE})
    sub(root, "displayName").text = tr(title)
    sub(root, "description").text = tr(ADML_DESCRIPTION)
    resources = sub(root, "resources")
    strings = sub(resources, "stringTable")

    def string(string_id, text):
        sub(strings, "string", id=string_id).text = text

    string("SUPPORTED_Windows10", tr(SUPPORTED_ON))
    for category in categories:
        string(category["name"], category.get("label", "Hotdesk"))
        string(category["name"] + "_Explain", tr(category["explain"]) if category["explain"] else "")
    for policy in policies:
        string(policy["name"], policy["path"][-1])
        string(policy["name"] + "_Explain", explain(policy, tr))
        if policy["kind"] == "enum":
            for string_id, value in enum_items(policy):
                string(string_id, str(value))
    table = sub(resources, "presentationTable")
    for policy in policies:
        if policy["kind"] != "boolean":
            presentation(table, policy)
    return root


def xml_bytes(root):
    ET.indent(root, space="  ")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"


def placeholder(schema, node, path):
    """A member's value in the profile: the schema's default, else a value of its type that the check refuses."""
    node = schema.resolve(node)
    kind = node.get("type")
    if "default" in node:
        return node["default"]
    if len(node.get("enum", [])) == 1:
        return node["enum"][0]
    if kind == "boolean":
        return False
    if kind == "integer":
        if "minimum" in node:
            return node["minimum"] - 1
        if "maximum" in node:
            return node["maximum"] + 1
        raise GenerateError(f"{'.'.join(path)}: an integer without minimum or maximum has no placeholder")
    if kind == "string":
        return ""
    if kind == "array":
        return [placeholder(schema, node.get("items", {}), path + ("[]",))]
    if kind == "object":
        members = node.get("properties", {})
        return {name: placeholder(schema, member, path + (name,)) for name, member in members.items()}
    raise GenerateError(f"{'.'.join(path)}: type {kind!r} has no property-list type")


def xml_text(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plist_lines(value, depth, path, comments):
    """XML property-list lines for value at path (its dictionary keys); comments[path] is written before a key."""
    pad = "\t" * depth
    if isinstance(value, bool):
        return [pad + ("<true/>" if value else "<false/>")]
    if isinstance(value, int):
        return [f"{pad}<integer>{value}</integer>"]
    if isinstance(value, str):
        return [f"{pad}<string>{xml_text(value)}</string>"]
    if isinstance(value, list):
        if not value:
            return [pad + "<array/>"]
        entries = [line for entry in value for line in plist_lines(entry, depth + 1, path, comments)]
        return [pad + "<array>"] + entries + [pad + "</array>"]
    if isinstance(value, dict):
        lines = [pad + "<dict>"]
        for key, entry in value.items():
            if path + (key,) in comments:
                lines.append(f"{pad}\t<!-- {comments[path + (key,)]} -->")
            lines.append(f"{pad}\t<key>{xml_text(key)}</key>")
            lines += plist_lines(entry, depth + 1, path + (key,), comments)
        return lines + [pad + "</dict>"]
    raise GenerateError(f"{value!r} has no property-list type")


def member_comments(schema, node, path, comments):
    """comments[path + (member,)] = 'member: description', for every member below node (array items included)."""
    for name, declared in node.get("properties", {}).items():
        resolved = schema.resolve(declared)
        text = resolved.get("description", "")
        comments[path + (name,)] = re.sub(r"-(?=-)", "- ", f"{name}: {text}" if text else name).rstrip("-")
        items = schema.resolve(resolved.get("items", {}))
        member_comments(schema, items if resolved.get("type") == "array" else resolved, path + (name,), comments)
    return comments


def profile_uuid(name):
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.{DOMAIN}")).upper()


def mobileconfig(schema):
    settings = placeholder(schema, schema.root, ())
    description = PROFILE_DESCRIPTION.format(domain=DOMAIN)
    preferences = {
        "PayloadContent": {DOMAIN: {"Forced": [{"mcx_preference_settings": settings}]}},
        "PayloadDescription": description,
        "PayloadDisplayName": PROFILE_NAME,
        "PayloadEnabled": True,
        "PayloadIdentifier": f"{DOMAIN}.policy.preferences",
        "PayloadType": "com.apple.ManagedClient.preferences",
        "PayloadUUID": profile_uuid("preferences"),
        "PayloadVersion": 1,
    }
    profile = {
        "PayloadContent": [preferences],
        "PayloadDescription": description,
        "PayloadDisplayName": PROFILE_NAME,
        "PayloadIdentifier": f"{DOMAIN}.policy",
        "PayloadOrganization": "Hotdesk",
        "PayloadScope": "System",
        "PayloadType": "Configuration",
        "PayloadUUID": profile_uuid("profile"),
        "PayloadVersion": 1,
    }
    settings_path = ("PayloadContent", "PayloadContent", DOMAIN, "Forced", "mcx_preference_settings")
    lines = plist_lines(profile, 0, (), member_comments(schema, schema.root, settings_path, {}))
    head = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
            '<plist version="1.0">']
    return ("\n".join(head + lines + ["</plist>"]) + "\n").encode("utf-8")


def generate(output):
    schema = Schema(load_json(SCHEMA))
    categories, policies = build_model(schema)
    files = {"windows/hotdesk.admx": xml_bytes(admx(categories, policies))}
    translators = []
    for folder, lang in LANGUAGES.items():
        tr = Translator(lang)
        files[f"windows/{folder}/hotdesk.adml"] = xml_bytes(adml(categories, policies, tr, schema.root.get("title", "Hotdesk")))
        translators.append(tr)
    for tr in translators:
        tr.check()
    files[f"macos/{DOMAIN}.mobileconfig"] = mobileconfig(schema)
    for name, data in files.items():
        path = output / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return sorted(files)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent,
                        help="folder to write windows/ and macos/ into (default: this script's folder)")
    args = parser.parse_args()
    try:
        written = generate(args.output)
    except GenerateError as error:
        print(f"generate.py: {error}", file=sys.stderr)
        return 1
    for name in written:
        print(args.output / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
