package dev.streamtrain.soak;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The soak run as an SVG drawn by hand (no plotting library is needed to build or to view it): six panels over
 * time in minutes, memory, training throughput, inference latency, GC time, the JVM's own memory (metaspace, code
 * cache) and the JIT's compile time with the classes loaded, with the broker restart and the storage outage shaded.
 * {@link #main} draws it again from a finished run's {@code soak.csv}.
 */
final class SoakChart {

    private static final int WIDTH = 900;
    private static final int PANEL = 190;
    private static final int LEFT = 70;
    private static final int RIGHT = 150;
    private static final int TOP = 30;

    private record Series(String name, String color, double[] y, boolean points) {
    }

    private final List<SoakSample> samples;
    private final double[] x;
    private final double xMax;
    private final StringBuilder svg = new StringBuilder();

    private SoakChart(List<SoakSample> samples) {
        this.samples = samples;
        this.x = samples.stream().mapToDouble(SoakSample::minutes).toArray();
        this.xMax = Math.max(1, Math.ceil(x[x.length - 1]));
    }

    /** {@code SoakChart <soak.csv> <title> <soak.svg>}: the chart of a finished run, from its samples. */
    public static void main(String[] args) throws IOException {
        List<SoakSample> samples = Files.readAllLines(Path.of(args[0])).stream().skip(1).map(SoakSample::parse).toList();
        write(samples, args[1], Path.of(args[2]));
    }

    static void write(List<SoakSample> samples, String title, Path file) throws IOException {
        Files.writeString(file, new SoakChart(samples).render(title), StandardCharsets.UTF_8);
    }

    private String render(String title) {
        int height = TOP + 6 * (PANEL + 40) + 20;
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", WIDTH, height));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"14\">%s</text>\n", LEFT, escape(title)));
        double mb = 1024.0 * 1024;
        panel(0, "memory (MiB)", List.of(
                new Series("RSS", "#d62728", column(s -> s.rssBytes() / mb), false),
                new Series("heap used", "#aec7e8", column(s -> s.heapUsedBytes() / mb), false),
                new Series("heap after full GC", "#1f77b4", column(s -> s.heapAfterGcBytes() / mb), true),
                new Series("off-heap (ND4J)", "#2ca02c", column(s -> s.offHeapBytes() / mb), false)));
        panel(1, "per second", List.of(
                new Series("examples trained", "#1f77b4", rate(SoakSample::trainedExamples), false),
                new Series("records produced", "#ff7f0e", rate(SoakSample::producedRecords), false)));
        panel(2, "inference (ms)", List.of(
                new Series("REST p99", "#d62728", column(SoakSample::restP99Ms), false),
                new Series("gRPC p99", "#9467bd", column(SoakSample::grpcP99Ms), false),
                new Series("REST p50", "#ff9896", column(SoakSample::restP50Ms), false),
                new Series("gRPC p50", "#c5b0d5", column(SoakSample::grpcP50Ms), false)));
        panel(3, "GC pause (ms per s)", List.of(
                new Series("GC (forced left out)", "#8c564b", rate(s -> (long) (s.gcSeconds() * 1e3)), false)));
        panel(4, "the JVM's own (MiB)", List.of(
                new Series("metaspace used", "#17becf", column(s -> s.jvm().metaspaceUsedBytes() / mb), false),
                new Series("code cache used", "#bcbd22", column(s -> s.jvm().codeCacheUsedBytes() / mb), false),
                new Series("RSS less both", "#d62728", column(s -> (s.rssBytes() - s.jvm().metaspaceCommittedBytes()
                        - s.jvm().codeCacheCommittedBytes()) / mb), false)));
        double firstClasses = samples.get(0).jvm().classesEverLoaded();
        panel(5, "JIT and classes", List.of(
                new Series("JIT compile ms per s", "#7f7f7f", rate(s -> (long) (s.jvm().compileSeconds() * 1e3)), false),
                new Series("classes loaded, new", "#e377c2",
                        column(s -> s.jvm().classesEverLoaded() - firstClasses), false)));
        svg.append("</svg>\n");
        return svg.toString();
    }

    private double[] column(ToDoubleFunction<SoakSample> value) {
        return samples.stream().mapToDouble(value).toArray();
    }

    /** The change per second of a cumulative count between consecutive samples. */
    private double[] rate(java.util.function.ToLongFunction<SoakSample> total) {
        double[] rate = new double[samples.size()];
        rate[0] = Double.NaN;
        for (int i = 1; i < rate.length; i++) {
            SoakSample a = samples.get(i - 1);
            SoakSample b = samples.get(i);
            rate[i] = (total.applyAsLong(b) - total.applyAsLong(a)) / (b.seconds() - a.seconds());
        }
        return rate;
    }

    private void panel(int index, String unit, List<Series> series) {
        int top = TOP + 10 + index * (PANEL + 40);
        int plotWidth = WIDTH - LEFT - RIGHT;
        double yMax = 0;
        for (Series s : series) {
            for (double v : s.y()) {
                yMax = Double.isFinite(v) ? Math.max(yMax, v) : yMax;
            }
        }
        yMax = niceCeiling(yMax);
        bands(top, plotWidth);
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n",
                LEFT, top, plotWidth, PANEL));
        for (int g = 0; g <= 4; g++) {
            double v = yMax * g / 4;
            double y = top + PANEL - PANEL * g / 4.0;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", LEFT, LEFT + plotWidth, y, y, LEFT - 5, y + 4, label(v)));
        }
        int step = xMax > 20 ? 5 : 1;
        for (int m = 0; m <= xMax; m += step) {
            double px = LEFT + plotWidth * m / xMax;
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", px, top + PANEL + 14, m));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>"
                + "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">minutes</text>\n", LEFT, top - 4, escape(unit), LEFT + plotWidth, top + PANEL + 28));
        int legend = top + 12;
        for (Series s : series) {
            StringBuilder path = new StringBuilder();
            for (int i = 0; i < x.length; i++) {
                if (!Double.isFinite(s.y()[i])) {
                    continue;
                }
                double px = LEFT + plotWidth * x[i] / xMax;
                double py = top + PANEL - PANEL * Math.min(s.y()[i], yMax) / yMax;
                if (s.points()) {
                    svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>", px, py, s.color()));
                } else {
                    path.append(path.length() == 0 ? "M" : "L").append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
                }
            }
            if (path.length() > 0) {
                svg.append(String.format(Locale.ROOT, "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"/>\n", path, s.color()));
            }
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"4\" fill=\"%s\"/>"
                    + "<text x=\"%d\" y=\"%d\">%s</text>\n", LEFT + plotWidth + 8, legend - 4, s.color(), LEFT + plotWidth + 24, legend, escape(s.name())));
            legend += 16;
        }
    }

    /** Shades the samples whose phase is not "steady" (broker down, storage down), labelled once per run. */
    private void bands(int top, int plotWidth) {
        List<int[]> runs = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            if (!samples.get(i).phase().equals("steady")) {
                if (!runs.isEmpty() && runs.get(runs.size() - 1)[1] == i - 1
                        && samples.get(i - 1).phase().equals(samples.get(i).phase())) {
                    runs.get(runs.size() - 1)[1] = i;
                } else {
                    runs.add(new int[] {i, i});
                }
            }
        }
        for (int[] run : runs) {
            double from = LEFT + plotWidth * (x[Math.max(0, run[0] - 1)]) / xMax;
            double to = LEFT + plotWidth * x[run[1]] / xMax;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#f5e6a8\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" fill=\"#8a6d00\">%s</text>\n", from, top, Math.max(1, to - from), PANEL,
                    from + 2, top + PANEL - 4, escape(samples.get(run[0]).phase())));
        }
    }

    private static double niceCeiling(double v) {
        if (v <= 0) {
            return 1;
        }
        double magnitude = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 4, 5, 8, 10}) {
            if (m * magnitude >= v) {
                return m * magnitude;
            }
        }
        return 10 * magnitude;
    }

    private static String label(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
