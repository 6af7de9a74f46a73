"""Validates every example in an OpenAPI 3.0 document against the schema it illustrates, and
checks that every schema and property is described.

openapi-spec-validator checks the document's structure but not its examples. Other teams copy
our examples into their tests, so an example that contradicts its schema is a defect.
Usage: python check-examples.py SPEC.yaml
"""
import sys

import yaml
from openapi_schema_validator import OAS30Validator


def walk(node, pointer):
    """Yields (pointer, node) for every mapping in the document."""
    if isinstance(node, dict):
        yield pointer, node
        for key, value in node.items():
            yield from walk(value, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{pointer}/{i}")


def main(path):
    with open(path) as f:
        spec = yaml.safe_load(f)
    failures, checked = [], 0

    def check(where, schema_pointer, example):
        nonlocal checked
        checked += 1
        # A root that is only a reference into the document itself resolves every nested
        # `#/components/...` reference against the whole spec.
        validator = OAS30Validator({**spec, "$ref": schema_pointer})
        for error in validator.iter_errors(example):
            failures.append(f"{where}: {error.message}")

    for pointer, node in walk(spec, "#"):
        if pointer.startswith("#/components/schemas/") and "example" in node and (
            "type" in node or "properties" in node or "allOf" in node or "enum" in node
        ):
            check(pointer, pointer, node["example"])
        if "schema" in node and ("example" in node or "examples" in node):
            schema_pointer = f"{pointer}/schema"
            if "example" in node:
                check(pointer + "/example", schema_pointer, node["example"])
            for name, example in (node.get("examples") or {}).items():
                if "value" in example:
                    check(f"{pointer}/examples/{name}", schema_pointer, example["value"])

    # Readers and generated docstrings rely on descriptions: every component schema and every
    # property that is not a bare reference (whose target describes itself) carries one.
    undocumented = [f"{pointer}: no description" for pointer, node in walk(spec, "#")
                    if pointer.startswith("#/components/schemas/") and pointer.count("/") == 3
                    and not node.get("description")]
    for pointer, node in walk(spec, "#"):
        for name, prop in (node.get("properties") or {}).items():
            if isinstance(prop, dict) and "$ref" not in prop and not prop.get("description"):
                undocumented.append(f"{pointer}/properties/{name}: no description")
    failures += undocumented

    for failure in failures:
        print(failure)
    print(f"{path}: {checked} examples checked, {len(failures) - len(undocumented)} invalid; "
          f"{len(undocumented)} schemas or properties without a description")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
