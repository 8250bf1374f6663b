package dev.streamtrain.engine;

import org.jboss.logging.Logger;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code PyTorchPeer} in its own JVM on the test classpath, driven one command at a time over its stdin and
 * stdout. The peer's sources compile only in the {@code benchmark} Maven profile (it needs DJL). Its stderr goes
 * to a log file whose tail a failure quotes.
 */
final class PyTorchPeerProcess implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PyTorchPeerProcess.class);
    private static final String MAIN = "dev.streamtrain.engine.PyTorchPeer";
    private static final String PROMPT = "peer> ";

    private final Process process;
    private final Writer commands;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    private final Path log;

    private PyTorchPeerProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
        this.commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(this::readAnswers, "pytorch-peer-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts the peer on {@code threads} intra-op threads (one inter-op thread). PyTorch's natives are extracted
     * once into {@code target/djl-cache} (about 450 MB) and never downloaded. PyTorch's OpenMP gets the wait policy
     * given ({@code PASSIVE}, as ND4J's in the build; blank: libgomp's default, which spins).
     */
    static PyTorchPeerProcess start(Path workload, String hidden, int threads, String ompWaitPolicy, Path log)
            throws IOException {
        if (PyTorchPeerProcess.class.getResource("/" + MAIN.replace('.', '/') + ".class") == null) {
            throw new IllegalStateException(MAIN + " is not compiled: it needs DJL, which only the benchmark profile "
                    + "brings (./mvnw -Pbenchmark ...)");
        }
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-cp", classpath, "-Dai.djl.offline=true",
                "-DENGINE_CACHE_DIR=" + Path.of("target", "djl-cache").toAbsolutePath(),
                "-Dai.djl.pytorch.num_threads=" + threads, "-Dai.djl.pytorch.num_interop_threads=1",
                MAIN, workload.toString(), hidden);
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.to(log.toFile()));
        builder.environment().put("OMP_NUM_THREADS", String.valueOf(threads));
        builder.environment().remove("OMP_WAIT_POLICY");
        if (!ompWaitPolicy.isBlank()) {
            builder.environment().put("OMP_WAIT_POLICY", ompWaitPolicy);
        }
        return new PyTorchPeerProcess(builder.start(), log);
    }

    /** The words of the peer's first answer: {@code ready <accuracy> <loss> <version> <intra-op> <inter-op>}. */
    String[] ready(Duration timeout) {
        return answer("ready", timeout);
    }

    /** Sends a command ({@code train 2000}, {@code infer 2000}) and returns the words of its answer. */
    String[] ask(String command, Duration timeout) {
        try {
            commands.write(command + "\n");
            commands.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("the PyTorch peer no longer reads its commands; its log ends:\n"
                    + logTail(), e);
        }
        return answer(command.split(" ")[0], timeout);
    }

    private String[] answer(String expected, Duration timeout) {
        String line;
        try {
            line = answers.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the PyTorch peer", e);
        }
        if (line == null || !line.startsWith(expected + " ")) {
            throw new IllegalStateException("the PyTorch peer did not answer '" + expected + "' within " + timeout
                    + " (got " + line + ", alive: " + process.isAlive() + "); its log ends:\n" + logTail());
        }
        return line.split(" ");
    }

    private void readAnswers() {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith(PROMPT)) {
                    answers.add(line.substring(PROMPT.length()));
                } else {
                    LOG.debugf("PyTorch peer: %s", line);
                }
            }
        } catch (IOException e) {
            LOG.debugf("PyTorch peer's stdout closed: %s", e.getMessage());
        }
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log at " + log + ": " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        try {
            commands.write("quit\n");
            commands.close();
        } catch (IOException e) {
            LOG.debugf("the PyTorch peer had already closed its stdin: %s", e.getMessage());
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
