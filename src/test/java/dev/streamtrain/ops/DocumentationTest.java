package dev.streamtrain.ops;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The repository's documentation stands alone and says what the code does: every configuration key of the service
 * is in docs/configuration.md, every link of README.md and docs/ leads to a file of the repository (and to a heading
 * that exists there), nothing points outside the repository, and the README's test command is the one CI runs.
 * The runbooks and the metrics page are checked against the alert rules and the dashboard by PrometheusRulesTest and
 * DashboardTest.
 */
class DocumentationTest {

    private static final Path ROOT = Path.of(".");
    private static final Path CONFIGURATION = Path.of("docs/configuration.md");
    private static final Pattern CODE = Pattern.compile("`([^`]+)`");
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern HEADING = Pattern.compile("(?m)^#{1,6} (.+)$");
    private static final Pattern HTML_ANCHOR = Pattern.compile("<a id=\"([^\"]+)\"");
    private static final Pattern FENCE = Pattern.compile("(?s)```.*?```");

    @Test
    void everyConfigurationKeyOfTheServiceIsInTheConfigurationPage() throws IOException {
        Set<String> documented = documentedKeys(Files.readString(CONFIGURATION));
        List<String> missing = ComposeConfigKeys.of(ROOT).stream()
                .filter(key -> key.startsWith("streamtrain."))
                .filter(key -> !documented.contains(key))
                .toList();

        assertThat(documented).as("keys read from %s", CONFIGURATION)
                .contains("streamtrain.checkpoint.s3.path-style", "streamtrain.health.drift.page-hinkley-alpha");
        assertThat(missing).as("configuration keys of the service that %s does not list", CONFIGURATION).isEmpty();
    }

    @Test
    void everyLinkOfTheDocumentationLeadsToAFileOfTheRepository() throws IOException {
        List<String> problems = new ArrayList<>();
        for (Path page : pages()) {
            String text = FENCE.matcher(Files.readString(page)).replaceAll("");
            Matcher link = LINK.matcher(text);
            while (link.find()) {
                String target = link.group(1);
                if (target.matches("^[a-z]+:.*")) {
                    continue;
                }
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash);
                Path resolved = file.isEmpty() ? page : page.getParent().resolve(file).normalize();
                if (resolved.startsWith("..") || !Files.exists(resolved)) {
                    problems.add(page + ": " + target + " is not a file of the repository");
                } else if (hash >= 0 && resolved.toString().endsWith(".md")
                        && !anchors(resolved).contains(target.substring(hash + 1))) {
                    problems.add(page + ": " + target + " names no heading of " + resolved);
                }
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void nothingInTheDocumentationPointsOutsideTheRepository() throws IOException {
        List<String> problems = new ArrayList<>();
        for (Path page : pages()) {
            String text = Files.readString(page);
            for (String outside : List.of("DESIGN.md", "../shared", "shared/notes")) {
                if (text.contains(outside)) {
                    problems.add(page + " mentions " + outside);
                }
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void theReadmesTestCommandIsWhatCiRuns() throws IOException {
        assertThat(Files.readString(Path.of("README.md"))).contains("./mvnw verify     # runs every test");
        assertThat(Files.readString(Path.of(".ci/run"))).containsPattern("(?m)^\\./mvnw -B verify$");
    }

    /**
     * The keys of the configuration tables: the backticked names in a row's first cell, where {@code .name}
     * stands for the previous key with its last part replaced, and for a {@code prefix.*} row the backticked
     * names of the second cell under that prefix.
     */
    static Set<String> documentedKeys(String page) {
        Set<String> keys = new TreeSet<>();
        for (String row : page.split("\n")) {
            if (!row.startsWith("| `")) {
                continue;
            }
            String[] cells = row.split(" \\| ");
            String current = null;
            Matcher code = CODE.matcher(cells[0]);
            while (code.find()) {
                String token = code.group(1);
                current = token.startsWith(".") && current != null
                        ? current.substring(0, current.lastIndexOf('.')) + token : token;
                keys.add(current);
            }
            if (current != null && current.endsWith(".*") && cells.length > 1) {
                Matcher part = CODE.matcher(cells[1]);
                while (part.find()) {
                    keys.add(current.substring(0, current.length() - 1) + part.group(1));
                }
            }
        }
        return keys;
    }

    /** GitHub's anchors of a page: its headings, lower-cased, punctuation dropped, spaces as '-'; and HTML ids. */
    private static Set<String> anchors(Path page) throws IOException {
        String text = Files.readString(page);
        Set<String> anchors = new TreeSet<>();
        Matcher heading = HEADING.matcher(FENCE.matcher(text).replaceAll(""));
        while (heading.find()) {
            anchors.add(heading.group(1).strip().toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}_\\- ]", "")
                    .replace(' ', '-'));
        }
        Matcher id = HTML_ANCHOR.matcher(text);
        while (id.find()) {
            anchors.add(id.group(1));
        }
        return anchors;
    }

    private static List<Path> pages() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md")));
        try (Stream<Path> docs = Files.walk(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }
}
