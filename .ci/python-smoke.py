"""Drives the Python clients generated from our specs against the sandbox.

A spec that validates can still describe an API no client can actually talk to; this runs a
short flow of each generated client and checks what comes back, including bodies that carry
what the specs say may appear: values added to open sets after the spec was written, and
nulls where they are documented. The sandbox is told to send those through its admin route.
Usage: python python-smoke.py http://127.0.0.1:PORT
"""
import datetime
import json
import sys
import time
import urllib.request

sys.path.insert(0, ".ci/work/py")

from hockeystack_client import AuthenticatedClient as HockeyStack  # noqa: E402
from hockeystack_client.api.agents import get_deal_agent, init_deal_agent  # noqa: E402
from hockeystack_client.api.conversations import (  # noqa: E402
    create_deal_conversation,
    get_deal_message_job,
    send_deal_message,
)
from hockeystack_client.api.credits_ import credits_balance  # noqa: E402
from hockeystack_client.api.service import health, me  # noqa: E402
from hockeystack_client.api.tasks import create_task, list_tasks  # noqa: E402
from hockeystack_client.models import (  # noqa: E402
    ContentText,
    CreateConversationRequest,
    MessageText,
    Task,
    TaskCreate,
    TaskTargetsInput,
    TaskType,
)
from hyperrep_client import AuthenticatedClient as HyperRep  # noqa: E402
from hyperrep_client.api.agents import list_agents  # noqa: E402
from hyperrep_client.api.analytics import get_conversation_analytics  # noqa: E402
from hyperrep_client.api.organizations import list_organizations  # noqa: E402
from hyperrep_client.api.sales import get_sale, list_sales  # noqa: E402

base = sys.argv[1].rstrip("/")
checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise SystemExit(f"python client check failed: {what}")
    checks += 1


def answer_next(method, path, body, status=200):
    """Makes the sandbox answer the next matching request with this body."""
    rule = {"fault": {"kind": "respond", "status": status, "body": body}, "method": method,
            "path_prefix": path, "times": 1}
    request = urllib.request.Request(f"{base}/__sandbox/faults", data=json.dumps(rule).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request).close()


hs = HockeyStack(base_url=f"{base}/api/revenue-agents/v1", token="hsr_live_sandbox", raise_on_unexpected_status=True)
check(health.sync_detailed(client=hs).status_code == 200, "health")
check(me.sync(client=hs).workspace.name == "Sandbox workspace", "me")
check(init_deal_agent.sync_detailed(client=hs, deal_id="py-deal").status_code == 202, "init agent")
for _ in range(100):
    agent = get_deal_agent.sync(client=hs, deal_id="py-deal")
    if agent.status == "active":
        break
    time.sleep(0.1)
check(agent.status == "active", "agent becomes active")
conversation = create_deal_conversation.sync(client=hs, deal_id="py-deal", body=CreateConversationRequest())
check(bool(conversation.conversation_id), "conversation")
job = send_deal_message.sync(
    client=hs, deal_id="py-deal", cid=conversation.conversation_id, body=MessageText(message="Biggest risk?")
)
check(job.status == "pending", "message job accepted")
# The quickstart's spelling, and the streamed reply the spec declares under 2XX (typed as text).
again = send_deal_message.sync(
    client=hs, deal_id="py-deal", cid=conversation.conversation_id, body=ContentText(content="And next?")
)
check(again.status == "pending", "message sent as `content` accepted")
try:
    MessageText()  # type: ignore[call-arg]
    check(False, "a message without its text is refused")
except TypeError:
    check(True, "a message without its text is refused")
streamed = send_deal_message.sync_detailed(
    client=hs, deal_id="py-deal", cid=conversation.conversation_id,
    body=MessageText(message="Stream it", stream=True),
)
check(streamed.status_code == 200 and isinstance(streamed.parsed, str)
      and "event: done" in streamed.parsed, "streamed reply arrives as the declared event-stream text")
for _ in range(100):
    polled = get_deal_message_job.sync(client=hs, deal_id="py-deal", cid=conversation.conversation_id, job_id=job.job_id)
    if polled.status != "pending":
        break
    time.sleep(0.1)
check(polled.status == "completed" and "Biggest risk" in polled.result.messages[0].content, "job completes")
tasks = list_tasks.sync(client=hs, limit=2)
check(len(tasks.tasks) == 2 and tasks.next_cursor, "tasks page")
created = create_task.sync(client=hs, body=TaskCreate(
    task_type=TaskType.CALL, task_title="Call the champion", assignee_id="user-7",
    targets=TaskTargetsInput(deal_id="py-deal")))
check(isinstance(created, Task) and created.status == "pending", "task created")
listed, cursor = [], None
while True:
    page = list_tasks.sync(client=hs, limit=50, **({"cursor": cursor} if cursor else {}))
    listed += [t.task_id for t in page.tasks]
    cursor = page.next_cursor
    if not cursor:
        break
check(created.task_id in listed, "the new task is listed")
check(credits_balance.sync(client=hs).monthly_used_credits > 0, "credits consumed")

# What the spec says may appear: new values of open sets, documented nulls.
hs_base = "/api/revenue-agents/v1"
answer_next("GET", f"{hs_base}/deals/py-deal/agent", {"deal_id": "py-deal", "status": "paused"})
check(get_deal_agent.sync(client=hs, deal_id="py-deal").status == "paused", "a new agent status decodes")
answer_next("GET", f"{hs_base}/tasks", {"tasks": [
    {"task_id": "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e01", "status": "snoozed", "priority": "critical", "task_type": "meeting",
     "created_at": "2026-05-22T10:00:00Z"},
    {"task_id": "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e02", "status": "pending", "priority": None, "task_type": None, "task_title": None,
     "agent_id": None, "due_date": None, "created_at": "2026-05-22T10:00:00Z"}], "next_cursor": None})
odd = list_tasks.sync(client=hs).tasks
check(odd[0].status == "snoozed" and odd[0].priority == "critical", "new task status and priority decode")
check(odd[1].priority is None and odd[1].due_date is None, "documented nulls decode")
# The create-task page's field list requires only `task_id` and `status`; `created_at` may be null.
answer_next("GET", f"{hs_base}/tasks", {"tasks": [
    {"task_id": "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e03", "status": "pending"},
    {"task_id": "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e04", "status": "pending", "created_at": None}], "next_cursor": None})
bare = list_tasks.sync(client=hs).tasks
check(len(bare) == 2 and all(not t.created_at for t in bare), "tasks with only their required fields decode")
answer_next("GET", f"{hs_base}/deals/py-deal/conversations/c/messages/jobs/j",
            {"job_id": "j", "conversation_id": "c", "status": "queued"})
check(get_deal_message_job.sync(client=hs, deal_id="py-deal", cid="c", job_id="j").status == "queued",
      "a new job status decodes")

hr = HyperRep(base_url=base, token="hr_sandbox_key", prefix="", auth_header_name="X-API-KEY", raise_on_unexpected_status=True)
org = list_organizations.sync(client=hr).data[0]
agents = list_agents.sync(client=hr, organization_id=org.organization_id, limit=25)
check(len(agents.data) > 0 and all(a.agent_id for a in agents.data), "agents listed")
seen, cursor = [], None
while True:
    page = list_sales.sync(client=hr, organization_id=org.organization_id, limit=100,
                           **({"cursor": cursor} if cursor else {}))
    seen += [s.sale_id for s in page.data]
    cursor = page.pagination.next_cursor
    if not page.pagination.has_more:
        break
check(len(seen) == len(set(seen)) and len(seen) > 100, f"every sale paged through once ({len(seen)})")
sale = get_sale.sync(client=hr, organization_id=org.organization_id, sale_id=seen[0])
answer_next("GET", f"/api/v2/organizations/{org.organization_id}/sales/{seen[0]}",
            {**sale.to_dict(), "quote_details": None, "custom_fields": None, "current_status": None,
             "owner_id": None})
bare = get_sale.sync(client=hr, organization_id=org.organization_id, sale_id=seen[0])
check(bare.quote_details is None and bare.current_status is None, "a sale's documented nulls decode")
first = list_sales.sync(client=hr, organization_id=org.organization_id, limit=5)
check(len(first.data) == 5 and first.pagination.has_more, "first sales page")
second = list_sales.sync(client=hr, organization_id=org.organization_id, limit=5, cursor=first.pagination.next_cursor)
check({s.sale_id for s in first.data}.isdisjoint(s.sale_id for s in second.data), "second sales page is new")
now = datetime.datetime.now(datetime.timezone.utc)
stats = get_conversation_analytics.sync(
    client=hr, organization_id=org.organization_id, start_date=now - datetime.timedelta(days=30), end_date=now
)
check(stats.volume_stats.total_conversations > 0, "analytics")
print(f"python clients: {checks} passed, 0 failed")
