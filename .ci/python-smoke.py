"""Drives the Python clients generated from our specs against the sandbox.

A spec that validates can still describe an API no client can actually talk to; this runs a
few real calls of each generated client and checks what comes back.
Usage: python python-smoke.py http://127.0.0.1:PORT
"""
import datetime
import sys
import time

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
from hockeystack_client.api.tasks import list_tasks  # noqa: E402
from hockeystack_client.models import CreateConversationRequest, SendMessageRequest  # noqa: E402
from hyperrep_client import AuthenticatedClient as HyperRep  # noqa: E402
from hyperrep_client.api.analytics import get_conversation_analytics  # noqa: E402
from hyperrep_client.api.organizations import list_organizations  # noqa: E402
from hyperrep_client.api.sales import list_sales  # noqa: E402

base = sys.argv[1].rstrip("/")
checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise SystemExit(f"python client check failed: {what}")
    checks += 1


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
    client=hs, deal_id="py-deal", cid=conversation.conversation_id, body=SendMessageRequest(message="Biggest risk?")
)
check(job.status == "pending", "message job accepted")
for _ in range(100):
    polled = get_deal_message_job.sync(client=hs, deal_id="py-deal", cid=conversation.conversation_id, job_id=job.job_id)
    if polled.status != "pending":
        break
    time.sleep(0.1)
check(polled.status == "completed" and "Biggest risk" in polled.result.messages[0].content, "job completes")
tasks = list_tasks.sync(client=hs, limit=2)
check(len(tasks.tasks) == 2 and tasks.next_cursor, "tasks page")
check(credits_balance.sync(client=hs).monthly_used_credits > 0, "credits consumed")

hr = HyperRep(base_url=base, token="hr_sandbox_key", prefix="", auth_header_name="X-API-KEY", raise_on_unexpected_status=True)
org = list_organizations.sync(client=hr).data[0]
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
