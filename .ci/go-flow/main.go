// Drives the Go clients that openapi-generator makes from our specs against the sandbox: the
// quickstart flow of HockeyStack (agent, conversation, message job, task) and a HyperRep tour
// (organizations, every sale paged through once). Built and run by .ci/conformance in GOPATH
// mode with the generated packages: go run main.go http://127.0.0.1:PORT
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"hockeystack"
	"hyperrep"
)

var checks = 0

func check(ok bool, what string) {
	if !ok {
		fmt.Fprintf(os.Stderr, "go client check failed: %s\n", what)
		os.Exit(1)
	}
	checks++
}

func must(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "go client check failed: %s: %v\n", what, err)
		os.Exit(1)
	}
}

func hockeystackFlow(base string) {
	cfg := hockeystack.NewConfiguration()
	cfg.Servers = hockeystack.ServerConfigurations{{URL: base + "/api/revenue-agents/v1"}}
	client := hockeystack.NewAPIClient(cfg)
	ctx := context.WithValue(context.Background(), hockeystack.ContextAccessToken, "hsr_live_sandbox")
	dealID := "go-deal"

	me, _, err := client.ServiceAPI.Me(ctx).Execute()
	must(err, "me")
	check(me.Workspace.Name == "Sandbox workspace", "me names the workspace")

	_, _, err = client.AgentsAPI.InitDealAgent(ctx, dealID).Execute()
	must(err, "init the deal agent")
	agent, _, err := client.AgentsAPI.GetDealAgent(ctx, dealID).Execute()
	must(err, "get the deal agent")
	for i := 0; i < 100 && agent.Status != "active"; i++ {
		time.Sleep(100 * time.Millisecond)
		agent, _, err = client.AgentsAPI.GetDealAgent(ctx, dealID).Execute()
		must(err, "get the deal agent")
	}
	check(agent.Status == "active", "the agent becomes active")

	conversation, _, err := client.ConversationsAPI.CreateDealConversation(ctx, dealID).
		CreateConversationRequest(hockeystack.CreateConversationRequest{}).Execute()
	must(err, "open a conversation")
	cid := conversation.ConversationId

	// The text is the variant's required constructor argument; an empty body does not marshal.
	message := hockeystack.MessageTextAsSendMessageRequest(hockeystack.NewMessageText("Biggest risk?"))
	job, _, err := client.ConversationsAPI.SendDealMessage(ctx, dealID, cid).SendMessageRequest(message).Execute()
	must(err, "send a message")
	quickstart := hockeystack.ContentTextAsSendMessageRequest(hockeystack.NewContentText("And the next step?"))
	again, _, err := client.ConversationsAPI.SendDealMessage(ctx, dealID, cid).SendMessageRequest(quickstart).Execute()
	must(err, "send a message as content")
	check(again.Status == "pending", "a message sent as `content` is accepted too")
	_, _, err = client.ConversationsAPI.SendDealMessage(ctx, dealID, cid).SendMessageRequest(hockeystack.SendMessageRequest{}).Execute()
	check(err != nil, "a body with neither spelling is refused before it is sent")
	check(job.Status == "pending", "the message job is accepted")
	polled, _, err := client.ConversationsAPI.GetDealMessageJob(ctx, dealID, cid, job.JobId).Execute()
	must(err, "poll the job")
	for i := 0; i < 100 && polled.Status == "pending"; i++ {
		time.Sleep(100 * time.Millisecond)
		polled, _, err = client.ConversationsAPI.GetDealMessageJob(ctx, dealID, cid, job.JobId).Execute()
		must(err, "poll the job")
	}
	result, ok := polled.GetResultOk()
	check(polled.Status == "completed" && ok && len(result.Messages) > 0, "the job completes with the reply")

	targets := hockeystack.NewTaskTargetsInput()
	targets.SetDealId(dealID)
	created, _, err := client.TasksAPI.CreateTask(ctx).
		TaskCreate(*hockeystack.NewTaskCreate(hockeystack.CALL, "Call the champion", "user-7", *targets)).Execute()
	must(err, "create a task")
	check(created.Status == "pending", "a task is created")
	found := false
	cursor := ""
	for pages := 0; pages < 100; pages++ {
		request := client.TasksAPI.ListTasks(ctx).Limit(50)
		if cursor != "" {
			request = request.Cursor(cursor)
		}
		page, _, err := request.Execute()
		must(err, "list tasks")
		for _, task := range page.Tasks {
			found = found || task.TaskId == created.TaskId
		}
		next := page.NextCursor.Get()
		if next == nil || *next == "" {
			break
		}
		cursor = *next
	}
	check(found, "the new task is listed")

	// The create-task page's field list requires only `task_id` and `status`; `created_at` may be null.
	answerNext(base, "GET", "/api/revenue-agents/v1/tasks", `{"tasks": [
		{"task_id": "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e03", "status": "pending"},
		{"task_id": "0b7e4d7c-2a7e-4c55-9d3e-6a1f0c2b9e04", "status": "pending", "created_at": null}],
		"next_cursor": null}`)
	bare, _, err := client.TasksAPI.ListTasks(ctx).Execute()
	must(err, "list tasks with only their required fields")
	check(len(bare.Tasks) == 2 && bare.Tasks[0].CreatedAt.Get() == nil && bare.Tasks[1].CreatedAt.Get() == nil,
		"tasks with only their required fields decode")
}

// decodePageDocuments decodes every answer of the pages' documents file (.ci/vendor-examples.py
// writes it) into the generated model of its schema's name; the models' UnmarshalJSON refuses
// a missing required property. pageModels (documents.go) is written by .ci/decode-documents.py
// from the same file, since Go cannot find a type by its name.
func decodePageDocuments(file string) {
	data, err := os.ReadFile(file)
	must(err, "read the page documents")
	var documents []struct {
		API      string          `json:"api"`
		Schema   string          `json:"schema"`
		Why      string          `json:"why"`
		Document json.RawMessage `json:"document"`
	}
	must(json.Unmarshal(data, &documents), "parse the page documents")
	for _, d := range documents {
		decode, ok := pageModels[d.API+"."+d.Schema]
		check(ok, "a model for "+d.API+"."+d.Schema)
		must(decode(d.Document), d.Schema+" ("+d.Why+") decodes")
	}
	check(len(documents) > 0, "the pages give answers to decode")
}

// answerNext makes the sandbox answer the next matching request with this JSON body.
func answerNext(base, method, path, body string) {
	rule := fmt.Sprintf(`{"fault": {"kind": "respond", "status": 200, "body": %s}, "method": %q, "path_prefix": %q, "times": 1}`,
		body, method, path)
	response, err := http.Post(base+"/__sandbox/faults", "application/json", strings.NewReader(rule))
	must(err, "set a sandbox answer")
	response.Body.Close()
	check(response.StatusCode < 300, "the sandbox takes the answer")
}

func hyperrepFlow(base string) {
	cfg := hyperrep.NewConfiguration()
	cfg.Servers = hyperrep.ServerConfigurations{{URL: base}}
	client := hyperrep.NewAPIClient(cfg)
	ctx := context.WithValue(context.Background(), hyperrep.ContextAPIKeys,
		map[string]hyperrep.APIKey{"ApiKeyAuth": {Key: "hr_sandbox_key"}})

	organizations, _, err := client.OrganizationsAPI.ListOrganizations(ctx).Execute()
	must(err, "list organizations")
	check(len(organizations.Data) > 0, "an organization is listed")
	organizationID := organizations.Data[0].OrganizationId

	seen := map[string]bool{}
	total := 0
	cursor := ""
	for pages := 0; pages < 1000; pages++ {
		request := client.SalesAPI.ListSales(ctx, organizationID).Limit(100)
		if cursor != "" {
			request = request.Cursor(cursor)
		}
		page, _, err := request.Execute()
		must(err, "list sales")
		for _, sale := range page.Data {
			seen[sale.SaleId] = true
			total++
		}
		next := page.Pagination.NextCursor.Get()
		if !page.Pagination.HasMore || next == nil {
			break
		}
		cursor = *next
	}
	check(total > 100 && len(seen) == total, fmt.Sprintf("every sale paged through once (%d)", total))
}

func main() {
	base := os.Args[1]
	hockeystackFlow(base)
	hyperrepFlow(base)
	decodePageDocuments(os.Args[2])
	fmt.Printf("go clients: %d passed, 0 failed\n", checks)
}
