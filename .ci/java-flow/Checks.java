// The checks both Java flows count, the base URI they point a generated client at, and the
// sandbox's next answer set by hand.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

final class Checks {
    private static int passed = 0;

    private Checks() {}

    static void check(boolean ok, String what) {
        if (!ok) {
            System.err.println("java client check failed: " + what);
            System.exit(1);
        }
        passed++;
    }

    static int passed() {
        return passed;
    }

    static URI base(String[] args) {
        return URI.create(args[0]);
    }

    /**
     * Decodes every answer of the pages' documents file (.ci/vendor-examples.py writes it) that
     * belongs to this API with the generated model of its schema's name, through the mapper
     * the generated client uses.
     */
    static void decodePageDocuments(String api, String file) throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper mapper =
            org.openapitools.client.ApiClient.createDefaultObjectMapper();
        int decoded = 0;
        for (com.fasterxml.jackson.databind.JsonNode document : mapper.readTree(new java.io.File(file))) {
            if (!api.equals(document.get("api").asText())) {
                continue;
            }
            String schema = document.get("schema").asText();
            try {
                Object value = mapper.treeToValue(document.get("document"),
                    Class.forName("org.openapitools.client.model." + schema));
                check(value != null, schema + " decodes");
                decoded++;
            } catch (Exception error) {
                check(false, schema + " (" + document.get("why").asText() + ") decodes: " + error.getMessage());
            }
        }
        check(decoded > 0, "the pages give " + api + " answers to decode");
    }

    /** Makes the sandbox answer the next matching request with this JSON body. */
    static void answerNext(URI base, String method, String path, String body) throws Exception {
        String rule = "{\"fault\": {\"kind\": \"respond\", \"status\": 200, \"body\": " + body
            + "}, \"method\": \"" + method + "\", \"path_prefix\": \"" + path + "\", \"times\": 1}";
        HttpResponse<Void> response = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(base.resolve("/__sandbox/faults"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(rule)).build(),
            HttpResponse.BodyHandlers.discarding());
        check(response.statusCode() < 300, "the sandbox takes the answer");
    }
}
