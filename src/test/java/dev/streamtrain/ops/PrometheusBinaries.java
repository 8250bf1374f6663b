package dev.streamtrain.ops;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real Prometheus tools the monitoring tests run: {@code promtool} and the {@code prometheus} server, from the
 * PATH (Debian's {@code prometheus} package puts both in /usr/bin) or from {@code PROMTOOL_BIN} /
 * {@code PROMETHEUS_BIN}. A missing tool is a failure that says how to install it, never a skipped test.
 */
final class PrometheusBinaries {

    /** What a promtool run printed (stdout and stderr together) and how it exited. */
    record Result(int exitCode, String output) {
    }

    private PrometheusBinaries() {
    }

    static Path promtool() {
        return find("PROMTOOL_BIN", "promtool");
    }

    static Path prometheus() {
        return find("PROMETHEUS_BIN", "prometheus");
    }

    /**
     * Runs promtool with the arguments in the given directory and waits for it (at most a minute; a promtool that
     * has not finished by then is killed and the run fails). Its output goes to a temporary file, so that waiting
     * does not depend on reading it.
     */
    static Result promtool(Path directory, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(promtool().toString());
        command.addAll(List.of(arguments));
        Path output = Files.createTempFile("promtool-", ".out");
        try {
            Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException("promtool " + String.join(" ", arguments) + " did not finish in 60 s;"
                        + " its output so far:\n" + Files.readString(output, StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static Path find(String variable, String name) {
        String override = System.getenv(variable);
        if (override != null && !override.isBlank()) {
            Path path = Path.of(override);
            if (!Files.isExecutable(path)) {
                throw new IllegalStateException(variable + "=" + override + " is not an executable file");
            }
            return path;
        }
        for (String directory : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(directory.isEmpty() ? "." : directory, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException(name + " is not on the PATH and " + variable + " is not set: the monitoring"
                + " tests run the real Prometheus tools. Install them with `apt-get install prometheus` (Debian,"
                + " Ubuntu; .ci/run does) or set " + variable + " to the binary.");
    }
}
