package dev.streamtrain.training.health;

import java.util.ArrayList;
import java.util.List;

import dev.streamtrain.model.ModelSnapshot;
import dev.streamtrain.support.TabularDataset;

/** The wine data as the records a producer sends (seeded shuffles, keys by row), and the served model's accuracy. */
final class WineStream {

    static final TabularDataset DATA = TabularDataset.load("wine");

    private WineStream() {
    }

    /** {@code passes} seeded shuffles from {@code firstPass} on; the key names the row, so it keeps its held-out side. */
    static List<String[]> records(int firstPass, int passes) {
        List<String[]> records = new ArrayList<>();
        for (int pass = firstPass; pass < firstPass + passes; pass++) {
            for (int row : DATA.shuffledOrder(pass)) {
                records.add(new String[] {"wine-" + row, DATA.toJson(row)});
            }
        }
        return records;
    }

    /** The share of all 178 rows the snapshot classifies right. */
    static double accuracy(ModelSnapshot snapshot) {
        int n = DATA.size();
        float[] x = new float[n * DATA.inputs()];
        for (int i = 0; i < n; i++) {
            System.arraycopy(DATA.features()[i], 0, x, i * DATA.inputs(), DATA.inputs());
        }
        float[] p = snapshot.predict(x, n);
        int right = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int k = 1; k < DATA.classes(); k++) {
                best = p[i * DATA.classes() + k] > p[i * DATA.classes() + best] ? k : best;
            }
            right += best == DATA.labels()[i] ? 1 : 0;
        }
        return right / (double) n;
    }
}
