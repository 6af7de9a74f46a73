"""Counts the requests of one question to an agent whose reply takes JOB seconds (default 20),
side by side on one sandbox run:

- `hockeystack_ask_agent` through the MCP client, into an existing conversation, as it asks
  by default: the reply streamed;
- the same with `delivery: "job"`: the job checked at growing intervals (1, 2, 4, then every
  5 s);
- the streamed ask from nothing: the agent made sure of and a conversation opened first;
- the loop of HockeyStack's published MCP server (`hs_send_deal_message`): send, then check
  the job every 2 s, written here in Python against the same sandbox.

Not part of CI (it waits out the jobs). Usage: measure-mcp-ask.py PATH/TO/revenue-agents-mcp [JOB]
"""

import asyncio
import json
import re
import sys
import time
import urllib.request

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

BINARY = sys.argv[1]
JOB = sys.argv[2] if len(sys.argv) > 2 else "20"
LOG = ".ci/work/mcp-measure.log"
TOKEN = "hsr_live_sandbox"  # the sandbox's documented token
PREFIX = "/api/revenue-agents/v1"


def control(base, method, path):
    request = urllib.request.Request(base + path, method=method)
    with urllib.request.urlopen(request) as answer:
        body = answer.read()
        return json.loads(body) if body else None


def api(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + PREFIX + path, data=data, method=method, headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


def counted(base):
    requests = [r for r in control(base, "GET", "/__sandbox/requests") if r["path"].startswith(PREFIX)]
    control(base, "DELETE", "/__sandbox/requests")
    summary = {}
    for r in requests:
        shape = re.sub(r"/jobs/[^/]+$", "/jobs/{jobId}", r["path"][len(PREFIX):])
        key = f'{r["method"]} {shape}'
        summary[key] = summary.get(key, 0) + 1
    return len(requests), summary


async def main():
    open(LOG, "w").close()
    params = StdioServerParameters(command=BINARY, args=[
        "--sandbox", "--sandbox-job-seconds", JOB, "--sandbox-provisioning-seconds", "0"])
    with open(LOG, "a") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                with open(LOG) as f:
                    base = "http://" + re.search(r"http://([0-9.:]+)", f.read()).group(1)
                deal = "9001234567"
                # Agent and conversation exist already for the first and third runs.
                api(base, "PUT", f"/deals/{deal}/agent")
                time.sleep(0.2)
                cid = api(base, "POST", f"/deals/{deal}/conversations")["conversation_id"]
                control(base, "DELETE", "/__sandbox/requests")

                rows = []
                started = time.monotonic()
                result = await session.call_tool("hockeystack_ask_agent", {
                    "dealId": deal, "cid": cid, "question": "What is the biggest risk?"},
                    read_timeout_seconds=600)
                assert not result.is_error, result
                rows.append(("ask_agent into a conversation (streamed)", time.monotonic() - started, *counted(base)))

                started = time.monotonic()
                result = await session.call_tool("hockeystack_ask_agent", {
                    "dealId": deal, "cid": cid, "question": "And the next step?", "delivery": "job"},
                    read_timeout_seconds=600)
                assert not result.is_error, result
                rows.append(("ask_agent into a conversation, delivery job", time.monotonic() - started, *counted(base)))

                started = time.monotonic()
                result = await session.call_tool("hockeystack_ask_agent", {
                    "dealId": "9007654321", "question": "What is the biggest risk?"},
                    read_timeout_seconds=600)
                assert not result.is_error, result
                rows.append(("ask_agent from nothing (streamed)", time.monotonic() - started, *counted(base)))

                # HockeyStack's published server: send, then a check every 2 s.
                started = time.monotonic()
                job = api(base, "POST", f"/deals/{deal}/conversations/{cid}/messages",
                          {"message": "What is the biggest risk?"})
                while True:
                    time.sleep(2)
                    state = api(base, "GET", f"/deals/{deal}/conversations/{cid}/messages/jobs/{job['job_id']}")
                    if state["status"] != "pending":
                        break
                rows.append(("fixed 2 s polling (hs_send_deal_message)", time.monotonic() - started, *counted(base)))

    print(f"reply job of {JOB} s, same sandbox")
    print("| how | requests | answer after | requests by route |")
    print("|---|---|---|---|")
    for name, elapsed, total, summary in rows:
        print(f"| {name} | {total} | {elapsed:.1f} s | {summary} |")


asyncio.run(main())
