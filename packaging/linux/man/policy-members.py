#!/usr/bin/env python3
"""Writes hotdesk-policy(5) in scdoc from the hand-written page and the policy schema.

Usage: policy-members.py SCHEMA TEMPLATE VERSION OUTPUT

The template's line @POLICY_MEMBERS@ becomes the reference of every member of
resources/policy.schema.json (its descriptions, types, bounds, enumerations and
defaults), so that the schema stays the one source of the members; @PROJECT_VERSION@
becomes the project's version. `--paths SCHEMA` prints every member's path
instead (the test compares them with the page and docs/policy.md).
"""
import json
import sys


def escape(text):
    """Text for scdoc: its markup characters taken literally."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def resolve(node, definitions):
    """The node with its $ref filled in (the node's own keywords win), and the definition's name."""
    if "$ref" not in node:
        return node, None
    name = node["$ref"].rsplit("/", 1)[-1]
    merged = dict(definitions[name])
    merged.update({key: value for key, value in node.items() if key != "$ref"})
    merged["description"] = node.get("description", "")
    return merged, definitions[name]


def length_bounds(node, low_key, high_key, unit):
    low, high = node.get(low_key), node.get(high_key)
    plural = unit + ("" if unit.endswith("s") else "s")
    if low is not None and high is not None:
        return f"{low} to {high} {plural}"
    if high is not None:
        return f"at most {high} {unit if high == 1 else plural}"
    if low is not None:
        return f"at least {low} {unit if low == 1 else plural}"
    return ""


def joined(values):
    words = [json.dumps(value) for value in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


# Definitions that the hand-written page explains in a section of their own.
EXPLAINED = {"duration": "a duration (DURATIONS above)"}


def type_phrase(node, definitions):
    """What a value of this schema node looks like, in words (no final full stop)."""
    if node.get("$ref", "").rsplit("/", 1)[-1] in EXPLAINED:
        return EXPLAINED[node["$ref"].rsplit("/", 1)[-1]]
    node, definition = resolve(node, definitions)
    kind = node.get("type")
    if "enum" in node:
        return ("always " if len(node["enum"]) == 1 else "one of ") + joined(node["enum"])
    if kind == "string":
        phrase = "a string"
        if definition is not None and definition.get("description"):
            text = definition["description"].rstrip(".")
            phrase += ": " + text[0].lower() + text[1:]
        bounds = length_bounds(node, "minLength", "maxLength", "character")
        return phrase + (f" ({bounds})" if bounds else "")
    if kind == "integer":
        low, high = node.get("minimum"), node.get("maximum")
        if low is not None and high is not None:
            return f"an integer from {low} to {high}"
        return "an integer"
    if kind == "boolean":
        return "true or false"
    if kind == "array":
        bounds = length_bounds(node, "minItems", "maxItems", "entry" if node.get("maxItems") == 1 else "entries")
        phrase = "a list" + (f" of {bounds}" if bounds else "")
        if node.get("uniqueItems"):
            phrase += ", no entry twice"
        phrase += ","
        items, _ = resolve(node.get("items", {}), definitions)
        if items.get("type") == "object":
            return phrase + " each an object with the members below"
        return phrase + " each " + type_phrase(node.get("items", {}), definitions)
    if kind == "object":
        return "an object with the members below"
    return kind or "any value"


def type_sentence(node, definitions):
    phrase = type_phrase(node, definitions)
    return escape(phrase[0].upper() + phrase[1:]) + "."


def member_paths(node, definitions, prefix=""):
    """(path, node, required) for every member below node, depth first; array entries are written []."""
    node, _ = resolve(node, definitions)
    if node.get("type") == "array":
        items, _ = resolve(node.get("items", {}), definitions)
        if items.get("type") == "object":
            yield from member_paths(items, definitions, prefix + "[]")
        return
    required = set(node.get("required", []))
    for name, child in node.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        yield path, child, name in required
        yield from member_paths(child, definitions, path)


def member_entry(path, node, required, definitions):
    """One member as an scdoc definition: the path in bold, then its type, description and default."""
    resolved, _ = resolve(node, definitions)
    lines = ["*" + escape(path) + "*" + (" (required)" if required else "")]
    lines.append("\t" + type_sentence(node, definitions))
    description = resolved.get("description", "")
    if description:
        lines += ["", "\t" + escape(description)]
    if "default" in resolved:
        lines += ["", "\tDefault: " + escape(json.dumps(resolved["default"])) + "."]
    return lines


def reference(schema):
    """The MEMBERS part of the page: a subsection per top-level member, its members below it."""
    definitions = schema.get("definitions", {})
    required = set(schema.get("required", []))
    lines = []
    for name, node in schema["properties"].items():
        resolved, _ = resolve(node, definitions)
        lines += ["## " + escape(name) + (" (required)" if name in required else ""), ""]
        lines += [type_sentence(node, definitions)]
        if resolved.get("description"):
            lines += ["", escape(resolved["description"])]
        for path, child, child_required in member_paths(node, definitions, name):
            lines += [""] + member_entry(path, child, child_required, definitions)
        lines.append("")
    return lines


def main(argv):
    if len(argv) == 3 and argv[1] == "--paths":
        with open(argv[2], encoding="utf-8") as file:
            schema = json.load(file)
        for path, _, _ in member_paths(schema, schema.get("definitions", {})):
            print(path)
        return 0
    if len(argv) != 5:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    schema_file, template_file, version, output_file = argv[1:]
    with open(schema_file, encoding="utf-8") as file:
        schema = json.load(file)
    with open(template_file, encoding="utf-8") as file:
        template = file.read().splitlines()
    if template.count("@POLICY_MEMBERS@") != 1:
        print(f"{template_file}: needs exactly one line @POLICY_MEMBERS@", file=sys.stderr)
        return 1
    page = []
    for line in template:
        page += reference(schema) if line == "@POLICY_MEMBERS@" else [line.replace("@PROJECT_VERSION@", version)]
    with open(output_file, "w", encoding="utf-8") as file:
        file.write("\n".join(page).rstrip("\n") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
