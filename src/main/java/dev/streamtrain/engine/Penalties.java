package dev.streamtrain.engine;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.Regularization.ApplyStep;

import java.util.ArrayList;
import java.util.List;

/**
 * L1, L2 and weight decay, as DL4J's own {@link Regularization}s from the layers' configuration applied to the
 * parameter and gradient views of each layer's weights (and biases, should a configuration regularise them): L1 and
 * L2 add to the mean gradient before the updater, weight decay to the update after it (scaled by the learning rate
 * of the step when configured so), exactly the two passes of DL4J's {@code UpdaterBlock}. Their penalty is part of
 * the score, as in DL4J's {@code score()}.
 */
final class Penalties {

    private record Term(INDArray parameters, INDArray gradients, Regularization regularization) {
    }

    private final List<Term> terms = new ArrayList<>();

    void add(INDArray parameters, INDArray gradients, List<Regularization> regularizations) {
        for (Regularization r : regularizations) {
            terms.add(new Term(parameters, gradients, r));
        }
    }

    boolean isEmpty() {
        return terms.isEmpty();
    }

    /** Adds each penalty's gradient (or update) of {@code step} into the gradient views. */
    void apply(ApplyStep step, double learningRate, int iteration, int epoch) {
        for (Term t : terms) {
            if (t.regularization().applyStep() == step) {
                t.regularization().apply(t.parameters(), t.gradients(), learningRate, iteration, epoch);
            }
        }
    }

    /** The penalties' sum at the current parameters. */
    double score(int iteration, int epoch) {
        double sum = 0;
        for (Term t : terms) {
            sum += t.regularization().score(t.parameters(), iteration, epoch);
        }
        return sum;
    }
}
