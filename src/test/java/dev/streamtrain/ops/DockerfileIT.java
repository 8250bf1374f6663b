package dev.streamtrain.ops;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docker/Dockerfile checked against the packaged application (target/quarkus-app, after {@code package}) without
 * a Docker engine: every COPY source exists and is in the build context, the image gets the whole fast-jar
 * layout that its entrypoint needs, with the native jars in their own layer; it runs as a non-root user on 8080
 * with OMP_WAIT_POLICY and JVM flags whose memory shares leave a reserve; the system libraries that ND4J's,
 * OpenBLAS's and JavaCPP's native code needs and does not bundle are exactly the ones the Dockerfile provides.
 */
class DockerfileIT {

    private static final Path ROOT = Path.of("").toAbsolutePath();
    private static final Path APP = ROOT.resolve("target/quarkus-app");
    private static final String DEPLOYMENTS = "/deployments/";
    /** The smallest container memory limit the Dockerfile documents for the image. */
    private static final long MIN_CONTAINER_BYTES = 1L << 30;
    /**
     * What heap and off-heap caps must leave free: the reserve the Kubernetes manifests and the chart keep (384 MiB;
     * metaspace, code cache, GC structures, threads and symbols of the running service were measured at ~240 MiB).
     */
    private static final long MIN_RESERVE_BYTES = K8sPodChecks.RESERVE_BYTES;
    private static final Set<String> GLIBC = Set.of("libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2",
            "librt.so.1", "ld-linux-x86-64.so.2");
    /** Non-glibc system libraries and the UBI package that provides each. */
    private static final Map<String, String> SYSTEM_PACKAGES = Map.of("libstdc++.so.6", "libstdc++", "libz.so.1", "zlib");
    /** JavaCPP's OpenBLAS without LAPACK: its JNI library is shipped, the library itself is not; ND4J never loads it. */
    private static final String UNUSED_VARIANT = "libjniopenblas_nolapack.so";

    private static DockerfileInstructions dockerfile;
    private static DockerImageLayout layout;
    private static List<Map<String, Path>> stages;

    @BeforeAll
    static void read() throws IOException {
        assertThat(APP.resolve("quarkus-run.jar")).as("run ./mvnw package first").exists();
        dockerfile = DockerfileInstructions.read(ROOT.resolve("docker/Dockerfile"));
        layout = new DockerImageLayout(ROOT, DockerIgnore.of(ROOT));
        stages = layout.build(dockerfile);
    }

    private static Map<String, Path> image() {
        return stages.get(dockerfile.finalStage());
    }

    @Test
    void everyCopiedPathExistsAfterPackageAndIsInTheBuildContext() {
        assertThat(layout.problems()).as("COPY/ADD/mv problems").isEmpty();
    }

    @Test
    void theImageHoldsTheWholeFastJarLayoutAndNothingElse() throws IOException {
        Map<String, Path> expected = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(APP)) {
            walk.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().endsWith(".txt"))
                    .forEach(p -> expected.put(DEPLOYMENTS + APP.relativize(p).toString().replace('\\', '/'), p));
        }
        Set<String> missing = new TreeSet<>(expected.keySet());
        missing.removeAll(image().keySet());
        Set<String> extra = new TreeSet<>(image().keySet());
        extra.removeAll(expected.keySet());
        assertThat(missing).as("files of target/quarkus-app missing from the image").isEmpty();
        assertThat(extra).as("image files that are not in target/quarkus-app").isEmpty();
        expected.forEach((path, file) -> assertThat(image().get(path)).as(path).isEqualTo(file));
    }

    @Test
    void theEntrypointFindsTheLauncherAndEverythingItsManifestNames() throws IOException {
        assertThat(dockerfile.inStage(dockerfile.finalStage(), "ENTRYPOINT")).hasSize(1);
        String jar = dockerfile.environment().get("JAVA_APP_JAR");
        assertThat(jar).as("JAVA_APP_JAR, the jar run-java.sh starts").isEqualTo(DEPLOYMENTS + "quarkus-run.jar");
        assertThat(image().containsKey(jar)).as("the image holds " + jar).isTrue();
        assertThat(dockerfile.inStage(dockerfile.finalStage(), "WORKDIR").get(0).arguments()).isEqualTo("/deployments");
        try (JarFile launcher = new JarFile(image().get(jar).toFile())) {
            String classPath = launcher.getManifest().getMainAttributes().getValue("Class-Path");
            assertThat(classPath).isNotBlank();
            for (String entry : classPath.trim().split("\\s+")) {
                assertThat(image().containsKey(DEPLOYMENTS + entry)).as("the image holds the launcher's Class-Path entry " + entry).isTrue();
            }
        }
        assertThat(image().containsKey(DEPLOYMENTS + "quarkus/quarkus-application.dat")).as("the image holds quarkus/quarkus-application.dat").isTrue();
        assertThat(image().keySet().stream().anyMatch(p -> p.matches("/deployments/app/streamtrain-.*\\.jar")))
                .as("the image holds the application jar in /deployments/app").isTrue();
    }

    @Test
    void theNativeJarsAreALayerOfTheirOwnBelowTheOtherDependencies() throws IOException {
        List<DockerfileInstructions.Copy> copies = dockerfile.copies(dockerfile.finalStage());
        DockerfileInstructions.Copy first = copies.get(0);
        Map<String, Path> natives = stages.get(dockerfile.stage(first.from().orElseThrow()));
        Set<String> nativeLayer = new TreeSet<>();
        natives.forEach((path, host) -> {
            if (path.startsWith(first.sources().get(0))) {
                nativeLayer.add(host.getFileName().toString());
            }
        });
        Set<String> jarsWithNativeCode = new TreeSet<>();
        try (Stream<Path> jars = Files.list(APP.resolve("lib/main"))) {
            for (Path jar : jars.toList()) {
                String name = jar.getFileName().toString();
                if ((name.startsWith("org.nd4j.") || name.startsWith("org.bytedeco."))
                        && !DockerNativeLibraries.sharedObjects(jar).isEmpty()) {
                    jarsWithNativeCode.add(name);
                }
            }
        }
        assertThat(jarsWithNativeCode).as("ND4J/OpenBLAS/JavaCPP jars with native code").hasSize(3);
        assertThat(nativeLayer).as("the first layer copied into the image").containsAll(jarsWithNativeCode)
                .allMatch(n -> n.startsWith("org.nd4j.") || n.startsWith("org.bytedeco."));
        assertThat(copies.subList(1, copies.size())).as("no other COPY brings them again")
                .noneMatch(c -> c.sources().stream().anyMatch(s -> s.contains("org.nd4j") || s.contains("org.bytedeco")));
    }

    @Test
    void libMainHoldsNativeJarsForLinuxX8664Only() throws IOException {
        List<String> otherPlatforms = new ArrayList<>();
        try (Stream<Path> jars = Files.list(APP.resolve("lib/main"))) {
            for (Path jar : jars.toList()) {
                String name = jar.getFileName().toString();
                boolean platformClassifier = name.matches(
                        ".*[-.](linux|macosx|osx|windows|android|ios|freebsd)[-_].*\\.jar|.*[-.](arm64|aarch64|aarch_64|ppc64le|s390x|riscv64|armhf|x86)\\.jar");
                if (platformClassifier && !name.matches(".*linux-x86_64.*\\.jar")) {
                    otherPlatforms.add(name);
                }
            }
        }
        assertThat(otherPlatforms).as("platform-specific jars for another platform than linux-x86_64").isEmpty();
    }

    @Test
    void runsAsANumericNonRootUserOn8080() {
        int last = dockerfile.finalStage();
        List<DockerfileInstructions.Instruction> users = dockerfile.inStage(last, "USER");
        assertThat(users).isNotEmpty();
        DockerfileInstructions.Instruction user = users.get(users.size() - 1);
        assertThat(user.arguments()).as("the last USER").matches("[0-9]+(:[0-9]+)?");
        assertThat(Integer.parseInt(user.arguments().split(":")[0])).as("uid").isNotZero().isEqualTo(185);
        assertThat(user.line()).as("USER comes before ENTRYPOINT")
                .isLessThan(dockerfile.inStage(last, "ENTRYPOINT").get(0).line());
        assertThat(dockerfile.inStage(last, "COPY")).as("copied files belong to the user")
                .allMatch(c -> c.arguments().contains("--chown=185"));
        assertThat(dockerfile.inStage(last, "EXPOSE")).extracting(DockerfileInstructions.Instruction::arguments)
                .containsExactly("8080");
    }

    @Test
    void theEnvironmentCarriesOmpWaitPolicyAndTheJvmFlags() {
        Map<String, String> env = dockerfile.environment();
        assertThat(env).containsEntry("OMP_WAIT_POLICY", "PASSIVE");
        assertThat(env).as("run-java.sh's own heap percentage is off: JAVA_OPTS_APPEND sets it")
                .containsEntry("JAVA_MAX_MEM_RATIO", "0");
        Map<String, String> flags = flags(env.get("JAVA_OPTS_APPEND"));
        assertThat(flags).containsKeys("-XX:MaxRAMPercentage", "-Dorg.bytedeco.javacpp.maxbytes",
                "-Dorg.bytedeco.javacpp.cachedir", "-XX:+ExitOnOutOfMemoryError");
        assertThat(flags.get("-Dorg.bytedeco.javacpp.cachedir")).as("JavaCPP's cache in writable /tmp").startsWith("/tmp/");
        assertThat(flags).as("JavaCPP's physical-memory check stays off (the service sets 0; it costs 40 % per step)")
                .doesNotContainKeys("-Dorg.bytedeco.javacpp.maxPhysicalBytes", "-Dorg.bytedeco.javacpp.maxphysicalbytes");
        assertThat(flags).doesNotContainKeys("-Xmx", "-XX:MaxRAM");
    }

    @Test
    void heapAndOffHeapCapsLeaveAReserveInTheSmallestDocumentedContainer() {
        Map<String, String> flags = flags(dockerfile.environment().get("JAVA_OPTS_APPEND"));
        double heapShare = Double.parseDouble(flags.get("-XX:MaxRAMPercentage")) / 100;
        long heap = (long) (MIN_CONTAINER_BYTES * heapShare);
        // parsed as JavaCPP 1.5.7 parses it at start: a number of bytes, k/m/g/t, or a percentage of the heap
        long offHeap = Pointer.parseBytes(flags.get("-Dorg.bytedeco.javacpp.maxbytes"), heap);
        assertThat(offHeap).as("off-heap cap").isPositive();
        assertThat(heap + offHeap).as("heap + off-heap cap in a 1 GiB container, leaving the 384 MiB reserve")
                .isLessThanOrEqualTo(MIN_CONTAINER_BYTES - MIN_RESERVE_BYTES);
        assertThat(offHeap).as("K8sJvmFlags (the manifests' check) reads the flag as JavaCPP does")
                .isEqualTo(K8sJvmFlags.javacppBytes(flags.get("-Dorg.bytedeco.javacpp.maxbytes"), heap));
        assertThat(heapShare).as("heap share").isBetween(0.25, 0.75);
    }

    @Test
    void theSystemLibrariesTheNativeCodeNeedsAreExactlyTheOnesTheImageProvides(@TempDir Path work) throws IOException {
        Map<String, List<String>> needed = new TreeMap<>();
        try (Stream<Path> jars = Files.list(APP.resolve("lib/main"))) {
            for (Path jar : jars.filter(j -> j.getFileName().toString().matches("org\\.(nd4j|bytedeco)\\..*")).toList()) {
                needed.putAll(DockerNativeLibraries.needed(jar, work));
            }
        }
        Set<String> bundled = needed.keySet();
        Map<String, Set<String>> fromSystem = new TreeMap<>();
        needed.forEach((library, sonames) -> sonames.stream().filter(s -> !bundled.contains(s))
                .forEach(s -> fromSystem.computeIfAbsent(s, k -> new TreeSet<>()).add(library)));
        assertThat(fromSystem.remove("libopenblas_nolapack.so.0")).as("only the unused no-LAPACK variant needs it")
                .containsOnly(UNUSED_VARIANT);
        Set<String> nonGlibc = new TreeSet<>(fromSystem.keySet());
        nonGlibc.removeAll(GLIBC);
        assertThat(nonGlibc).as("system libraries beyond glibc needed by " + fromSystem)
                .isEqualTo(SYSTEM_PACKAGES.keySet().stream().collect(java.util.stream.Collectors.toCollection(TreeSet::new)));
        assertThat(installedPackages()).as("packages the Dockerfile installs")
                .isEqualTo(new HashSet<>(SYSTEM_PACKAGES.values()));
        String text = Files.readString(ROOT.resolve("docker/Dockerfile"));
        assertThat(fromSystem.keySet()).as("the Dockerfile's list of what the native code needs from the system")
                .allMatch(text::contains);
    }

    private static Set<String> installedPackages() {
        Set<String> packages = new HashSet<>();
        for (DockerfileInstructions.Instruction run : dockerfile.inStage(dockerfile.finalStage(), "RUN")) {
            for (String command : run.arguments().split("&&|;")) {
                List<String> words = Arrays.asList(command.trim().split("\\s+"));
                int install = words.indexOf("install");
                // "microdnf install ...", also inside "if ...; then microdnf install ..."
                if (install > 0 && words.get(install - 1).matches("microdnf|dnf|yum")) {
                    words.subList(install + 1, words.size()).stream().filter(w -> !w.startsWith("-")).forEach(packages::add);
                }
            }
        }
        return packages;
    }

    /** JVM flags by name: {@code -Dk=v} and {@code -XX:K=v} to their value, {@code -XX:+F} to "". */
    private static Map<String, String> flags(String options) {
        assertThat(options).as("JAVA_OPTS_APPEND").isNotBlank();
        Map<String, String> flags = new HashMap<>();
        for (String word : options.trim().split("\\s+")) {
            int eq = word.indexOf('=');
            if (eq > 0) {
                flags.put(word.substring(0, eq), word.substring(eq + 1));
            } else if (word.startsWith("-Xmx")) {
                flags.put("-Xmx", word.substring(4));
            } else {
                flags.put(word, "");
            }
        }
        return flags;
    }
}
