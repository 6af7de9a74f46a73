"""Runs every request printed on the vendors' pages against the sandbox, read from the pages
themselves (../shared/api-notes/sources/*.txt, plain text), and checks that each answer is one
the spec documents for that operation and that its body validates against the spec's schema
for that status. Each JSON example printed after a request is checked against the spec's
schema for that request's success answer. A page added or changed is tested as it is: a curl
command on a page that this script cannot run fails the check, as does a page that holds
none.

Only what a reader must substitute is substituted: the base URL, the credential (`$HS_TOKEN`,
`<token>`, `your-api-key`) and the ids a page tells the reader to save from earlier answers
(`$DEAL_ID`, `$CID`, `$JOB_ID`). Bodies, headers, query strings and HyperRep's example ids
are sent unchanged. A GET that answers a state still in progress (`initializing`, `pending`)
is sent again until it is not, as the pages say to poll.

Usage: python vendor-examples.py http://127.0.0.1:PORT [PAGES_DIR]
"""
import glob
import json
import os
import re
import shlex
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml
from openapi_schema_validator import OAS30Validator

base = sys.argv[1].rstrip("/")
here = os.path.dirname(os.path.abspath(__file__))
pages_dir = sys.argv[2] if len(sys.argv) > 2 else os.environ.get(
    "VENDOR_PAGES", os.path.join(here, "..", "..", "shared", "api-notes", "sources"))
HS = f"{base}/api/revenue-agents/v1"
SPECS = {
    "hockeystack": (yaml.safe_load(open("openapi/hockeystack.yaml")), "/api/revenue-agents/v1"),
    "hyperrep": (yaml.safe_load(open("openapi/hyperrep.yaml")), ""),
}
# What a reader puts in place of the pages' placeholders.
VARIABLES = {
    "HS_TOKEN": "hsr_live_sandbox",
    "HS_BASE": HS,
    "DEAL_ID": "9001234567",
}
HOSTS = {
    "https://app.hockeystack.com/api/revenue-agents/v1": HS,
    "https://api.hyperrep.ai": base,
}
CREDENTIALS = {"<token>": "hsr_live_sandbox", "your-api-key": "hr_sandbox_key"}
HIDDEN_EMAIL = "[email protected]"
# Where a page tells the reader to save a value from the answer before: `export CID=...`.
SAVED_FROM = {"CID": "conversation_id", "JOB_ID": "job_id"}
# States a page says to poll through.
IN_PROGRESS = {"initializing", "pending"}
# Examples that contradict their own page, and why they are not checked against the spec
# (which follows the page's field list).
CONTRADICTIONS = {
    ("POST", "/tasks"): "the example answer lacks `status`, which the page's own field list "
                        "marks required",
}

# Answers a page's own text predicts for a request it prints.
EXPECTED = {
    ("POST", "/tasks"): (400, "task_type", "the example body leaves out `task_type`, which the "
                                           "page marks required"),
}

failures, requests_run, examples_checked, events_checked, fields_checked = [], 0, 0, 0, 0
# What the generated clients must decode (.ci/decode-documents.py and the flows read it): every
# example answer checked here, and for every Response field list an answer with only the
# fields the spec requires and one with every field the page marks `| null` set to null.
documents = []
DOCUMENTS_OUT = os.environ.get("PAGE_DOCUMENTS", ".ci/work/page-documents.json")


def operation_for(api, method, path):
    spec, prefix = SPECS[api]
    path = path[len(prefix):]
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return spec, template, item[method.lower()]
    return spec, None, None


def resolved(spec, documented):
    if "$ref" in documented:
        return spec["components"]["responses"][documented["$ref"].rsplit("/", 1)[-1]]
    return documented


def check_schema(where, spec, schema, value):
    for error in OAS30Validator({**spec, **schema}).iter_errors(value):
        failures.append(f"{where}: does not match the spec: {error.message}")


def send(where, api, method, url, headers, body):
    """Sends one request as printed and checks the answer against the spec."""
    global requests_run
    requests_run += 1
    request = urllib.request.Request(url, data=body.encode() if body is not None else None,
                                     headers=headers, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            status, raw, ctype = response.status, response.read(), response.headers.get("content-type", "")
    except urllib.error.HTTPError as error:
        status, raw, ctype = error.code, error.read(), error.headers.get("content-type", "")
    path = urllib.parse.urlsplit(url).path
    spec, template, operation = operation_for(api, method, urllib.parse.unquote(path))
    where = f"{where}: {method} {path}"
    if operation is None:
        failures.append(f"{where}: no operation in the {api} spec")
        return status, None, None
    responses = operation["responses"]
    documented = (responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
                  or responses.get("default"))
    if documented is None:
        failures.append(f"{where}: status {status} is not documented ({', '.join(responses)})")
        return status, None, operation
    documented = resolved(spec, documented)
    value = None
    media = documented.get("content") or {}
    if "application/json" in media:
        if "application/json" not in ctype:
            failures.append(f"{where}: {status} answered {ctype!r}, the spec says JSON")
            return status, None, operation
        value = json.loads(raw)
        check_schema(f"{where}: {status} body", spec, media["application/json"]["schema"], value)
    elif "text/event-stream" in ctype:
        value = raw.decode()
    print(f"  {status} {method} {path}")
    return status, value, operation


def substitute(text, saved):
    for name, value in {**VARIABLES, **saved}.items():
        text = text.replace(f"${name}", value).replace(f"${{{name}}}", value)
    for host, local in HOSTS.items():
        text = text.replace(host, local)
    for placeholder, credential in CREDENTIALS.items():
        text = text.replace(placeholder, credential)
    return text


def parse_curl(command):
    """The method, URL, headers and body of a curl command as printed; raises ValueError on an
    option this script does not know, so that no printed request is silently left out."""
    words = shlex.split(command.replace("\\\n", " "))
    if not words or words[0] != "curl":
        raise ValueError("not a curl command")
    method, url, headers, data, get = None, None, {}, [], False
    i = 1
    while i < len(words):
        word = words[i]
        if word in ("-X", "--request"):
            method, i = words[i + 1], i + 2
        elif word == "--url":
            url, i = words[i + 1], i + 2
        elif word in ("-H", "--header"):
            name, _, value = words[i + 1].partition(":")
            headers[name.strip()] = value.strip()
            i += 2
        elif word in ("-d", "--data", "--data-raw", "--data-urlencode"):
            data.append((word, words[i + 1]))
            i += 2
        elif word == "-G":
            get, i = True, i + 1
        elif word in ("-sS", "-s", "-S", "--silent", "--show-error"):
            i += 1
        elif word.startswith("-"):
            raise ValueError(f"unknown curl option {word}")
        else:
            url, i = word, i + 1
    if url is None:
        raise ValueError("no URL")
    body = None
    if get:
        pairs = []
        for option, value in data:
            name, _, raw = value.partition("=")
            pairs.append((name, raw) if option == "--data-urlencode" else tuple(value.split("=", 1)))
        if pairs:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(pairs)
        method = method or "GET"
    elif data:
        body = "&".join(value for _, value in data)
        method = method or "POST"
    return method or "GET", url, headers, body


def json_blocks(text):
    """Every JSON object printed on its own lines, with where it starts. A trailing comma
    before a closing bracket (a typo some pages have) is dropped, and said."""
    decoder = json.JSONDecoder()
    blocks, position = [], 0
    for match in re.finditer(r"(?m)^\{", text):
        if match.start() < position:
            continue
        candidate = text[match.start():]
        try:
            value, end = decoder.raw_decode(candidate)
            blocks.append((match.start(), value, None))
            position = match.start() + end
            continue
        except json.JSONDecodeError:
            pass
        # The longest balanced span, with trailing commas removed.
        depth, end = 0, None
        for k, c in enumerate(candidate):
            depth += c == "{"
            depth -= c == "}"
            if depth == 0:
                end = k + 1
                break
        if end is None:
            continue
        repaired = re.sub(r",(\s*[\]}])", r"\1", candidate[:end])
        try:
            blocks.append((match.start(), json.loads(repaired), "a trailing comma on the page"))
            position = match.start() + end
        except json.JSONDecodeError:
            failures.append(f"a JSON example that does not parse: {candidate[:80]!r}")
    return blocks


def success_schema(spec, operation):
    for status, documented in operation["responses"].items():
        if status.startswith("2"):
            media = (resolved(spec, documented).get("content") or {}).get("application/json")
            if media:
                return media["schema"]
    return None


FIELD_TYPE = re.compile(r"^(enum<(\w+)>|(string|integer|number|boolean|object|array)(<([\w-]+)>)?)( \| null)?$")
FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def field_lists(text):
    """The field lists of a reference page (`Body` and `Response` sections): each field's name,
    type, format, whether it may be null and whether it is marked required."""
    lines = [line.strip() for line in text.splitlines()]
    section, fields = None, {"Body": [], "Response": []}
    for i, line in enumerate(lines):
        if line in fields:
            section = line
            continue
        if section is None or i + 1 >= len(lines) or not FIELD_NAME.match(line):
            continue
        kind = FIELD_TYPE.match(lines[i + 1])
        if not kind:
            continue
        fields[section].append({
            "name": line,
            "type": kind.group(2) or kind.group(3),
            "enum": kind.group(2) is not None,
            "format": kind.group(5),
            "nullable": kind.group(6) is not None,
            "required": i + 2 < len(lines) and lines[i + 2] == "required",
        })
    return fields


def flattened(spec, schema):
    """A schema with its `$ref` and single-branch `allOf` followed, and the `nullable` seen on
    the way."""
    nullable = False
    for _ in range(16):
        nullable = nullable or schema.get("nullable", False)
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif len(schema.get("allOf", [])) == 1:
            schema = {**{k: v for k, v in schema.items() if k != "allOf"}, **schema["allOf"][0]}
        else:
            break
    return schema, nullable or schema.get("nullable", False)


def component_name(schema):
    """The component a schema refers to, or None for an inline schema."""
    return schema["$ref"].rsplit("/", 1)[-1] if "$ref" in schema else None


SAMPLE_FORMATS = {"date-time": "2026-05-22T10:00:00Z", "date": "2026-05-22", "email": "sam@example.com",
                  "uuid": "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e05", "uri": "https://example.com/x", "decimal": "1.00"}


def sample(spec, schema, depth=0):
    """The smallest value a schema allows: an object with its required properties only."""
    schema, _ = flattened(spec, schema)
    if depth > 12:
        return None
    if "oneOf" in schema or "anyOf" in schema:
        return sample(spec, (schema.get("oneOf") or schema.get("anyOf"))[0], depth + 1)
    values = schema.get("enum") or schema.get("x-extensible-enum")
    if values:
        return values[0]
    kind = schema.get("type", "object")
    if kind == "object":
        return {name: sample(spec, schema["properties"][name], depth + 1)
                for name in schema.get("required", []) if name in schema.get("properties", {})}
    if kind == "array":
        return [sample(spec, schema["items"], depth + 1) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        text = SAMPLE_FORMATS.get(schema.get("format"), "x" * max(1, schema.get("minLength", 1)))
        return text
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    return True


def field_list_documents(page, api, schema, listed):
    """An answer with only the required fields, and one with the page's `| null` fields null."""
    name = component_name(schema)
    if name is None:
        return
    spec = SPECS[api][0]
    minimal = sample(spec, schema)
    documents.append({"api": api, "schema": name, "why": f"{page}: only the required fields", "document": minimal})
    nulls = {field["name"]: None for field in listed if field["nullable"]}
    if nulls:
        documents.append({"api": api, "schema": name, "why": f"{page}: the `| null` fields null",
                          "document": {**minimal, **nulls}})


def check_field_lists(page, text, api, method, url, operation):
    """Each field of the page's lists against the spec: present, required or not, nullable or
    not, type and format."""
    global fields_checked
    spec = SPECS[api][0]
    lists = field_lists(text)
    body = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
    for section, schema in [("Body", body), ("Response", success_schema(spec, operation))]:
        if not lists[section]:
            continue
        if schema is None:
            failures.append(f"{page}: the page lists {section} fields; the spec has no JSON schema there")
            continue
        if section == "Response":
            field_list_documents(page, api, schema, lists[section])
        object_schema, _ = flattened(spec, schema)
        required = set(object_schema.get("required", []))
        for field in lists[section]:
            where = f"{page}: {section} field {field['name']}"
            fields_checked += 1
            declared = object_schema.get("properties", {}).get(field["name"])
            if declared is None:
                failures.append(f"{where}: not in the spec's schema")
                continue
            declared, nullable = flattened(spec, declared)
            if field["required"] != (field["name"] in required):
                failures.append(f"{where}: the page marks it {'required' if field['required'] else 'optional'}")
            if field["nullable"] != bool(nullable):
                failures.append(f"{where}: the page says {'' if field['nullable'] else 'not '}nullable")
            if declared.get("type") != field["type"]:
                failures.append(f"{where}: the page says {field['type']}, the spec {declared.get('type')}")
            if field["format"] and declared.get("format") != field["format"]:
                failures.append(f"{where}: the page says format {field['format']}, the spec {declared.get('format')}")
            if field["enum"] and "enum" not in declared and "x-extensible-enum" not in declared:
                failures.append(f"{where}: the page lists its values; the spec does not")


def run_page(path):
    global examples_checked
    text = open(path, encoding="utf-8").read()
    name = os.path.basename(path)
    # The pages' host hides e-mail addresses from scrapers; the copy holds the placeholder,
    # which no `format: email` field admits. A reader would see an address there.
    hidden = text.count(HIDDEN_EMAIL)
    if hidden:
        text = text.replace(HIDDEN_EMAIL, "agent@example.com")
        print(f"  e-mail addresses hidden by the page's host ({hidden}), read as agent@example.com")
    # A command continues over lines that end in a backslash, and a quoted body over lines.
    commands = []
    for match in re.finditer(r"(?m)^curl\b", text):
        end, quote, k = match.start(), None, match.start()
        while k < len(text):
            c = text[k]
            if quote:
                if c == quote:
                    quote = None
            elif c in "'\"":
                quote = c
            elif c == "\n" and text[k - 1] != "\\":
                break
            k += 1
        commands.append((match.start(), text[match.start():k]))
    if not commands:
        failures.append(f"{name}: no curl command found on the page")
        return
    print(f"{name}: {len(commands)} requests")
    saved, previous = {}, None
    blocks = json_blocks(text)
    for index, (start, command) in enumerate(commands):
        # Values the page said to save from an earlier answer.
        for variable, member in SAVED_FROM.items():
            if f"${variable}" in command and variable not in saved:
                if previous and member in previous:
                    saved[variable] = str(previous[member])
                else:
                    failures.append(f"{name}: ${variable} is used before an answer gave {member}")
        api = "hyperrep" if "api.hyperrep.ai" in command or "X-API-KEY" in command else "hockeystack"
        try:
            method, url, headers, body = parse_curl(substitute(command, saved))
        except (ValueError, IndexError) as error:
            failures.append(f"{name}: cannot run {command[:60]!r}: {error}")
            continue
        where = f"{name} request {index + 1}"
        status, value, operation = send(where, api, method, url, headers, body)
        for _ in range(200):
            if method != "GET" or not isinstance(value, dict) or value.get("status") not in IN_PROGRESS:
                break
            time.sleep(0.05)
            status, value, operation = send(where, api, method, url, headers, body)
        if isinstance(value, dict):
            previous = value
        if operation is not None:
            template = operation_for(api, method, urllib.parse.unquote(urllib.parse.urlsplit(url).path))[1]
            expected = EXPECTED.get((method, template))
            if expected and (status != expected[0] or expected[1] not in json.dumps(value)):
                failures.append(f"{where}: {expected[2]}, so a {expected[0]} naming it was "
                                f"expected; got {status}: {str(value)[:200]}")
        if index == 0 and operation is not None:
            check_field_lists(name, text, api, method, url, operation)
        # The JSON examples printed between this command and the next are its answer's.
        following = commands[index + 1][0] if index + 1 < len(commands) else len(text)
        for at, example, note in blocks:
            if not start + len(command) <= at < following or operation is None:
                continue
            path = urllib.parse.urlsplit(url).path
            spec, template, _ = operation_for(api, method, urllib.parse.unquote(path))
            key = (method, template)
            if key in CONTRADICTIONS:
                print(f"  example not checked: {CONTRADICTIONS[key]}")
                continue
            schema = success_schema(spec, operation)
            if schema is None:
                continue
            examples_checked += 1
            if note:
                print(f"  example read despite {note}")
            check_schema(f"{name}: example answer of {method} {template}", spec, schema, example)
            if component_name(schema):
                documents.append({"api": api, "schema": component_name(schema),
                                  "why": f"{name}: example answer of {method} {template}", "document": example})


pages = sorted(glob.glob(os.path.join(pages_dir, "*.txt")))
if not pages:
    failures.append(f"no vendor pages in {pages_dir}")
for page in pages:
    run_page(page)

# ---- What the pages say in words rather than as a command --------------------------------
where = "quickstart prose"
# "If the agent already exists for this deal, the PUT returns 409."
hs = {"Authorization": f"Bearer {VARIABLES['HS_TOKEN']}"}
status, _, _ = send(where, "hockeystack", "PUT", f"{HS}/deals/{VARIABLES['DEAL_ID']}/agent", hs, None)
if status != 409:
    failures.append(f"{where}: a second PUT of an existing agent answered {status}, not 409")
# "send the same POST with Accept: text/event-stream (or { "stream": true } in the body)".
_, conversation, _ = send(where, "hockeystack", "POST", f"{HS}/deals/{VARIABLES['DEAL_ID']}/conversations",
                          {**hs, "Content-Type": "application/json"}, "{}")
cid = conversation["conversation_id"]
spec = SPECS["hockeystack"][0]
events = spec["components"]["responses"]["MessageStream"]["x-sse-events"]
for extra, body in [({"Accept": "text/event-stream"}, '{"content": "And the next step?"}'),
                    ({}, '{"content": "And the next step?", "stream": true}')]:
    status, stream, _ = send(where, "hockeystack", "POST",
                             f"{HS}/deals/{VARIABLES['DEAL_ID']}/conversations/{cid}/messages",
                             {**hs, "Content-Type": "application/json", **extra}, body)
    if status != 200 or "event: done" not in (stream or ""):
        failures.append(f"{where}: streamed form answered {status}: {str(stream)[:200]}")
        continue
    for block in stream.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        name = fields.get("event")
        events_checked += 1
        if name not in events:
            failures.append(f"{where}: undocumented event {name!r}")
            continue
        check_schema(f"{where}: {name} event", spec, events[name], json.loads(fields["data"]))

where = "HyperRep agents page prose"
ORG = "gAAAAABexampleOrganizationIdReturnedByApi7mN4qP2xLs9dV5kTr8cY1hJ6uW3"
AGENT = "gAAAAABexampleAgentIdReturnedByApi5qN8xLm3sV6kRt2cY9hJ4uW1dF7"
hr = {"X-API-KEY": CREDENTIALS["your-api-key"]}
q = urllib.parse.urlencode
agent_url = f"{base}/api/v2/organizations/{ORG}/agents/{AGENT}"
window = q({"start_date": "2026-04-01T00:00:00Z", "end_date": "2026-04-30T23:59:59Z"})
# The page names two more analytics paths without printing a request for them.
for suffix in ["analytics/conversations", "analytics/sales"]:
    status, _, _ = send(where, "hyperrep", "GET", f"{agent_url}/{suffix}?{window}", hr, None)
    if status != 200:
        failures.append(f"{where}: {suffix} answered {status}")
# "start_date and end_date are required on all agent analytics endpoints."
status, _, _ = send(where, "hyperrep", "GET", f"{agent_url}/analytics", hr, None)
if status != 422:
    failures.append(f"{where}: analytics without dates answered {status}, not 422")
# Date-times as other clients write them: an offset without a colon, fractions of a second.
status, _, _ = send(where, "hyperrep", "GET", f"{agent_url}/analytics?" + q(
    {"start_date": "2026-04-01T00:00:00+0000", "end_date": "2026-04-30T23:59:59.000+00:00"}), hr, None)
if status != 200:
    failures.append(f"{where}: other date-time spellings answered {status}")

for document in documents:
    api_spec = SPECS[document["api"]][0]
    check_schema(f"built from {document['why']}", api_spec,
                 {"$ref": f"#/components/schemas/{document['schema']}"}, document["document"])
os.makedirs(os.path.dirname(DOCUMENTS_OUT), exist_ok=True)
with open(DOCUMENTS_OUT, "w") as out:
    json.dump(documents, out, indent=1)

for failure in failures:
    print(failure)
print(f"vendor examples: {len(pages)} pages, {requests_run} requests, {fields_checked} listed fields, "
      f"{examples_checked} printed answers and {events_checked} streamed events checked, "
      f"{len(documents)} answers for the generated clients to decode, {len(failures)} problems")
sys.exit(1 if failures else 0)
