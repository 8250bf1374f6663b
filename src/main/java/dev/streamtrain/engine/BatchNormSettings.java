package dev.streamtrain.engine;

/**
 * A batch-normalisation layer's settings as DL4J's {@code BatchNormalization} configuration holds them: the running
 * averages' {@code decay}, the {@code eps} added to the variance, whether the running spread is kept as
 * log10(standard deviation) ({@code logStd}, the builder's default and what {@code NetworkBuilder} gets) or as the
 * variance, and the initial gamma and beta.
 */
record BatchNormSettings(double decay, double eps, boolean logStd, double gammaInit, double betaInit) {
}
