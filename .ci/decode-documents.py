"""Decodes every answer of .ci/work/page-documents.json (written by .ci/vendor-examples.py: the
pages' example answers, and answers built from the pages' field lists) with one family of
generated Python models, each by its schema's name. Prints one line and fails on the first
answer a client rejects.

Usage: python decode-documents.py openapi-python-client|openapi-generator|datamodel [DOCUMENTS]
(run with the Python environment that client's dependencies are installed in), or
python decode-documents.py go-models OUT.go [DOCUMENTS]: writes the table of Go decoders by
schema name that .ci/go-flow/main.go reads (Go cannot find a type by its name).
"""
import importlib
import json
import sys

client = sys.argv[1]
if client == "go-models":
    documents = json.load(open(sys.argv[3] if len(sys.argv) > 3 else ".ci/work/page-documents.json"))
    names = sorted({(d["api"], d["schema"]) for d in documents})
    with open(sys.argv[2], "w") as out:
        out.write("// Written by .ci/decode-documents.py from the page documents; not edited by hand.\n")
        out.write('package main\n\nimport (\n\t"encoding/json"\n\n\t"hockeystack"\n\t"hyperrep"\n)\n\n')
        out.write("var _ = hockeystack.NewConfiguration\nvar _ = hyperrep.NewConfiguration\n\n")
        out.write("var pageModels = map[string]func([]byte) error{\n")
        for api, schema in names:
            out.write(f'\t"{api}.{schema}": func(b []byte) error {{ var v {api}.{schema}; return json.Unmarshal(b, &v) }},\n')
        out.write("}\n")
    print(f"go-models: {len(names)} models")
    sys.exit(0)
documents = json.load(open(sys.argv[2] if len(sys.argv) > 2 else ".ci/work/page-documents.json"))


def decoder(api, schema):
    """The function that turns a JSON value into the client's model of `schema`."""
    if client == "openapi-python-client":
        sys.path.insert(0, ".ci/work/py")
        return getattr(importlib.import_module(f"{api}_client.models"), schema).from_dict
    if client == "openapi-generator":
        sys.path.insert(0, f".ci/work/gen/{api}/python")
        return getattr(importlib.import_module(f"{api}_og.models"), schema).from_dict
    if client == "datamodel":
        sys.path.insert(0, f".ci/work/gen/{api}/datamodel")
        return getattr(importlib.import_module(f"{api}_models"), schema).model_validate
    raise SystemExit(f"unknown client {client}")


failed = 0
for document in documents:
    try:
        decoded = decoder(document["api"], document["schema"])(document["document"])
        if decoded is None:
            raise ValueError("decoded to None")
    except Exception as error:  # noqa: BLE001 - any refusal is the finding
        failed += 1
        print(f"{client}: {document['schema']} ({document['why']}) is refused: {error}".splitlines()[0][:400])
print(f"{client}: {len(documents) - failed} of {len(documents)} page answers decoded")
sys.exit(1 if failed else 0)
