package dev.streamtrain.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;

/**
 * The bundled UCI handwritten digits (1797 examples, 64 pixel intensities 0..16, classes 0..9); see
 * datasets/README.md for its provenance.
 */
public record DigitsDataset(float[][] features, int[] labels) {

    public static final String RESOURCE = "datasets/digits.csv.gz";
    public static final int FEATURES = 64;
    public static final int CLASSES = 10;

    public static DigitsDataset load() {
        var in = DigitsDataset.class.getClassLoader().getResourceAsStream(RESOURCE);
        if (in == null) {
            throw new IllegalStateException(RESOURCE + " is missing from the classpath");
        }
        List<float[]> rows = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        try (var reader = new BufferedReader(new InputStreamReader(new GZIPInputStream(in), StandardCharsets.US_ASCII))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                String[] cells = line.split(",");
                float[] row = new float[FEATURES];
                for (int j = 0; j < FEATURES; j++) {
                    row[j] = Float.parseFloat(cells[j]);
                }
                rows.add(row);
                labels.add(Integer.parseInt(cells[FEATURES].trim()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        return new DigitsDataset(rows.toArray(float[][]::new), labels.stream().mapToInt(Integer::intValue).toArray());
    }

    public int size() {
        return labels.length;
    }

    /** Row indices in a seeded random order (Fisher-Yates): the same seed gives the same stream. */
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
        StringBuilder json = new StringBuilder(256).append("{\"features\":[");
        for (int j = 0; j < FEATURES; j++) {
            if (j > 0) {
                json.append(',');
            }
            json.append((int) features[row][j]);
        }
        return json.append("],\"label\":").append(labels[row]).append('}').toString();
    }
}
