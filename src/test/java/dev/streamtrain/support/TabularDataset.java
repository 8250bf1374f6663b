package dev.streamtrain.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;

import dev.streamtrain.demo.DigitsDataset;

/**
 * A public classification data set from the test resources ({@code datasets/}, see its README for provenance):
 * numeric features, an integer class label last. Reads the three layouts there: scikit-learn's (a first line
 * {@code rows,features,class names...}), MOA's (a header {@code f0,...,label}) and headerless rows.
 */
public record TabularDataset(String name, float[][] features, int[] labels, int classes) {

    /** wine (178 × 13, 3 classes), breast-cancer (569 × 30, 2), waveform (20,000 × 21, 3), rbf (20,000 × 10, 5),
     * sea-drift (20,000 × 3, 2; an abrupt drift at row 10,000), or digits (1797 × 64, 10; the bundled copy). */
    public static TabularDataset load(String name) {
        if (name.equals("digits")) {
            DigitsDataset digits = DigitsDataset.load();
            return new TabularDataset(name, digits.features(), digits.labels(), DigitsDataset.CLASSES);
        }
        String resource = "/datasets/" + name + ".csv.gz";
        try (InputStream raw = TabularDataset.class.getResourceAsStream(resource)) {
            if (raw == null) {
                throw new IllegalArgumentException("no data set " + resource + " in the test resources");
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw),
                    StandardCharsets.UTF_8));
            List<float[]> rows = new ArrayList<>();
            List<Integer> labels = new ArrayList<>();
            int maxLabel = 0;
            String line;
            boolean first = true;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                String[] cells = line.split(",");
                if (first) {
                    first = false;
                    // a header: MOA's column names, or scikit-learn's "rows,features,class names..."
                    if (!java.util.Arrays.stream(cells).allMatch(TabularDataset::isNumber)) {
                        continue;
                    }
                }
                float[] x = new float[cells.length - 1];
                for (int j = 0; j < x.length; j++) {
                    x[j] = Float.parseFloat(cells[j]);
                }
                int label = (int) Double.parseDouble(cells[cells.length - 1]);
                maxLabel = Math.max(maxLabel, label);
                rows.add(x);
                labels.add(label);
            }
            return new TabularDataset(name, rows.toArray(float[][]::new),
                    labels.stream().mapToInt(Integer::intValue).toArray(), maxLabel + 1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean isNumber(String cell) {
        try {
            Double.parseDouble(cell.trim());
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    public int size() {
        return labels.length;
    }

    public int inputs() {
        return features[0].length;
    }

    /** The row indices in a seeded shuffle (Fisher-Yates). */
    public int[] shuffledOrder(long seed) {
        int[] order = new int[size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Random random = new Random(seed);
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** One example as the JSON record of the public contract. */
    public String toJson(int row) {
        StringBuilder json = new StringBuilder("{\"features\":[");
        for (int j = 0; j < features[row].length; j++) {
            json.append(j == 0 ? "" : ",").append(features[row][j]);
        }
        return json.append("],\"label\":").append(labels[row]).append('}').toString();
    }
}
