// Drives the Java client that openapi-generator (native library) makes from the HockeyStack
// spec against the sandbox: the quickstart flow (agent, conversation, message job) and the
// task list. Built and run by .ci/conformance: java HockeyStackFlow http://127.0.0.1:PORT
import java.net.URI;
import org.openapitools.client.ApiClient;
import org.openapitools.client.api.AgentsApi;
import org.openapitools.client.api.ConversationsApi;
import org.openapitools.client.api.ServiceApi;
import org.openapitools.client.api.TasksApi;
import org.openapitools.client.model.AgentState;
import org.openapitools.client.model.CreateConversationRequest;
import org.openapitools.client.model.MessageJob;
import org.openapitools.client.model.MessageJobAccepted;
import org.openapitools.client.model.ContentText;
import org.openapitools.client.model.MessageText;
import org.openapitools.client.model.SendMessageRequest;
import org.openapitools.client.model.TaskList;

public class HockeyStackFlow {
    public static void main(String[] args) throws Exception {
        URI base = Checks.base(args);
        ApiClient client = new ApiClient();
        client.setScheme(base.getScheme()).setHost(base.getHost()).setPort(base.getPort())
            .setBasePath("/api/revenue-agents/v1");
        client.setRequestInterceptor(request -> request.header("Authorization", "Bearer hsr_live_sandbox"));
        String dealId = "java-deal";

        Checks.check("Sandbox workspace".equals(new ServiceApi(client).me().getWorkspace().getName()), "me");
        AgentsApi agents = new AgentsApi(client);
        agents.initDealAgent(dealId, null);
        AgentState agent = agents.getDealAgent(dealId);
        for (int i = 0; i < 100 && !"active".equals(agent.getStatus()); i++) {
            Thread.sleep(100);
            agent = agents.getDealAgent(dealId);
        }
        Checks.check("active".equals(agent.getStatus()), "the agent becomes active");

        ConversationsApi conversations = new ConversationsApi(client);
        String cid = conversations.createDealConversation(dealId, new CreateConversationRequest()).getConversationId();
        // The generated call accepts JSON and the event stream equally; the job is its answer.
        MessageJobAccepted job = conversations.sendDealMessage(dealId, cid,
            new SendMessageRequest(new MessageText().message("Biggest risk?")));
        Checks.check("pending".equals(job.getStatus()), "the message job is accepted");
        MessageJobAccepted quickstart = conversations.sendDealMessage(dealId, cid,
            new SendMessageRequest(new ContentText().content("And the next step?")));
        Checks.check("pending".equals(quickstart.getStatus()), "a message sent as `content` is accepted too");
        MessageJob polled = conversations.getDealMessageJob(dealId, cid, job.getJobId());
        for (int i = 0; i < 100 && "pending".equals(polled.getStatus()); i++) {
            Thread.sleep(100);
            polled = conversations.getDealMessageJob(dealId, cid, job.getJobId());
        }
        Checks.check("completed".equals(polled.getStatus()) && polled.getResult() != null
            && !polled.getResult().getMessages().isEmpty(), "the job completes with the reply");

        TaskList tasks = new TasksApi(client).listTasks(null, 50);
        Checks.check(!tasks.getTasks().isEmpty(), "tasks are listed");
        // The create-task page's field list requires only `task_id` and `status`; `created_at` may be null.
        Checks.answerNext(base, "GET", "/api/revenue-agents/v1/tasks", "{\"tasks\": ["
            + "{\"task_id\": \"0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e03\", \"status\": \"pending\"},"
            + "{\"task_id\": \"0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e04\", \"status\": \"pending\", \"created_at\": null}],"
            + "\"next_cursor\": null}");
        TaskList bare = new TasksApi(client).listTasks(null, null);
        Checks.check(bare.getTasks().size() == 2 && bare.getTasks().get(0).getCreatedAt() == null
            && bare.getTasks().get(1).getCreatedAt() == null, "tasks with only their required fields decode");
        Checks.decodePageDocuments("hockeystack", args[1]);
        System.out.println("java client (hockeystack): " + Checks.passed() + " passed, 0 failed");
    }
}
