package dev.streamtrain.support;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** What the tests' helper processes (broker, S3 API server, Prometheus) share. */
public final class Processes {

    private Processes() {
    }

    /** Ends the process: SIGTERM, then SIGKILL if it has not exited within {@code grace}; waits for it to end. */
    public static void terminate(Process process, Duration grace) {
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
