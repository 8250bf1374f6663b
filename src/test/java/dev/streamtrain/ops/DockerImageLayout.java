package dev.streamtrain.ops;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The files a Dockerfile's stages would hold, worked out without a Docker engine: COPY/ADD from the build context
 * (files, directories, globs) and from earlier stages, and the {@code mv} of a RUN (the only command whose effect
 * on the layout the image's Dockerfile relies on). Image path to the host file it comes from.
 */
final class DockerImageLayout {

    private final Path context;
    private final DockerIgnore ignore;
    private final List<String> problems = new ArrayList<>();

    DockerImageLayout(Path context, DockerIgnore ignore) {
        this.context = context;
        this.ignore = ignore;
    }

    /** What went wrong while copying: sources that do not exist, match nothing or are left out by .dockerignore. */
    List<String> problems() {
        return problems;
    }

    /** The files of every stage, in order. */
    List<Map<String, Path>> build(DockerfileInstructions dockerfile) throws IOException {
        List<Map<String, Path>> stages = new ArrayList<>();
        for (int stage = 0; stage <= dockerfile.finalStage(); stage++) {
            Map<String, Path> files = new TreeMap<>();
            for (DockerfileInstructions.Instruction i : dockerfile.all()) {
                if (i.stage() != stage) {
                    continue;
                }
                if (i.keyword().equals("COPY") || i.keyword().equals("ADD")) {
                    copy(dockerfile, stages, files, dockerfile.copies(stage).stream()
                            .filter(c -> c.instruction() == i).findFirst().orElseThrow());
                } else if (i.keyword().equals("RUN")) {
                    move(i, files);
                }
            }
            stages.add(files);
        }
        return stages;
    }

    private void copy(DockerfileInstructions dockerfile, List<Map<String, Path>> stages, Map<String, Path> files,
                      DockerfileInstructions.Copy copy) throws IOException {
        String where = "line " + copy.instruction().line() + ": ";
        for (String source : copy.sources()) {
            Map<String, Path> found;
            if (copy.from().isPresent()) {
                int stage = dockerfile.stage(copy.from().get());
                if (stage < 0 || stage >= stages.size()) {
                    problems.add(where + "--from=" + copy.from().get() + " names no earlier stage");
                    continue;
                }
                found = fromStage(stages.get(stage), source);
            } else {
                found = fromContext(source, where);
            }
            if (found.isEmpty()) {
                problems.add(where + "COPY source " + source + (copy.from().isPresent()
                        ? " holds nothing in stage " + copy.from().get() : " matches nothing in the build context"));
            }
            found.forEach((relative, host) -> files.put(join(copy.destination(), relative), host));
        }
    }

    /** Files under a context path (a file, a directory, or a glob in its last segment): relative name to file. */
    private Map<String, Path> fromContext(String source, String where) throws IOException {
        Map<String, Path> found = new TreeMap<>();
        String clean = source.replaceAll("/+$", "");
        if (clean.matches(".*[*?\\[].*")) {
            Path dir = context.resolve(clean.substring(0, Math.max(0, clean.lastIndexOf('/'))));
            PathMatcher glob = FileSystems.getDefault().getPathMatcher("glob:" + clean.substring(clean.lastIndexOf('/') + 1));
            if (Files.isDirectory(dir)) {
                try (Stream<Path> list = Files.list(dir)) {
                    for (Path p : list.filter(p -> glob.matches(p.getFileName())).toList()) {
                        addTree(p, p.getFileName().toString(), found, where);
                    }
                }
            }
        } else if (Files.isDirectory(context.resolve(clean))) {
            addTree(context.resolve(clean), "", found, where);
        } else if (Files.exists(context.resolve(clean))) {
            addTree(context.resolve(clean), context.resolve(clean).getFileName().toString(), found, where);
        }
        return found;
    }

    private void addTree(Path root, String prefix, Map<String, Path> found, String where) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                String relative = context.relativize(p).toString().replace('\\', '/');
                if (ignore.excludes(relative)) {
                    problems.add(where + relative + " is copied but .dockerignore leaves it out of the build context");
                    continue;
                }
                String inside = root.relativize(p).toString().replace('\\', '/');
                found.put(prefix.isEmpty() ? inside : inside.isEmpty() ? prefix : prefix + "/" + inside, p);
            }
        }
    }

    private static Map<String, Path> fromStage(Map<String, Path> stage, String source) {
        String dir = source.endsWith("/") ? source : source + "/";
        Map<String, Path> found = new TreeMap<>();
        stage.forEach((path, host) -> {
            if (path.startsWith(dir)) {
                found.put(path.substring(dir.length()), host);
            } else if (path.equals(source)) {
                found.put(path.substring(path.lastIndexOf('/') + 1), host);
            }
        });
        return found;
    }

    private static String join(String destination, String relative) {
        return destination.endsWith("/") ? destination + relative : relative.isEmpty() ? destination : destination + "/" + relative;
    }

    /** {@code mv glob... dir/}: moves the stage's files that match into the directory; a glob matching nothing is a problem. */
    private void move(DockerfileInstructions.Instruction run, Map<String, Path> files) {
        Matcher mv = Pattern.compile("(?:^|&&|;)\\s*mv\\s+([^&;|]+)").matcher(run.arguments());
        while (mv.find()) {
            List<String> words = List.of(mv.group(1).trim().split("\\s+"));
            String target = words.get(words.size() - 1);
            for (String source : words.subList(0, words.size() - 1)) {
                String dir = source.substring(0, source.lastIndexOf('/') + 1);
                PathMatcher glob = FileSystems.getDefault().getPathMatcher("glob:" + source.substring(dir.length()));
                List<String> matched = files.keySet().stream()
                        .filter(p -> p.startsWith(dir) && p.indexOf('/', dir.length()) < 0)
                        .filter(p -> glob.matches(Path.of(p.substring(dir.length())))).toList();
                if (matched.isEmpty()) {
                    problems.add("line " + run.line() + ": mv " + source + " matches nothing (the build would fail)");
                }
                for (String p : matched) {
                    files.put(join(target.endsWith("/") ? target : target + "/", p.substring(dir.length())), files.remove(p));
                }
            }
        }
    }
}
