package dev.streamtrain.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The launcher of the Debian base (docker/debian-base/run-java.sh) starts the JVM as the UBI image's run-java.sh
 * does: the same default options, then JAVA_OPTS_APPEND, in JAVA_APP_DIR. Run with a stand-in {@code java} on the
 * PATH that prints its working directory and arguments.
 */
class DebianBaseLauncherTest {

    private static final Path LAUNCHER = Path.of("docker", "debian-base", "run-java.sh");
    /** What Red Hat's java-default-options gives with JAVA_MAX_MEM_RATIO=0 and no GC_* settings. */
    private static final List<String> UBI_DEFAULTS = List.of("-XX:+UseParallelGC", "-XX:MinHeapFreeRatio=10",
            "-XX:MaxHeapFreeRatio=20", "-XX:GCTimeRatio=4", "-XX:AdaptiveSizePolicyWeight=90",
            "-XX:+ExitOnOutOfMemoryError");

    @TempDir
    Path work;

    @Test
    void theImagesEnvironmentStartsTheJarWithTheUbiDefaultsItsCollectorThenJavaOptsAppend() throws Exception {
        Map<String, String> image = DockerfileInstructions.read(Path.of("docker", "Dockerfile")).environment();
        Map<String, String> environment = new HashMap<>(image);
        Path jar = app().resolve("quarkus-run.jar");
        environment.put("JAVA_APP_DIR", app().toString());
        environment.put("JAVA_APP_JAR", jar.toString());
        Launch launch = launch(environment, "--an-argument");
        assertThat(launch.exitCode()).as(launch.output()).isZero();
        List<String> expected = new ArrayList<>(UBI_DEFAULTS);
        // the image's collector in place of the script's default (docs/serving-load.md: Shenandoah in the image)
        assertThat(image).containsEntry("GC_CONTAINER_OPTIONS", "-XX:+UseShenandoahGC");
        expected.set(0, "-XX:+UseShenandoahGC");
        expected.addAll(List.of(image.get("JAVA_OPTS_APPEND").trim().split("\\s+")));
        expected.addAll(List.of("-cp", ".", "-jar", jar.toString(), "--an-argument"));
        assertThat(launch.arguments()).isEqualTo(expected);
        assertThat(launch.directory()).isEqualTo(app().toString());
    }

    @Test
    void heapRatioGcOptionsAndJavaOptsFollowTheUbiScriptsSettings() throws Exception {
        Path jar = app().resolve("quarkus-run.jar");
        Map<String, String> environment = new HashMap<>(Map.of("JAVA_APP_DIR", app().toString(),
                "JAVA_APP_JAR", "quarkus-run.jar", "GC_CONTAINER_OPTIONS", "-XX:+UseSerialGC", "GC_MAX_METASPACE_SIZE", "256"));
        assertThat(launch(environment).arguments()).startsWith("-XX:MaxRAMPercentage=80.0", "-XX:+UseSerialGC")
                .contains("-XX:MaxMetaspaceSize=256m").endsWith("-jar", jar.toString());
        environment.put("JAVA_MAX_MEM_RATIO", "50");
        assertThat(launch(environment).arguments()).startsWith("-XX:MaxRAMPercentage=50.0");
        environment.put("JAVA_OPTS", "-Xmx64m");
        assertThat(launch(environment).arguments()).as("JAVA_OPTS replaces every option")
                .containsExactly("-Xmx64m", "-cp", ".", "-jar", jar.toString());
    }

    @Test
    void aMissingJarIsRefusedWithItsPath() throws Exception {
        Launch launch = launch(Map.of("JAVA_APP_DIR", app().toString(), "JAVA_APP_JAR", "nothing.jar"));
        assertThat(launch.exitCode()).isEqualTo(1);
        assertThat(launch.output()).contains("no application jar at " + app().resolve("nothing.jar"));
    }

    private Path app() throws IOException {
        Path app = Files.createDirectories(work.resolve("deployments"));
        if (!Files.exists(app.resolve("quarkus-run.jar"))) {
            Files.createFile(app.resolve("quarkus-run.jar"));
        }
        return app;
    }

    private record Launch(int exitCode, String output) {
        String directory() {
            return output.lines().filter(l -> l.startsWith("cwd=")).findFirst().orElseThrow().substring(4);
        }

        List<String> arguments() {
            return output.lines().filter(l -> l.startsWith("arg=")).map(l -> l.substring(4)).toList();
        }
    }

    private Launch launch(Map<String, String> environment, String... arguments) throws Exception {
        Path bin = Files.createDirectories(work.resolve("bin"));
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\necho \"cwd=$PWD\"\nfor a in \"$@\"; do echo \"arg=$a\"; done\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> command = new ArrayList<>(List.of("sh", LAUNCHER.toAbsolutePath().toString()));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().put("PATH", bin + ":/usr/bin:/bin");
        builder.environment().putAll(environment);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Launch(process.exitValue(), output);
    }
}
