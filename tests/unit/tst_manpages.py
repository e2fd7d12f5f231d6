#!/usr/bin/env python3
"""The generated manual pages (packaging/linux/man, docs/man-pages.md).

- every page renders without a groff warning (groff -man -ww -z);
- every member of resources/policy.schema.json, each nested path, is in
  hotdesk-policy(5) and in docs/policy.md's member tables;
- every option a page names is an option of hotdesk, hotdeskd or hotdesk-stubs
  (their --help), each program's options are all in its page, and
  pam_hotdesk(8) describes exactly the module's options (pam/pamprotocol.cpp).

Registered by packaging/linux/man/CMakeLists.txt as tst_manpages (label unit).
"""
import argparse
import json
import os
import re
import subprocess
import sys

PAGES = ["hotdesk.1", "hotdesk-stubs.1", "hotdeskd.8", "pam_hotdesk.8", "hotdesk-policy.5"]
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*[a-z]")
failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def groff(page, *arguments):
    env = dict(os.environ, LC_ALL="C.UTF-8")
    return subprocess.run(["groff", "-man", *arguments, page], capture_output=True, text=True, env=env)


def rendered(page):
    """The page as plain text, on lines long enough that no option or path is broken."""
    result = groff(page, "-Tutf8", "-rLL=1000n", "-P-c")
    return re.sub(r".\x08", "", result.stdout)


def check_warnings(pages_dir):
    for page in PAGES:
        path = os.path.join(pages_dir, page)
        if not os.path.isfile(path):
            fail(f"{page} was not generated in {pages_dir}")
            continue
        result = groff(path, "-ww", "-z")
        if result.returncode != 0 or result.stderr.strip():
            fail(f"groff -man -ww -z {page}: exit {result.returncode}: {result.stderr.strip()}")


def schema_paths(node, definitions, prefix=""):
    """Every member path below node; the entries of a list are written []."""
    if "$ref" in node:
        node = dict(definitions[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"})
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        yield from schema_paths(node["items"], definitions, prefix + "[]")
    for name, child in node.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        yield path
        yield from schema_paths(child, definitions, path)


def doc_section(markdown, top):
    match = re.search(r"^### `" + re.escape(top) + r"`.*?$(.*?)(?=^#)", markdown, re.M | re.S)
    return match.group(1) if match else None


def check_policy_members(pages_dir, source):
    with open(os.path.join(source, "resources/policy.schema.json"), encoding="utf-8") as file:
        schema = json.load(file)
    with open(os.path.join(source, "docs/policy.md"), encoding="utf-8") as file:
        markdown = file.read()
    page_words = set(rendered(os.path.join(pages_dir, "hotdesk-policy.5")).split())
    paths = list(schema_paths(schema, schema.get("definitions", {})))
    if len(paths) < 50:
        fail(f"only {len(paths)} member paths found in the schema")
    for path in paths:
        if path not in page_words:
            fail(f"hotdesk-policy(5) does not describe the policy member {path}")
        parts = [part for part in re.split(r"\.|\[\]", path) if part]
        section = doc_section(markdown, parts[0])
        if section is None:
            fail(f"docs/policy.md has no section ### `{parts[0]}` for {path}")
            continue
        if len(parts) == 1:
            continue
        rows = [line for line in section.splitlines() if line.startswith("| `" + parts[1] + "`")]
        if not rows:
            fail(f"docs/policy.md, section {parts[0]}: no table row for {parts[0]}.{parts[1]} ({path})")
        elif not all(re.search(r"[`\"]" + re.escape(part) + r"[`\"]", rows[0]) for part in parts[2:]):
            fail(f"docs/policy.md, row {parts[0]}.{parts[1]}: does not name {path}")


def help_options(command):
    result = subprocess.run(command + ["--help"], capture_output=True, text=True, timeout=30)
    return set(OPTION.findall(result.stdout + result.stderr)) - {"--help-all"}


def hotdesk_commands(binary):
    """The commands that hotdesk --help lists, e.g. 'enroll', 'token verify'."""
    text = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30).stdout
    return sorted({match.group(0).strip() for match in re.finditer(r"(?m)^  [a-z][a-z-]*(?: [a-z][a-z-]*(?= |$))?", text)})


def page_options(pages_dir, page):
    return set(OPTION.findall(rendered(os.path.join(pages_dir, page))))


def check_options(args):
    programs = {
        "hotdesk.1": [[args.hotdesk]] + [[args.hotdesk, *command.split()] for command in hotdesk_commands(args.hotdesk)],
        "hotdeskd.8": [[args.hotdeskd]],
        "hotdesk-stubs.1": [[args.stubs], [args.stubs, "phone"], [args.stubs, "admin"]],
    }
    if len(programs["hotdesk.1"]) < 10:
        fail(f"hotdesk --help lists only {len(programs['hotdesk.1']) - 1} commands")
    own = {page: set().union(*(help_options(command) for command in commands)) | {"--help"}
           for page, commands in programs.items()}
    every = set().union(*own.values())
    for page in PAGES:
        named = page_options(args.pages, page)
        for option in sorted(named - every):
            fail(f"{page} names {option}, which no program has")
        for option in sorted(own.get(page, set()) - named):
            fail(f"{page} does not describe {option}")


def check_pam_options(args):
    with open(os.path.join(args.source, "pam/pamprotocol.cpp"), encoding="utf-8") as file:
        code = file.read()
    module = set(re.findall(r'startsWith\(arg, "([a-z_]+)="\)', code)) | set(re.findall(r'arg == "([a-z_]+)"', code))
    if len(module) < 5:
        fail(f"found only these module options in pam/pamprotocol.cpp: {sorted(module)}")
    text = rendered(os.path.join(args.pages, "pam_hotdesk.8"))
    section = re.search(r"^OPTIONS$(.*?)^\S", text, re.M | re.S)
    described = set(re.findall(r"(?m)^ {7}([a-z_]+)", section.group(1))) if section else set()
    if described != module:
        fail(f"pam_hotdesk(8) describes the options {sorted(described)}; the module has {sorted(module)}")


def main():
    parser = argparse.ArgumentParser()
    for option in ("--pages", "--source", "--hotdesk", "--hotdeskd", "--stubs"):
        parser.add_argument(option, required=True)
    args = parser.parse_args()
    check_warnings(args.pages)
    if not failures:
        check_policy_members(args.pages, args.source)
        check_options(args)
        check_pam_options(args)
    print(f"{len(failures)} failures" if failures else "PASS: all checks")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
