package dev.streamtrain.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One container of the streamtrain image run with podman (no daemon), locked down as the Kubernetes manifests
 * run it: user 185, read-only root filesystem with a tmpfs on /tmp, all capabilities dropped, no privilege
 * escalation, a 1 GiB memory limit. It shares the host's network (no CNI setup needed), so it reaches the
 * broker and the S3 API server on 127.0.0.1 and listens on the port it is given. Its output is saved to
 * {@code target/it-logs/<name>.log} when it is closed, and quoted by {@link #logTail()}.
 */
public final class PodmanContainer implements AutoCloseable {

    private final String name;

    private PodmanContainer(String name) {
        this.name = name;
    }

    /** Starts the image detached with the given environment; does not wait for the service. */
    public static PodmanContainer start(String image, String name, Map<String, String> environment) {
        List<String> command = new ArrayList<>(List.of("run", "--detach", "--name", name, "--network=host",
                "--user", "185", "--read-only", "--tmpfs", "/tmp:rw,mode=1777,size=1g", "--cap-drop=ALL",
                "--security-opt", "no-new-privileges", "--memory", "1g",
                // podman asks for more than a host without CAP_SYS_RESOURCE grants (setrlimit: operation not
                // permitted): 16384 files and 8192 processes, or the host's hard limit when lower
                "--ulimit", "nofile=" + limit("Max open files", 16384), "--ulimit", "nproc=" + limit("Max processes", 8192)));
        environment.forEach((key, value) -> command.add("--env=" + key + "=" + value));
        command.add(image);
        podman("rm", "--force", "--ignore", name);
        podman(command.toArray(String[]::new));
        return new PodmanContainer(name);
    }

    /** Whether the image is in podman's local storage. */
    public static boolean imageExists(String image) {
        return run(List.of("image", "exists", image)).exitCode() == 0;
    }

    /** Runs a command in the container (as its user); its exit code and output. */
    public Result exec(String... command) {
        List<String> arguments = new ArrayList<>(List.of("exec", name));
        arguments.addAll(List.of(command));
        return run(arguments);
    }

    /** A field of {@code podman inspect}, e.g. {@code {{.State.Pid}}} or {@code {{.Config.User}}}. */
    public String inspect(String format) {
        return podman("inspect", "--format", format, name).strip();
    }

    public boolean isRunning() {
        return "true".equals(inspect("{{.State.Running}}"));
    }

    /** The last 60 lines of the container's output. */
    public String logTail() {
        return run(List.of("logs", "--tail", "60", name)).output();
    }

    /** SIGTERM (as Kubernetes stops a pod), up to 30 s for the graceful shutdown; the exit code. */
    public int stop() {
        podman("stop", "--time", "30", name);
        return Integer.parseInt(inspect("{{.State.ExitCode}}"));
    }

    /** Saves the container's whole output to target/it-logs and removes the container. */
    @Override
    public void close() {
        try {
            Path logs = Files.createDirectories(Path.of("target", "it-logs"));
            Files.writeString(logs.resolve(name + ".log"), run(List.of("logs", name)).output());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the log of container " + name, e);
        } finally {
            run(List.of("rm", "--force", "--time", "5", name));
        }
    }

    public record Result(int exitCode, String output) {
    }

    private static String podman(String... arguments) {
        Result result = run(List.of(arguments));
        if (result.exitCode() != 0) {
            throw new IllegalStateException("podman " + String.join(" ", arguments) + " failed with "
                    + result.exitCode() + ":\n" + result.output());
        }
        return result.output();
    }

    // runc, when installed: crun (podman's default) fails where cgroup v1 and v2 are mounted together
    private static Result run(List<String> arguments) {
        List<String> command = new ArrayList<>(List.of("podman"));
        String runtime = System.getenv().getOrDefault("PODMAN_RUNTIME",
                Files.isExecutable(Path.of("/usr/sbin/runc")) || Files.isExecutable(Path.of("/usr/bin/runc")) ? "runc" : "");
        if (!runtime.isEmpty()) {
            command.addAll(List.of("--runtime", runtime));
        }
        command.addAll(arguments);
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(2, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish within 2 minutes");
            }
            return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command) + " (is podman installed?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running podman", e);
        }
    }

    /** {@code wanted}, or the hard limit of this process (a line of /proc/self/limits) when that is lower. */
    private static String limit(String name, long wanted) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith(name)) {
                    String hard = line.substring(name.length()).trim().split("\\s+")[1];
                    long limit = "unlimited".equals(hard) ? wanted : Math.min(wanted, Long.parseLong(hard));
                    return limit + ":" + limit;
                }
            }
            throw new IllegalStateException("no '" + name + "' in /proc/self/limits");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/limits", e);
        }
    }
}
