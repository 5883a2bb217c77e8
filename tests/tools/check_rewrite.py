"""Check what a password rewrite left in a copy of a stack.

usage: check_rewrite.py SCHEMA OLD_DIR NEW_DIR COMPOSE OLD NEW CHANGED...

OLD_DIR is the stack before, NEW_DIR after the rewrite; COMPOSE is the
compose file's path relative to both; OLD and NEW are the passwords;
CHANGED are the paths the rewrite reported.  Checks that files not
reported are byte-identical, that reported files differ only where the
password was (as is, or percent-encoded), that the compose file still
validates against the Compose JSON schema, and that every YAML value
reads back unchanged apart from the password.  Prints one line per
problem and exits 1 when there is any.
"""
import json
import os
import sys
import urllib.parse

import jsonschema
import yaml


class TagLoader(yaml.SafeLoader):
    """Reads Compose's !reset and !override tags as plain nodes."""


def _construct_tagged(loader, _suffix, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


TagLoader.add_multi_constructor("!", _construct_tagged)


def forms(value):
    """The ways a password is written: as is, with '$$', percent-encoded."""
    quoted = urllib.parse.quote(value, safe="-._~")
    return [value, value.replace("$", "$$"), quoted]


def replaced_some(old, new, old_pw, new_pw):
    """True when new is old with some of the places that hold old_pw (in
    one of its forms) holding new_pw in the same form.  Not every place:
    a weak password can also be a user or database name that must stay."""
    if old == new:
        return True
    for old_form, new_form in zip(forms(old_pw), forms(new_pw)):
        parts = old.split(old_form)
        places = len(parts) - 1
        if places == 0 or places > 12:
            continue
        for chosen in range(1, 1 << places):
            text = parts[0]
            for i in range(places):
                text += new_form if chosen >> i & 1 else old_form
                text += parts[i + 1]
            if text == new:
                return True
    return False


def same_apart_from_password(old, new, old_pw, new_pw):
    """Compares line by line: each line is equal or differs only there."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    if len(old_lines) != len(new_lines):
        return False
    return all(replaced_some(a, b, old_pw, new_pw)
               for a, b in zip(old_lines, new_lines))


def compare_trees(old, new, old_pw, new_pw, path, problems):
    if isinstance(old, dict) and isinstance(new, dict):
        if list(old) != list(new):
            problems.append(f"{path}: keys differ")
            return
        for key in old:
            compare_trees(old[key], new[key], old_pw, new_pw,
                          f"{path}.{key}", problems)
    elif isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            problems.append(f"{path}: lengths differ")
            return
        for i, (a, b) in enumerate(zip(old, new)):
            compare_trees(a, b, old_pw, new_pw, f"{path}[{i}]", problems)
    elif old != new:
        if not (isinstance(old, str) and isinstance(new, str)
                and replaced_some(old, new, old_pw, new_pw)):
            problems.append(f"{path}: value changed beyond the password")


def main():
    schema_path, old_dir, new_dir, compose, old_pw, new_pw = sys.argv[1:7]
    changed = {os.path.relpath(p, new_dir) for p in sys.argv[7:]}
    problems = []
    for root, _dirs, files in os.walk(old_dir):
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), old_dir)
            if rel.startswith(".rotarr"):
                continue
            with open(os.path.join(old_dir, rel), "rb") as f:
                before = f.read()
            with open(os.path.join(new_dir, rel), "rb") as f:
                after = f.read()
            if rel not in changed:
                if before != after:
                    problems.append(f"{rel}: changed but not reported")
                continue
            if not same_apart_from_password(
                    before.decode("utf-8", "surrogateescape"),
                    after.decode("utf-8", "surrogateescape"), old_pw, new_pw):
                problems.append(f"{rel}: bytes differ beyond the password")
    with open(schema_path) as f:
        schema = json.load(f)
    with open(os.path.join(old_dir, compose), encoding="utf-8-sig") as f:
        old_doc = yaml.load(f, Loader=TagLoader)
    with open(os.path.join(new_dir, compose), encoding="utf-8-sig") as f:
        new_doc = yaml.load(f, Loader=TagLoader)
    validator = jsonschema.Draft202012Validator(schema)
    old_errors = {e.message for e in validator.iter_errors(old_doc)}
    for error in validator.iter_errors(new_doc):
        if error.message not in old_errors:
            problems.append(f"{compose}: schema: {error.message}")
    compare_trees(old_doc, new_doc, old_pw, new_pw, compose, problems)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
