// The checks both Java flows count, and the base URI they point a generated client at.
import java.net.URI;

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
}
