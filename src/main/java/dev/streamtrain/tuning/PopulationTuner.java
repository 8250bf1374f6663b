package dev.streamtrain.tuning;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

import dev.streamtrain.model.MiniBatch;
import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.Network;
import dev.streamtrain.model.StepResult;

/**
 * Finds the learning rate on the stream itself, by population-based training (Jaderberg et al., "Population Based
 * Training of Neural Networks", 2017): a few members with different rates train side by side on the same batches,
 * test-then-train, so each member's prequential loss (scored before it trains on the batch) ranks it on data it has
 * not learnt from. Every {@code interval} steps the worst members become copies of the best ones — weights AND
 * optimizer state, step counters, normaliser and schedule adjustments ({@link Network#copyStateFrom}) — and their
 * rate is the donor's times or divided by the perturbation factor. The member with the lowest recent loss serves.
 * A member whose step breaks (non-finite) is replaced at once by the best finite one at a lower rate.
 *
 * <p>The rate is a multiple of the spec's schedule (its scale), so every optimizer with a learning rate and every
 * schedule works unchanged. Deterministic: the choices come from the seed and the decision count alone, and the
 * whole state is {@link #state()}. Used on the training thread only.
 */
public final class PopulationTuner {

    private final ModelSpec spec;
    private final TunerSettings settings;
    private final double decay;
    private final List<Member> members;
    private long steps;
    private long decisions;
    private int leader;

    private PopulationTuner(ModelSpec spec, TunerSettings settings, List<Member> members, long steps,
                            long decisions, int leader) {
        this.spec = spec;
        this.settings = settings;
        this.decay = Math.pow(0.5, 1 / settings.halfLife());
        this.members = members;
        this.steps = steps;
        this.decisions = decisions;
        this.leader = leader;
    }

    /** A new population for the spec: every member starts from the spec's initial weights, at its own rate. */
    public static PopulationTuner create(ModelSpec spec, TunerSettings settings) {
        List<Member> members = new ArrayList<>(settings.population());
        for (int i = 0; i < settings.population(); i++) {
            Network network = new Network(spec);
            if (Double.isNaN(network.learningRate())) {
                throw new IllegalArgumentException("the optimizer " + spec.optimizer().type()
                        + " has no learning rate to tune; name another optimizer or leave the tuner off");
            }
            Member member = new Member(i, network, 1.0, 0);
            member.applyFactor(settings.initialFactor(i));
            members.add(member);
        }
        return new PopulationTuner(spec, settings, members, 0, 0, 0);
    }

    /** A population continued from a saved {@link #state()}: it goes on exactly as the saved one would have. */
    public static PopulationTuner restore(ModelSpec spec, TunerState state) throws IOException {
        List<Member> members = new ArrayList<>(state.members().size());
        for (TunerState.MemberState saved : state.members()) {
            Member member = new Member(saved.id(), Network.restore(spec, saved.network()), saved.factor(),
                    saved.since());
            member.lossSum = saved.lossSum();
            member.lossWeight = saved.lossWeight();
            members.add(member);
        }
        return new PopulationTuner(spec, state.settings(), members, state.steps(), state.decisions(), state.leader());
    }

    /**
     * Test-then-train on one mini-batch for every member (each on its own copy), then the population's moves:
     * broken members replaced, and every {@code interval} steps the bottom copied from the top. The batch itself is
     * left as it was.
     */
    public TunerStep step(MiniBatch batch) {
        int servedBy = leader;
        List<StepResult> results = new ArrayList<>(members.size());
        boolean anyFinite = false;
        for (Member member : members) {
            StepResult result = member.network.step(member.copy(batch), false, steps);
            results.add(result);
            anyFinite |= result.finite();
            member.observe(result.train(), decay);
        }
        steps++;
        List<Exploit> exploits = new ArrayList<>();
        if (anyFinite) {
            replaceBroken(results, exploits);
        }
        if (steps % settings.interval() == 0) {
            decide(exploits);
        }
        Member best = ranked().get(0);
        if (best.recentLoss() < members.get(leader).recentLoss()) {
            leader = best.id;
        }
        return new TunerStep(results.get(servedBy).train(), servedBy, leader, List.copyOf(results),
                List.copyOf(exploits), !anyFinite);
    }

    private void replaceBroken(List<StepResult> results, List<Exploit> exploits) {
        Member donor = null;
        for (Member member : ranked()) {
            if (results.get(member.id).finite()) {
                donor = member;
                break;
            }
        }
        for (Member member : members) {
            if (!results.get(member.id).finite()) {
                double factor = Math.min(member.factor, donor.factor) / settings.perturbation();
                exploits.add(exploit(member, donor, factor, "non-finite"));
            }
        }
    }

    private void decide(List<Exploit> exploits) {
        SplittableRandom random = new SplittableRandom(settings.seed() ^ (decisions++ * 0x9E3779B97F4A7C15L));
        List<Member> ranked = ranked();
        int count = settings.replaced();
        for (int i = ranked.size() - count; i < ranked.size(); i++) {
            Member member = ranked.get(i);
            Member donor = ranked.get(random.nextInt(count));
            double factor = donor.factor * (random.nextBoolean() ? settings.perturbation() : 1 / settings.perturbation());
            if (steps - member.since >= settings.interval() && donor.recentLoss() < member.recentLoss()) {
                exploits.add(exploit(member, donor, factor, "ranked"));
            }
        }
    }

    private Exploit exploit(Member member, Member donor, double factor, String reason) {
        double previousRate = member.network.learningRate();
        double memberLoss = member.recentLoss();
        member.network.copyStateFrom(donor.network);
        member.applyFactor(Math.max(settings.floor(), Math.min(settings.ceiling(), factor)));
        // its weights are the donor's: so is the evidence about them, until its own steps say otherwise
        member.lossSum = donor.lossSum;
        member.lossWeight = donor.lossWeight;
        member.since = steps;
        return new Exploit(steps, member.id, donor.id, previousRate, member.network.learningRate(), memberLoss,
                donor.recentLoss(), reason);
    }

    private List<Member> ranked() {
        List<Member> ranked = new ArrayList<>(members);
        ranked.sort(Comparator.comparingDouble(Member::recentLoss).thenComparingInt(m -> m.id));
        return ranked;
    }

    /** The member that serves: the lowest recent prequential loss (the first member before any step). */
    public Network leader() {
        return members.get(leader).network;
    }

    /** The serving member's id. */
    public int leaderId() {
        return leader;
    }

    /** Member {@code id}'s network (ids 0 to population − 1), for status and tests. */
    public Network member(int id) {
        return members.get(id).network;
    }

    /** Each member's learning rate in force, by id. */
    public List<Double> rates() {
        return members.stream().map(m -> m.network.learningRate()).toList();
    }

    /** Each member's recent prequential loss, by id (+∞ before its first scored step). */
    public List<Double> recentLosses() {
        return members.stream().map(Member::recentLoss).toList();
    }

    public TunerSettings settings() {
        return settings;
    }

    public long steps() {
        return steps;
    }

    /** The whole state: settings, counters, and every member's rate, recent loss and network state. */
    public TunerState state() {
        List<TunerState.MemberState> saved = members.stream().map(m -> new TunerState.MemberState(m.id, m.factor,
                m.lossSum, m.lossWeight, m.since, m.network.state())).toList();
        return new TunerState(settings, steps, decisions, leader, saved);
    }
}
