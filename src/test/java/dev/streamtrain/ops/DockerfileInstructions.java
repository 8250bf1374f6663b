package dev.streamtrain.ops;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile read as Docker reads it: comment lines dropped (also inside continued instructions), lines ending
 * in a backslash joined, one {@link Instruction} per instruction with the index of its build stage.
 */
final class DockerfileInstructions {

    /** One instruction: keyword (upper case), its arguments as written, its stage, its first line. */
    record Instruction(String keyword, String arguments, int stage, int line) {

        /** The JSON (exec) form's strings, or the whitespace-separated words of the shell form. */
        List<String> words() {
            String text = arguments.trim();
            if (text.startsWith("[")) {
                List<String> words = new ArrayList<>();
                Matcher m = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(text);
                while (m.find()) {
                    words.add(m.group(1).replace("\\\"", "\""));
                }
                return words;
            }
            return List.of(text.split("\\s+"));
        }
    }

    /** COPY or ADD: its flags (--from, --chown, ...), sources and destination. */
    record Copy(Instruction instruction, Map<String, String> flags, List<String> sources, String destination) {

        Optional<String> from() {
            return Optional.ofNullable(flags.get("from"));
        }
    }

    private final List<Instruction> instructions;
    private final List<String> stageNames;

    private DockerfileInstructions(List<Instruction> instructions, List<String> stageNames) {
        this.instructions = instructions;
        this.stageNames = stageNames;
    }

    static DockerfileInstructions read(Path dockerfile) throws IOException {
        List<Instruction> instructions = new ArrayList<>();
        List<String> stageNames = new ArrayList<>();
        StringBuilder pending = new StringBuilder();
        int start = 0;
        List<String> lines = Files.readAllLines(dockerfile);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String trimmed = line.trim();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && pending.length() == 0)) {
                continue;
            }
            if (pending.length() == 0) {
                start = i + 1;
            }
            boolean continued = trimmed.endsWith("\\");
            pending.append(continued ? trimmed.substring(0, trimmed.length() - 1) : trimmed).append(' ');
            if (!continued) {
                add(pending.toString().trim(), start, instructions, stageNames);
                pending.setLength(0);
            }
        }
        if (pending.length() > 0) {
            throw new IllegalStateException(dockerfile + " ends inside a continued instruction (line " + start + ")");
        }
        return new DockerfileInstructions(instructions, stageNames);
    }

    private static void add(String text, int line, List<Instruction> instructions, List<String> stageNames) {
        String[] parts = text.split("\\s+", 2);
        String keyword = parts[0].toUpperCase(Locale.ROOT);
        String arguments = parts.length > 1 ? parts[1] : "";
        if (keyword.equals("FROM")) {
            Matcher as = Pattern.compile("(?i)\\s+AS\\s+(\\S+)\\s*$").matcher(arguments);
            stageNames.add(as.find() ? as.group(1) : null);
        }
        instructions.add(new Instruction(keyword, arguments, stageNames.size() - 1, line));
    }

    List<Instruction> all() {
        return instructions;
    }

    int finalStage() {
        return stageNames.size() - 1;
    }

    /** The index of the stage named so, or -1. */
    int stage(String name) {
        return stageNames.indexOf(name);
    }

    List<Instruction> inStage(int stage, String keyword) {
        return instructions.stream().filter(i -> i.stage() == stage && i.keyword().equals(keyword)).toList();
    }

    List<Copy> copies(int stage) {
        List<Copy> copies = new ArrayList<>();
        for (Instruction i : instructions) {
            if (i.stage() == stage && (i.keyword().equals("COPY") || i.keyword().equals("ADD"))) {
                copies.add(copy(i));
            }
        }
        return copies;
    }

    private static Copy copy(Instruction instruction) {
        Map<String, String> flags = new LinkedHashMap<>();
        List<String> paths = new ArrayList<>();
        for (String word : instruction.words()) {
            if (word.startsWith("--") && paths.isEmpty()) {
                String[] flag = word.substring(2).split("=", 2);
                flags.put(flag[0], flag.length > 1 ? flag[1] : "");
            } else {
                paths.add(word);
            }
        }
        if (paths.size() < 2) {
            throw new IllegalStateException("line " + instruction.line() + ": " + instruction.keyword()
                    + " needs a source and a destination: " + instruction.arguments());
        }
        return new Copy(instruction, flags, List.copyOf(paths.subList(0, paths.size() - 1)), paths.get(paths.size() - 1));
    }

    /**
     * The environment of the final stage: ENV in both forms ({@code ENV K=V K2="V 2"} and the legacy
     * {@code ENV K V}), later settings winning.
     */
    Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        for (Instruction i : inStage(finalStage(), "ENV")) {
            String args = i.arguments().trim();
            Matcher pair = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"((?:[^\"\\\\]|\\\\.)*)\"|'([^']*)'|(\\S*))")
                    .matcher(args);
            if (!args.matches("^[A-Za-z_][A-Za-z0-9_]*=.*")) {
                String[] legacy = args.split("\\s+", 2);
                env.put(legacy[0], legacy.length > 1 ? legacy[1] : "");
                continue;
            }
            while (pair.find()) {
                String value = pair.group(3) != null ? pair.group(3).replace("\\\"", "\"")
                        : pair.group(4) != null ? pair.group(4) : pair.group(5);
                env.put(pair.group(1), value);
            }
        }
        return env;
    }
}
