"""Runs every request printed in the vendors' pages (../shared/api-notes/sources/) against the
sandbox, as printed, and checks that each answer is one the spec documents for that operation
and that its body validates against the spec's schema for that status.

Only what a reader must substitute is substituted: the base URL, the credential (`$HS_TOKEN`,
`<token>`, `your-api-key`) and the ids the quickstart tells the reader to save from earlier
answers (`$DEAL_ID`, `$CID`, `$JOB_ID`). Bodies, headers, query strings and HyperRep's example
ids are sent unchanged.
Usage: python vendor-examples.py http://127.0.0.1:PORT
"""
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml
from openapi_schema_validator import OAS30Validator

base = sys.argv[1].rstrip("/")
HS = f"{base}/api/revenue-agents/v1"
HS_TOKEN = "hsr_live_sandbox"
HR_KEY = "hr_sandbox_key"
DEAL_ID = "9001234567"
SPECS = {
    "hockeystack": (yaml.safe_load(open("openapi/hockeystack.yaml")), "/api/revenue-agents/v1"),
    "hyperrep": (yaml.safe_load(open("openapi/hyperrep.yaml")), ""),
}
failures, checked, events_checked = [], 0, 0


def operation_for(api, method, path):
    spec, prefix = SPECS[api]
    path = path[len(prefix):]
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return spec, template, item[method.lower()]
    return spec, None, None


def send(source, api, method, url, headers=None, body=None, expect=None):
    """Sends one request as printed and checks the answer against the spec."""
    global checked
    checked += 1
    request = urllib.request.Request(url, data=body.encode() if body is not None else None,
                                     headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            status, raw, ctype = response.status, response.read(), response.headers.get("content-type", "")
    except urllib.error.HTTPError as error:
        status, raw, ctype = error.code, error.read(), error.headers.get("content-type", "")
    path = urllib.parse.urlsplit(url).path
    spec, template, operation = operation_for(api, method, urllib.parse.unquote(path))
    where = f"{source}: {method} {path}"
    if operation is None:
        failures.append(f"{where}: no operation in the {api} spec")
        return status, None
    responses = dict(operation["responses"])
    # The streamed form of the message POSTs is documented beside `responses`, on purpose.
    streaming = operation.get("x-streaming-response")
    if streaming and "text/event-stream" in ctype:
        responses[streaming["status"]] = streaming["response"]
    documented = responses.get(str(status)) or responses.get("default")
    if documented is None:
        failures.append(f"{where}: status {status} is not documented ({', '.join(responses)})")
        return status, None
    if "$ref" in documented:
        documented = spec["components"]["responses"][documented["$ref"].rsplit("/", 1)[-1]]
    if expect is not None and status != expect:
        failures.append(f"{where}: expected {expect}, got {status}: {raw[:200]!r}")
    value = None
    media = (documented.get("content") or {})
    if "application/json" in media:
        if "application/json" not in ctype:
            failures.append(f"{where}: {status} answered {ctype!r}, the spec says JSON")
            return status, None
        value = json.loads(raw)
        schema = media["application/json"]["schema"]
        validator = OAS30Validator({**spec, **schema})
        for error in validator.iter_errors(value):
            failures.append(f"{where}: {status} body does not match the spec: {error.message}")
    elif "text/event-stream" in ctype:
        value = raw.decode()
    print(f"  {status} {method} {path}")
    return status, value


def hs(extra=None):
    return {"Authorization": f"Bearer {HS_TOKEN}", **(extra or {})}


# ---- 000: HockeyStack quickstart ------------------------------------------------------------
source = "HockeyStack quickstart (000)"
print(source)
send(source, "hockeystack", "GET", f"{HS}/me", hs(), expect=200)
send(source, "hockeystack", "PUT", f"{HS}/deals/{DEAL_ID}/agent", hs(), expect=202)
for _ in range(200):
    _, agent = send(source, "hockeystack", "GET", f"{HS}/deals/{DEAL_ID}/agent", hs(), expect=200)
    if agent and agent.get("status") != "initializing":
        break
    time.sleep(0.05)
# "If the agent already exists for this deal, the PUT returns 409."
send(source, "hockeystack", "PUT", f"{HS}/deals/{DEAL_ID}/agent", hs(), expect=409)
_, conversation = send(source, "hockeystack", "POST", f"{HS}/deals/{DEAL_ID}/conversations",
                       hs({"Content-Type": "application/json"}), "{}", expect=201)
cid = conversation["conversation_id"]
_, job = send(source, "hockeystack", "POST", f"{HS}/deals/{DEAL_ID}/conversations/{cid}/messages",
              hs({"Content-Type": "application/json"}),
              '{"content": "What is the single biggest risk on this deal right now?"}', expect=202)
for _ in range(200):
    _, polled = send(source, "hockeystack", "GET",
                     f"{HS}/deals/{DEAL_ID}/conversations/{cid}/messages/jobs/{job['job_id']}", hs(), expect=200)
    if polled and polled.get("status") != "pending":
        break
    time.sleep(0.05)
if not polled or polled.get("status") != "completed":
    failures.append(f"{source}: the job did not complete: {polled}")
# "What to try next": the same POST asking for a stream, both ways.
for headers, body in [({"Accept": "text/event-stream"}, '{"content": "And the next step?"}'),
                      ({}, '{"content": "And the next step?", "stream": true}')]:
    status, stream = send(source, "hockeystack", "POST", f"{HS}/deals/{DEAL_ID}/conversations/{cid}/messages",
                          hs({"Content-Type": "application/json", **headers}), body)
    # The stream is documented outside `responses` (x-streaming-response); check it there,
    # and each event's data against the schema `x-sse-events` gives for its name.
    if status != 200 or "event: done" not in (stream or ""):
        failures.append(f"{source}: streamed form answered {status}: {str(stream)[:200]}")
        continue
    spec = SPECS["hockeystack"][0]
    events = spec["components"]["responses"]["MessageStream"]["x-sse-events"]
    for block in stream.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        name = fields.get("event")
        events_checked += 1
        if name not in events:
            failures.append(f"{source}: undocumented event {name!r}")
            continue
        for error in OAS30Validator({**spec, **events[name]}).iter_errors(json.loads(fields["data"])):
            failures.append(f"{source}: {name} event does not match the spec: {error.message}")
send(source, "hockeystack", "GET", f"{HS}/tasks", hs(), expect=200)
send(source, "hockeystack", "GET", f"{HS}/credits/balance", hs(), expect=200)

# ---- 001: HockeyStack reference, "Manually create a task" -----------------------------------
source = "HockeyStack create-task reference (001)"
print(source)
# The page's example leaves out `task_type`, which the same page marks required; the answer is
# the documented 400 that names the field.
status, refused = send(source, "hockeystack", "POST", f"{HS}/tasks",
                       {"Authorization": f"Bearer {HS_TOKEN}", "Content-Type": "application/json"}, """
{
  "task_title": "<string>",
  "assignee_id": "<string>",
  "targets": {
    "deal_id": "<string>",
    "company_id": "<string>",
    "meeting_id": "<string>"
  },
  "priority": "medium",
  "draft": {
    "talking_points": [
      "<string>"
    ],
    "subject": "<string>",
    "body": "<string>",
    "message": "<string>"
  },
  "reason": "<string>",
  "due_date": "2023-11-07T05:31:56Z"
}
""", expect=400)
if refused and "task_type" not in refused["error"]["message"]:
    failures.append(f"{source}: the 400 does not name task_type: {refused}")

# ---- 002: HyperRep agents page --------------------------------------------------------------
source = "HyperRep agents page (002)"
print(source)
ORG = "gAAAAABexampleOrganizationIdReturnedByApi7mN4qP2xLs9dV5kTr8cY1hJ6uW3"
AGENT = "gAAAAABexampleAgentIdReturnedByApi5qN8xLm3sV6kRt2cY9hJ4uW1dF7"
hr = {"X-API-KEY": HR_KEY}
q = urllib.parse.urlencode
send(source, "hyperrep", "GET", f"{base}/api/v2/organizations/{ORG}/agents?{q({'limit': '25'})}", hr, expect=200)
send(source, "hyperrep", "GET", f"{base}/api/v2/organizations/{ORG}/agents/{AGENT}", hr, expect=200)
send(source, "hyperrep", "GET", f"{base}/api/v2/organizations/{ORG}/agents/{AGENT}/conversations?{q({'limit': '25'})}",
     hr, expect=200)
send(source, "hyperrep", "GET", f"{base}/api/v2/organizations/{ORG}/agents/{AGENT}/sales?{q({'limit': '25'})}",
     hr, expect=200)
window = q({"start_date": "2026-04-01T00:00:00Z", "end_date": "2026-04-30T23:59:59Z"})
for suffix in ["analytics", "analytics/conversations", "analytics/sales"]:
    send(source, "hyperrep", "GET", f"{base}/api/v2/organizations/{ORG}/agents/{AGENT}/{suffix}?{window}",
         hr, expect=200)
# "start_date and end_date are required on all agent analytics endpoints."
send(source, "hyperrep", "GET", f"{base}/api/v2/organizations/{ORG}/agents/{AGENT}/analytics", hr, expect=422)
# Date-times as other clients write them: an offset without a colon, fractions of a second.
send(source, "hyperrep", "GET", f"{base}/api/v2/organizations/{ORG}/agents/{AGENT}/analytics?"
     + q({"start_date": "2026-04-01T00:00:00+0000", "end_date": "2026-04-30T23:59:59.000+00:00"}), hr, expect=200)

for failure in failures:
    print(failure)
print(f"vendor examples: {checked} requests and {events_checked} streamed events, {len(failures)} problems")
sys.exit(1 if failures else 0)
