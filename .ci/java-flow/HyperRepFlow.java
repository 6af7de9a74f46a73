// Drives the Java client that openapi-generator (native library) makes from the HyperRep spec
// against the sandbox: organizations, then every sale paged through once. Built and run by
// .ci/conformance: java HyperRepFlow http://127.0.0.1:PORT
import java.net.URI;
import java.util.HashSet;
import java.util.Set;
import org.openapitools.client.ApiClient;
import org.openapitools.client.api.OrganizationsApi;
import org.openapitools.client.api.SalesApi;
import org.openapitools.client.model.Sale;
import org.openapitools.client.model.SalePage;

public class HyperRepFlow {
    public static void main(String[] args) throws Exception {
        URI base = Checks.base(args);
        ApiClient client = new ApiClient();
        client.setScheme(base.getScheme()).setHost(base.getHost()).setPort(base.getPort()).setBasePath("");
        client.setRequestInterceptor(request -> request.header("X-API-KEY", "hr_sandbox_key"));

        String organizationId = new OrganizationsApi(client).listOrganizations().getData().get(0).getOrganizationId();
        Checks.check(organizationId != null && !organizationId.isEmpty(), "an organization is listed");
        SalesApi sales = new SalesApi(client);
        Set<String> seen = new HashSet<>();
        int total = 0;
        String cursor = null;
        for (int pages = 0; pages < 1000; pages++) {
            SalePage page = sales.listSales(organizationId, 100, cursor, null, null);
            for (Sale sale : page.getData()) {
                seen.add(sale.getSaleId());
                total++;
            }
            cursor = page.getPagination().getNextCursor();
            if (!Boolean.TRUE.equals(page.getPagination().getHasMore()) || cursor == null) {
                break;
            }
        }
        Checks.check(total > 100 && seen.size() == total, "every sale paged through once (" + total + ")");
        Checks.decodePageDocuments("hyperrep", args[1]);
        System.out.println("java client (hyperrep): " + Checks.passed() + " passed, 0 failed");
    }
}
