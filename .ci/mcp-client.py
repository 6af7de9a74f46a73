"""Runs `revenue-agents-mcp --sandbox` under the official Python MCP client and checks what an
assistant would meet: the tool lists (all, read-only, chosen toolsets), one read and one write
tool per API, the one-call ask with progress, a capped list continued from its cursor, errors
as results, malformed calls, the result budget, hidden text, the compact list, protocol
2026-07-28 and the ask as a task. Usage: mcp-client.py PATH/TO/revenue-agents-mcp
"""

import asyncio
import contextlib

import anyio
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

from typing import Any, Literal

from jsonschema.validators import Draft202012Validator
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.extension import ResultClaim
from mcp_types._types import Result
from pydantic import ConfigDict, TypeAdapter
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError as McpError

BINARY = sys.argv[1]
ORGANIZATION = "gAAAAABexampleOrganizationIdReturnedByApi7mN4qP2xLs9dV5kTr8cY1hJ6uW3"
SECRETS = ("hsr_live_sandbox", "hr_sandbox_key")
problems = []
checks = 0
seen_text = []


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        problems.append(what)
        print(f"FAIL {what}")


TASKS = "io.modelcontextprotocol/tasks"


class TaskParams(types.RequestParams):
    task_id: str


class GetTask(types.Request[TaskParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    params: TaskParams


class CancelTask(types.Request[TaskParams, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    params: TaskParams


class CreatedTask(Result):
    """The tasks extension's answer to a tools/call that became a task."""
    model_config = ConfigDict(extra="allow")
    result_type: Literal["task"]
    task_id: str
    status: str


async def unused_resolve(created, ctx):
    raise AssertionError("tasks are polled by hand here")


@contextlib.asynccontextmanager
async def server(*args, env=None, job_seconds="0.2", log=".ci/work/mcp-server.log", discover=False, tasks=False):
    params = StdioServerParameters(
        command=BINARY,
        args=["--sandbox", "--sandbox-provisioning-seconds", "0.2", "--sandbox-job-seconds", job_seconds, *args],
        # No credential in the environment: the sandbox serves both APIs.
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )
    with open(log, "a") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            claims = {"extensions": {TASKS: {}}, "result_claims": {TASKS: [
                ResultClaim(result_type="task", model=CreatedTask, resolve=unused_resolve)]}} if tasks else {}
            async with ClientSession(read, write, **claims) as session:
                if discover:
                    await session.discover()
                else:
                    await session.initialize()
                yield session


async def call(session, name, arguments, **kwargs):
    result = await session.call_tool(name, arguments, **kwargs)
    text = "".join(getattr(block, "text", "") for block in result.content)
    seen_text.append(text)
    return result, (result.structured_content if result.structured_content is not None else json.loads(text))


def walk(value):
    if isinstance(value, dict):
        yield value
        for member in value.values():
            yield from walk(member)
    elif isinstance(value, list):
        for member in value:
            yield from walk(member)


async def tool_lists():
    async with server() as session:
        tools = (await session.list_tools()).tools
        names = {t.name for t in tools}
        print(f"all tools: {len(tools)}")
        check(len(tools) == 59, f"59 tools by default (the deprecated one left out), got {len(tools)}")
        for name in ("hockeystack_create_task", "hyperrep_list_organizations", "hockeystack_ask_agent",
                     "hockeystack_ensure_agent", "hockeystack_health", "hyperrep_get_response_rate_analytics"):
            check(name in names, f"tool {name} is offered")
        for tool in tools:
            schema = tool.input_schema
            Draft202012Validator.check_schema(schema)
            check("$ref" not in json.dumps(schema), f"{tool.name}: input schema is self-contained")
            check(schema.get("type") == "object", f"{tool.name}: input schema is an object")
            for prop, spec in schema.get("properties", {}).items():
                check(bool(spec.get("description")), f"{tool.name}.{prop} has a description")
            check(bool(tool.description), f"{tool.name} has a description")
        create = next(t for t in tools if t.name == "hockeystack_create_task")
        props = create.input_schema["properties"]
        check(set(create.input_schema.get("required", [])) >= {"task_title", "task_type"},
              "create_task requires task_title and task_type")
        check(props["task_title"].get("maxLength") == 500, "task_title keeps the spec's maxLength 500")
        check(create.annotations.read_only_hint is False, "create_task is not read-only")
        listing = next(t for t in tools if t.name == "hockeystack_list_tasks")
        check(listing.annotations.read_only_hint is True, "list_tasks is read-only")
        check(listing.input_schema["properties"]["limit"].get("maximum") == 200, "limit keeps maximum 200")
        check("max_items" in listing.input_schema["properties"], "lists take max_items")

    async with server("--read-only") as session:
        tools = (await session.list_tools()).tools
        print(f"read-only tools: {len(tools)}")
        check(len(tools) == 40, f"40 read-only tools, got {len(tools)}")
        check(all(t.annotations.read_only_hint for t in tools), "read-only offers only read-only tools")
        names = {t.name for t in tools}
        check("hockeystack_create_task" not in names and "hockeystack_ask_agent" not in names,
              "read-only offers no writing tool")
        try:
            await session.call_tool("hockeystack_create_task", {"task_title": "x", "task_type": "call"})
            check(False, "a tool left out by --read-only cannot be called")
        except McpError as e:
            check("read-only" in str(e), f"a tool left out by --read-only says why: {e}")

    async with server("--toolsets", "hockeystack_tasks,hyperrep_sales") as session:
        names = sorted(t.name for t in (await session.list_tools()).tools)
        print(f"toolsets hockeystack_tasks,hyperrep_sales: {names}")
        check(names == sorted(["hockeystack_list_tasks", "hockeystack_create_task", "hockeystack_get_task",
                               "hockeystack_update_task", "hockeystack_delete_task",
                               "hyperrep_list_sales", "hyperrep_get_sale"]),
              "toolsets choose exactly their tools")

    async with server("--toolsets", "hyperrep", "--read-only") as session:
        tools = (await session.list_tools()).tools
        check(tools and all(t.name.startswith("hyperrep_") for t in tools), "an API's name chooses its toolsets")

    async with server(env={"REVENUE_AGENTS_MCP_TOOLSETS": "hockeystack_credits",
                           "REVENUE_AGENTS_MCP_READ_ONLY": "true"}) as session:
        names = sorted(t.name for t in (await session.list_tools()).tools)
        check(names == ["hockeystack_credits_balance", "hockeystack_credits_operations", "hockeystack_credits_usage"],
              f"the environment chooses toolsets and read-only: {names}")


async def calls():
    async with server() as session:
        # Reads.
        result, me = await call(session, "hockeystack_me", {})
        check(not result.is_error and "workspace" in me, "hockeystack_me reads the workspace")
        result, orgs = await call(session, "hyperrep_list_organizations", {})
        check(not result.is_error and orgs["data"][0]["organization_id"] == ORGANIZATION,
              "hyperrep_list_organizations lists the organization")

        # Writes.
        result, task = await call(session, "hockeystack_create_task", {
            "task_title": "Call the champion", "task_type": "call", "priority": "high",
            "assignee_id": "user_1", "targets": {"deal_id": "9001234567"}})
        check(not result.is_error and task.get("task_id"), f"hockeystack_create_task creates a task: {task}")
        if task.get("task_id"):
            result, found = await call(session, "hockeystack_get_task", {"taskId": task["task_id"]})
            check(not result.is_error and found["task_title"] == "Call the champion", "the new task reads back")
        result, contact = await call(session, "hyperrep_create_contact", {
            "organization_id": ORGANIZATION, "name": "Ada Lovelace", "email": "ada@example.com"})
        check(not result.is_error, f"hyperrep_create_contact creates a contact: {contact}")

        # The one-call ask, with progress notifications.
        updates = []

        async def on_progress(progress, total, message):
            updates.append((progress, message))

        result, answer = await call(session, "hockeystack_ask_agent",
                                    {"dealId": "9001234567", "question": "What is the biggest risk on this deal?"},
                                    progress_callback=on_progress)
        print(f"ask_agent: {answer.get('answer', answer)!r:.120} after {len(updates)} progress updates")
        check(not result.is_error and answer.get("answer"), f"ask_agent answers: {answer}")
        check(answer.get("cid") and answer.get("dealId") == "9001234567",
              "ask_agent returns the ids to follow up")
        check(len(updates) >= 1 and all(b[0] > a[0] for a, b in zip(updates, updates[1:])),
              f"ask_agent sends increasing progress: {updates}")
        result, again = await call(session, "hockeystack_ask_agent",
                                   {"dealId": "9001234567", "question": "Who should I call first?",
                                    "cid": answer.get("cid", "")})
        check(not result.is_error and again.get("cid") == answer.get("cid"), "a follow-up stays in the conversation")
        result, history = await call(session, "hockeystack_list_deal_conversation_messages",
                                     {"dealId": "9001234567", "cid": answer.get("cid", "")})
        check(not result.is_error and len(history["messages"]) == 4, "the conversation holds both turns")

        # The agent made ready, with progress.
        updates.clear()
        result, agent = await call(session, "hockeystack_ensure_agent", {"companyId": "4400123"},
                                   progress_callback=on_progress)
        check(not result.is_error and agent.get("status") == "active", f"ensure_agent returns an active agent: {agent}")
        check(len(updates) >= 1, "ensure_agent reports progress")

        # A capped list, continued from its cursor, equals one longer walk.
        base = {"organization_id": ORGANIZATION, "limit": 10}
        result, first = await call(session, "hyperrep_list_sales", {**base, "max_items": 25})
        check(not result.is_error and first["count"] == 25 and first["pages"] == 3 and first["next_cursor"],
              f"max_items 25 gathers 25 sales over 3 pages: {first.get('count')}, {first.get('pages')}")
        result, second = await call(session, "hyperrep_list_sales",
                                    {**base, "max_items": 25, "cursor": first.get("next_cursor")})
        updates.clear()
        result, whole = await call(session, "hyperrep_list_sales", {**base, "max_items": 50},
                                   progress_callback=on_progress)
        check(len(updates) == whole["pages"] == 5, f"a capped list reports each page: {updates}")
        ids = [s["sale_id"] for s in first["items"] + second["items"]]
        check(ids == [s["sale_id"] for s in whole["items"]] and len(set(ids)) == 50,
              "25 + 25 from the cursor are the first 50, none lost or repeated")
        result, page = await call(session, "hyperrep_list_sales", base)
        check(len(page["data"]) == 10 and "pagination" in page, "without max_items a list returns the API's page")

        # Errors are results an assistant can act on.
        result, error = await call(session, "hockeystack_get_task", {"taskId": str(uuid.uuid4())})
        check(result.is_error and error["error"]["kind"] == "not_found" and error["error"]["status"] == 404,
              f"a missing task is a not_found result: {error}")
        result, error = await call(session, "hyperrep_list_agents", {"organization_id": "not-an-org"})
        check(result.is_error and error["error"]["status"] == 400 and error["error"]["retryable"] is False,
              f"a bad organization is a 400 result: {error}")
        result, error = await call(session, "hockeystack_get_deal_agent", {"dealId": ".."})
        check(result.is_error and error["error"]["kind"] == "invalid_request",
              "a path parameter that cannot be one segment is refused before sending")

        # Malformed calls: problems named, the server still serves.
        result, error = await call(session, "hockeystack_list_tasks", {"limit": "ten", "colour": "red"})
        found = error.get("error", {}).get("problems", [])
        check(result.is_error and error["error"]["kind"] == "invalid_arguments" and len(found) == 2,
              f"wrong argument types and unknown arguments are named: {found}")
        result, error = await call(session, "hockeystack_create_task", {"task_type": "call", "assignee_id": "u", "targets": {}})
        check(result.is_error and any("task_title" in p for p in error["error"]["problems"]),
              "a missing required argument is named")
        result, error = await call(session, "hockeystack_ask_agent", {"question": "Hi", "dealId": "1", "companyId": "2"})
        check(result.is_error and error["error"]["kind"] == "invalid_arguments", "ask_agent wants one owner")
        try:
            await session.call_tool("hockeystack_no_such_tool", {})
            check(False, "an unknown tool is a protocol error")
        except McpError as e:
            check("unknown tool" in str(e), f"an unknown tool is named: {e}")
        result, me = await call(session, "hockeystack_me", {})
        check(not result.is_error, "the server still serves after malformed calls")

    for text in seen_text:
        for secret in SECRETS:
            check(secret not in text, "no credential appears in any tool result")


HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\U000e0000-\U000e007f]")


async def shaped():
    """Results within a budget of characters, continued without loss; hidden text made visible."""
    async with server("--result-chars", "20000") as session:
        base = {"organization_id": ORGANIZATION, "max_items": 1000}
        ids, cursor, answers, sizes = [], None, 0, []
        while answers < 100:
            result, page = await call(session, "hyperrep_list_sales", {**base, **({"cursor": cursor} if cursor else {})})
            answers += 1
            sizes.append(len("".join(getattr(b, "text", "") for b in result.content)))
            ids += [s["sale_id"] for s in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
            check("cut_by_result_budget" in page, "a list cut at the budget says so")
        print(f"500 sales under a 20000-character budget: {answers} answers, largest {max(sizes)} characters")
        check(max(sizes) <= 20000, f"no answer is over the budget: {max(sizes)}")
        check(len(ids) == len(set(ids)) == 500, f"every sale once across the answers: {len(ids)}, {len(set(ids))}")

        hostile = "Ada\u200b Lovelace\u202etxt.exe\U000e0049\U000e0067\U000e006e\u2066"
        result, contact = await call(session, "hyperrep_create_contact", {
            "organization_id": ORGANIZATION, "name": hostile, "email": "ada.hidden@example.com"})
        text = "".join(getattr(b, "text", "") for b in result.content)
        check(not result.is_error and not HIDDEN.search(text) and "\\u{202E}" in text,
              f"hidden characters in a name come back written out: {text[:200]}")
        result, task = await call(session, "hockeystack_create_task", {
            "task_title": hostile, "task_type": "call", "assignee_id": "user_1",
            "targets": {"deal_id": "9001234567"}})
        result, found = await call(session, "hockeystack_get_task", {"taskId": task.get("task_id", "")})
        check(not result.is_error and found.get("task_title") == "Ada\\u{200B} Lovelace\\u{202E}txt.exe"
              "\\u{E0049}\\u{E0067}\\u{E006E}\\u{2066}",
              f"the id of a task with a hostile title reads it back, written out: {found}")
    async with server("--raw-text") as session:
        result, task = await call(session, "hockeystack_create_task", {
            "task_title": hostile, "task_type": "call", "assignee_id": "user_1",
            "targets": {"deal_id": "9001234567"}})
        check(not result.is_error and task.get("task_title") == hostile,
              "--raw-text passes the title through as it is")


def listing_size(tools):
    return len(json.dumps([t.model_dump(by_alias=True, exclude_none=True) for t in tools], separators=(",", ":")))


async def compact():
    """--compact lists a search-then-call pair that reaches every operation; --tools picks by name."""
    async with server() as session:
        full = (await session.list_tools()).tools
    async with server("--compact") as session:
        tools = (await session.list_tools()).tools
        print(f"tools/list: {listing_size(full)} characters for {len(full)} tools, "
              f"{listing_size(tools)} compact ({len(tools)} tools)")
        check(listing_size(tools) * 4 < listing_size(full), "the compact list is under a quarter of the full one")
        check({t.name for t in tools} == {"find_operations", "call_operation", "hockeystack_ask_agent",
                                          "hockeystack_ensure_agent", "hockeystack_wait_for_job"},
              f"the compact list: {[t.name for t in tools]}")
        result, everything = await call(session, "find_operations", {})
        check(everything["count"] == len(full) and
              {o["tool"] for o in everything["operations"]} == {t.name for t in full},
              f"find_operations lists every operation: {everything.get('count')}")
        result, found = await call(session, "find_operations", {"query": "list sales"})
        sales = next((o for o in found["operations"] if o["tool"] == "hyperrep_list_sales"), None)
        check(sales is not None and "input_schema" in sales, f"a search finds hyperrep_list_sales with its schema: {found}")
        result, page = await call(session, "call_operation", {
            "tool": "hyperrep_list_sales", "arguments": {"organization_id": ORGANIZATION, "limit": 4}})
        check(not result.is_error and len(page["data"]) == 4, "call_operation calls it")
        result, error = await call(session, "call_operation", {"tool": "hyperrep_list_sales", "arguments": {"limit": 0}})
        check(result.is_error and error["error"]["kind"] == "invalid_arguments", "call_operation checks the arguments")
    async with server("--tools", "hockeystack_me,hyperrep_get_sale", "--exclude-tools", "hyperrep_get_sale") as session:
        tools = (await session.list_tools()).tools
        check([t.name for t in tools] == ["hockeystack_me"], f"--tools and --exclude-tools: {[t.name for t in tools]}")


async def modern():
    """Protocol 2026-07-28: server/discover instead of initialize, then the same tools."""
    async with server(discover=True) as session:
        found = session.discover_result
        check(found is not None and "2026-07-28" in found.supported_versions,
              f"server/discover offers 2026-07-28: {found and found.supported_versions}")
        tools = (await session.list_tools()).tools
        check(len(tools) == 59, f"at 2026-07-28: 59 tools, got {len(tools)}")
        result, answer = await call(session, "hockeystack_ask_agent",
                                    {"dealId": "9001234567", "question": "Any risk?"})
        check(not result.is_error and answer.get("answer"), f"at 2026-07-28: ask_agent answers: {answer}")


async def tasks_extension():
    """At 2026-07-28 with the tasks extension: the ask is a task to poll, fetch or cancel."""
    raw = TypeAdapter(dict[str, Any])

    async def poll(session, task_id):
        seen = []
        while True:
            state = await session.send_request(GetTask(params=TaskParams(task_id=task_id)), raw)
            seen.append(state.get("statusMessage"))
            if state["status"] not in ("working", "input_required"):
                return state, seen
            await anyio.sleep(0.1)

    async with server(discover=True, tasks=True) as session:
        created = await session.call_tool("hockeystack_ask_agent", {"dealId": "9001234567", "question": "Any risk?"},
                                          allow_claimed=True)
        check(isinstance(created, CreatedTask), f"with the tasks extension the ask is a task: {created!r:.200}")
        if isinstance(created, CreatedTask):
            state, seen = await poll(session, created.task_id)
            answer = state.get("result", {}).get("structuredContent", {})
            check(state["status"] == "completed" and answer.get("answer"), f"the task completes with the answer: {state!r:.300}")
            check(any(seen), "the task's status message follows the wait")
        result, me = await call(session, "hockeystack_me", {})
        check(not result.is_error and "workspace" in me, "a short tool is answered in the call beside tasks")
    async with server(discover=True, tasks=True, job_seconds="600") as session:
        refuse_next_stream(".ci/work/mcp-server.log")
        created = await session.call_tool("hockeystack_ask_agent", {"dealId": "9001234567", "question": "Slowly."},
                                          allow_claimed=True)
        if isinstance(created, CreatedTask):
            await anyio.sleep(1)
            await session.send_request(CancelTask(params=TaskParams(task_id=created.task_id)), raw)
            state = {}
            with anyio.move_on_after(10):
                state, _ = await poll(session, created.task_id)
            check(state["status"] == "cancelled", f"a cancelled task ends cancelled: {state.get('status')}")


def refuse_next_stream(log):
    """Makes the sandbox refuse the next streamed message (406, nothing stored), so that the ask
    falls back to a job, which takes the sandbox's job time."""
    # The log may hold earlier servers too: the running one wrote last.
    base = "http://" + re.findall(r"http://([0-9.:]+)", open(log).read())[-1]
    rule = {"fault": {"kind": "respond", "status": 406,
                      "body": {"error": {"code": "request.not_acceptable", "message": "No streams."}}},
            "method": "POST", "path_prefix": "/api/revenue-agents/v1/deals/9001234567/conversations/",
            "times": 1}
    request = urllib.request.Request(base + "/__sandbox/faults", data=json.dumps(rule).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request).close()
    return base


async def cancelled():
    """A cancelled ask stops waiting: no more checks of its job reach the service."""
    log = ".ci/work/mcp-cancel.log"
    open(log, "w").close()
    async with server(job_seconds="60", log=log) as session:
        base = refuse_next_stream(log)

        def job_checks():
            with urllib.request.urlopen(base + "/__sandbox/requests") as answer:
                return sum(1 for r in json.load(answer) if "/messages/jobs/" in r["path"])

        result, _ = await call(session, "hockeystack_ensure_agent", {"dealId": "9001234567"})
        check(not result.is_error, "the agent is ready before the ask")
        with anyio.move_on_after(4):
            await session.call_tool("hockeystack_ask_agent",
                                    {"dealId": "9001234567", "question": "Take your time."})
        await anyio.sleep(0.5)
        at_cancel = job_checks()
        await anyio.sleep(6)
        check(at_cancel >= 1 and job_checks() == at_cancel,
              f"a cancelled ask stops checking its job ({at_cancel} checks, then {job_checks()})")
        result, me = await call(session, "hockeystack_me", {})
        check(not result.is_error, "the server serves after a cancelled call")


async def over_http():
    """The same server over streamable HTTP on loopback (--http)."""
    log = open(".ci/work/mcp-http.log", "w")
    process = subprocess.Popen([BINARY, "--sandbox", "--sandbox-provisioning-seconds", "0.2",
                                "--sandbox-job-seconds", "0.2", "--http", "0"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                               env={"PATH": "/usr/bin:/bin"})
    try:
        url = None
        for _ in range(100):
            found = re.search(r"serving MCP at (http://\S+/mcp)", open(".ci/work/mcp-http.log").read())
            if found:
                url = found.group(1)
                break
            time.sleep(0.1)
        check(url is not None, "--http says where it serves")
        if url is None:
            return
        async with streamable_http_client(url) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                check(len(tools) == 59, f"over HTTP: 59 tools, got {len(tools)}")
                result, me = await call(session, "hockeystack_me", {})
                check(not result.is_error and "workspace" in me, "over HTTP: hockeystack_me reads")
                updates = []

                async def on_progress(progress, total, message):
                    updates.append(progress)

                result, answer = await call(session, "hockeystack_ask_agent",
                                            {"dealId": "9001234567", "question": "Any risk?"},
                                            progress_callback=on_progress)
                check(not result.is_error and answer.get("answer") and updates,
                      f"over HTTP: ask_agent answers with progress ({len(updates)} updates)")

        # A page elsewhere, or a name that resolves here by DNS rebinding, gets nothing.
        initialize = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "probe", "version": "1"}}}).encode()
        for name, headers in [("a foreign Host", {"Host": "attacker.example"}),
                              ("a foreign Origin", {"Origin": "https://attacker.example"})]:
            request = urllib.request.Request(url, data=initialize, method="POST", headers={
                "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                **headers})
            try:
                with urllib.request.urlopen(request) as answer:
                    status = answer.status
            except urllib.error.HTTPError as e:
                status = e.code
            check(status in (400, 403), f"over HTTP: {name} is refused (got {status})")
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


async def main():
    await tool_lists()
    await calls()
    await shaped()
    await compact()
    await modern()
    await tasks_extension()
    await cancelled()
    await over_http()
    print(f"{checks} checks, {len(problems)} problems")
    sys.exit(1 if problems else 0)


asyncio.run(main())
