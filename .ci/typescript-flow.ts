// Drives the TypeScript clients that openapi-generator's typescript-fetch makes from our specs
// against the sandbox: a short flow per API, then bodies carrying what the specs say may appear
// (values added to open sets, documented nulls), sent by the sandbox on request.
// Built and run by .ci/conformance: node flow.js http://127.0.0.1:PORT PAGE_DOCUMENTS.json
import { readFileSync } from "fs";
import * as hs from "./hockeystack";
import * as hr from "./hyperrep";

const base = process.argv[2].replace(/\/$/, "");
let checks = 0;

function check(condition: boolean, what: string): void {
  if (!condition) {
    throw new Error(`typescript client check failed: ${what}`);
  }
  checks += 1;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Makes the sandbox answer the next matching request with this body.
async function answerNext(method: string, path: string, body: unknown, status = 200): Promise<void> {
  const rule = { fault: { kind: "respond", status, body }, method, path_prefix: path, times: 1 };
  const response = await fetch(`${base}/__sandbox/faults`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(rule),
  });
  check(response.status === 204, "the sandbox took the canned answer");
}

async function hockeystack(): Promise<void> {
  const config = new hs.Configuration({
    basePath: `${base}/api/revenue-agents/v1`,
    accessToken: "hsr_live_sandbox",
  });
  const agents = new hs.AgentsApi(config);
  const conversations = new hs.ConversationsApi(config);
  const tasks = new hs.TasksApi(config);
  const dealId = "ts-deal";

  check((await new hs.ServiceApi(config).me()).workspace.name === "Sandbox workspace", "me");
  await agents.initDealAgent({ dealId });
  let agent = await agents.getDealAgent({ dealId });
  for (let i = 0; i < 100 && agent.status !== "active"; i++) {
    await sleep(100);
    agent = await agents.getDealAgent({ dealId });
  }
  check(agent.status === "active", "the agent becomes active");
  const conversation = await conversations.createDealConversation({ dealId, createConversationRequest: {} });
  const cid = conversation.conversationId;
  // The non-streaming call's result is typed as the job.
  const job: hs.MessageJobAccepted = await conversations.sendDealMessage({
    dealId,
    cid,
    sendMessageRequest: { message: "Biggest risk?" },
  });
  check(job.status === "pending", "the message job is accepted");
  let polled = await conversations.getDealMessageJob({ dealId, cid, jobId: job.jobId });
  for (let i = 0; i < 100 && polled.status === "pending"; i++) {
    await sleep(100);
    polled = await conversations.getDealMessageJob({ dealId, cid, jobId: job.jobId });
  }
  check(polled.status === "completed" && (polled.result?.messages?.length ?? 0) > 0, "the job completes");
  // The quickstart's spelling of the same body.
  const quickstart = await conversations.sendDealMessage({
    dealId,
    cid,
    sendMessageRequest: { content: "And the next step?" },
  });
  check(quickstart.status === "pending", "a message sent as `content` is accepted too");
  // A body without text must not type-check: tsc fails this file if the line below compiles.
  // @ts-expect-error neither `message` nor `content`
  const empty: hs.SendMessageRequest = { stream: false };
  void empty;

  const created = await tasks.createTask({
    taskCreate: {
      taskType: hs.TaskType.Call,
      taskTitle: "Call the champion",
      assigneeId: "user-7",
      targets: { dealId },
    },
  });
  check(created.status === "pending", "a task is created");
  const listed: string[] = [];
  let cursor: string | undefined = undefined;
  do {
    const page: hs.TaskList = await tasks.listTasks({ limit: 50, cursor });
    listed.push(...page.tasks.map((t) => t.taskId));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  check(listed.includes(created.taskId), "the new task is listed");

  const prefix = "/api/revenue-agents/v1";
  await answerNext("GET", `${prefix}/deals/${dealId}/agent`, { deal_id: dealId, status: "paused" });
  check((await agents.getDealAgent({ dealId })).status === "paused", "a new agent status decodes");
  await answerNext("GET", `${prefix}/tasks`, {
    tasks: [
      { task_id: "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e01", status: "snoozed", priority: "critical",
        task_type: "meeting", created_at: "2026-05-22T10:00:00Z" },
      { task_id: "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e02", status: "pending", priority: null,
        task_title: null, due_date: null, created_at: "2026-05-22T10:00:00Z" },
    ],
    next_cursor: null,
  });
  const odd = (await tasks.listTasks()).tasks;
  check(odd[0].status === "snoozed" && odd[0].priority === "critical", "new task values decode");
  check(odd[1].priority === null && odd[1].dueDate === null, "documented nulls decode");
  // The create-task page's field list requires only `task_id` and `status`; `created_at` may be null.
  await answerNext("GET", `${prefix}/tasks`, {
    tasks: [
      { task_id: "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e03", status: "pending" },
      { task_id: "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e04", status: "pending", created_at: null },
    ],
    next_cursor: null,
  });
  const bare = (await tasks.listTasks()).tasks;
  check(bare.length === 2 && bare.every((t) => !t.createdAt), "tasks with only their required fields decode");
}

async function hyperrep(): Promise<void> {
  const config = new hr.Configuration({ basePath: base, apiKey: "hr_sandbox_key" });
  const organizationId = (await new hr.OrganizationsApi(config).listOrganizations()).data[0].organizationId;
  const agents = await new hr.AgentsApi(config).listAgents({ organizationId, limit: 25 });
  check(agents.data.length > 0, "agents are listed");

  const sales = new hr.SalesApi(config);
  const seen: string[] = [];
  let cursor: string | undefined = undefined;
  for (;;) {
    const page: hr.SalePage = await sales.listSales({ organizationId, limit: 100, cursor });
    seen.push(...page.data.map((s) => s.saleId));
    if (!page.pagination.hasMore) break;
    cursor = page.pagination.nextCursor ?? undefined;
  }
  check(seen.length > 100 && new Set(seen).size === seen.length, `every sale paged through once (${seen.length})`);

  const now = new Date();
  const stats = await new hr.AnalyticsApi(config).getConversationAnalytics({
    organizationId,
    startDate: new Date(now.getTime() - 30 * 86_400_000),
    endDate: now,
  });
  check((stats.volumeStats.totalConversations ?? 0) > 0, "analytics");

  const saleId = seen[0];
  const sale = await sales.getSaleRaw({ organizationId, saleId }).then((r) => r.raw.json());
  await answerNext("GET", `/api/v2/organizations/${organizationId}/sales/${saleId}`, {
    ...sale, quote_details: null, custom_fields: null, current_status: null, owner_id: null,
  });
  const bare = await sales.getSale({ organizationId, saleId });
  check(bare.quoteDetails === null && bare.currentStatus === null && bare.customFields === null,
    "a sale's documented nulls decode");
}

// Every answer of the pages' documents file (.ci/vendor-examples.py writes it), decoded by the
// model of its schema's name; the generated `instanceOf…` then says whether every property the
// model requires came through.
function decodePageDocuments(file: string): void {
  const modules: Record<string, Record<string, unknown>> = { hockeystack: hs, hyperrep: hr };
  const documents = JSON.parse(readFileSync(file, "utf8")) as
    { api: string; schema: string; why: string; document: unknown }[];
  for (const { api, schema, why, document } of documents) {
    const fromJson = modules[api][`${schema}FromJSON`] as ((json: unknown) => object) | undefined;
    const isOne = modules[api][`instanceOf${schema}`] as ((value: object) => boolean) | undefined;
    check(fromJson !== undefined && isOne !== undefined, `${api} has a model ${schema}`);
    check(isOne!(fromJson!(document)), `${schema} (${why}) decodes with every required property`);
  }
  check(documents.length > 0, "the pages give answers to decode");
}

(async () => {
  await hockeystack();
  await hyperrep();
  decodePageDocuments(process.argv[3]);
  console.log(`typescript clients: ${checks} passed, 0 failed`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
