package dev.streamtrain.tuning;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

import dev.streamtrain.model.Capture;
import dev.streamtrain.model.EngineKind;
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
 * schedule works unchanged. A member's multiple is read back from its network before every decision, so a back-off
 * that the trainer's health answers made to the serving member is what the search perturbs from. An operator's
 * {@link #pin pinned} rate puts every member at that rate and stops the exploits until {@link #unpin}. Deterministic:
 * the choices come from the seed and the decision count alone, and the whole state is {@link #state()} with the
 * members' networks. Used on the training thread only.
 */
public final class PopulationTuner {

    private final ModelSpec spec;
    private final TunerSettings settings;
    private final double decay;
    private final List<Member> members;
    private final List<Exploit> pending = new ArrayList<>();
    private long steps;
    private long decisions;
    private int leader;
    private long exploits;
    private Double pinned;
    private long fastUntil;
    private TunerState good;

    private PopulationTuner(ModelSpec spec, TunerSettings settings, List<Member> members, long steps,
                            long decisions, int leader, long exploits, Double pinned, long fastUntil) {
        this.spec = spec;
        this.settings = settings;
        this.decay = Math.pow(0.5, 1 / settings.halfLife());
        this.members = members;
        this.steps = steps;
        this.decisions = decisions;
        this.leader = leader;
        this.exploits = exploits;
        this.pinned = pinned;
        this.fastUntil = fastUntil;
    }

    /** A new population for the spec: every member starts from the spec's initial weights, at its own rate. */
    public static PopulationTuner create(ModelSpec spec, TunerSettings settings) {
        return create(spec, settings, EngineKind.LEAN);
    }

    /** As above, on the engine asked for (the lean one falls back to DL4J where it must). */
    public static PopulationTuner create(ModelSpec spec, TunerSettings settings, EngineKind engine) {
        return seeded(null, spec, settings, engine);
    }

    /**
     * A new population whose members all start from {@code start}'s training state (weights, optimizer state,
     * counters, normaliser), each at its own rate; {@code start} itself becomes member 0. What a model trained without
     * the tuner (an older checkpoint) continues with.
     */
    public static PopulationTuner from(Network start, TunerSettings settings, EngineKind engine) {
        return seeded(start, start.spec(), settings, engine);
    }

    private static PopulationTuner seeded(Network start, ModelSpec spec, TunerSettings settings, EngineKind engine) {
        List<Member> members = new ArrayList<>(settings.population());
        for (int i = 0; i < settings.population(); i++) {
            Network network = i == 0 && start != null ? start : new Network(spec, engine);
            if (Double.isNaN(network.learningRate())) {
                throw new IllegalArgumentException("the optimizer " + spec.optimizer().type()
                        + " has no learning rate to tune; name another optimizer or leave the tuner off");
            }
            if (start != null && network != start) {
                network.copyStateFrom(start);
            }
            Member member = new Member(i, network, 1.0, 0);
            member.applyFactor(settings.initialFactor(i));
            members.add(member);
        }
        return new PopulationTuner(spec, settings, members, 0, 0, 0, 0, null, settings.earlySteps());
    }

    /** A tuner's state with its members' networks, serialised: what {@link #saved()} returns. */
    public record Saved(TunerState state, List<Network.State> networks) {
    }

    /** A population continued from a {@link #saved()} state: it goes on exactly as the saved one would have. */
    public static PopulationTuner restore(ModelSpec spec, Saved saved) throws IOException {
        List<Network> networks = new ArrayList<>(saved.networks().size());
        for (Network.State network : saved.networks()) {
            networks.add(Network.restore(spec, network));
        }
        return restore(spec, saved.state(), networks);
    }

    /** A population continued from its record and its members' restored networks (by member id). */
    public static PopulationTuner restore(ModelSpec spec, TunerState state, List<Network> networks) {
        if (networks.size() != state.members().size()) {
            throw new IllegalArgumentException("the tuner's record names " + state.members().size()
                    + " members, but " + networks.size() + " networks were saved");
        }
        List<Member> members = new ArrayList<>(state.members().size());
        for (TunerState.MemberState saved : state.members()) {
            Member member = new Member(saved.id(), networks.get(saved.id()), saved.factor(), saved.since());
            member.lossSum = saved.lossSum();
            member.lossWeight = saved.lossWeight();
            members.add(member);
        }
        return new PopulationTuner(spec, state.settings(), members, state.steps(), state.decisions(),
                state.leader(), state.exploits(), state.pinned(), state.fastUntil());
    }

    /**
     * Test-then-train on one mini-batch for every member (each on its own copy), then the population's moves:
     * broken members replaced, and every {@code interval} steps the bottom copied from the top. The batch itself is
     * left as it was.
     */
    public TunerStep step(MiniBatch batch) {
        return step(batch, null);
    }

    /**
     * As {@link #step(MiniBatch)}, but the serving member's step on {@code batch} was taken by the caller (the trainer,
     * with its health answers around it): {@code leaderResult} is that step's result. {@code batch} holds the raw
     * rows the serving member trained on.
     */
    public TunerStep step(MiniBatch batch, StepResult leaderResult) {
        int servedBy = leader;
        List<StepResult> results = new ArrayList<>(members.size());
        boolean anyFinite = false;
        for (Member member : members) {
            StepResult result = leaderResult != null && member.id == leader ? leaderResult
                    : member.network.step(member.copy(batch), false, steps);
            results.add(result);
            anyFinite |= result.finite();
            member.observe(result.train(), decay);
        }
        steps++;
        // moves made at the last good state (counted then) are reported with this step's
        List<Exploit> moves = new ArrayList<>(pending);
        int carried = pending.size();
        pending.clear();
        for (Member member : members) {
            // the health answers may have backed the serving member's rate off: the search goes on from there
            member.factor = member.network.learningRateScale();
        }
        if (anyFinite) {
            replaceBroken(results, moves);
        }
        if (pinned == null && steps % settings.intervalAt(steps, fastUntil) == 0) {
            decide(moves);
        }
        Member best = ranked().get(0);
        if (best.recentLoss() < members.get(leader).recentLoss()) {
            leader = best.id;
        }
        exploits += moves.size() - carried;
        return new TunerStep(results.get(servedBy).train(), servedBy, leader, List.copyOf(results),
                List.copyOf(moves), !anyFinite);
    }

    private void replaceBroken(List<StepResult> results, List<Exploit> moves) {
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
                moves.add(exploit(member, donor, factor, "non-finite"));
            }
        }
    }

    private void decide(List<Exploit> moves) {
        SplittableRandom random = new SplittableRandom(settings.seed() ^ (decisions++ * 0x9E3779B97F4A7C15L));
        List<Member> ranked = ranked();
        int count = settings.replaced();
        int interval = settings.intervalAt(steps, fastUntil);
        for (int i = ranked.size() - count; i < ranked.size(); i++) {
            Member member = ranked.get(i);
            Member donor = ranked.get(random.nextInt(count));
            double factor = donor.factor * (random.nextBoolean() ? settings.perturbation() : 1 / settings.perturbation());
            if (steps - member.since >= interval && donor.recentLoss() < member.recentLoss()) {
                moves.add(exploit(member, donor, factor, "ranked"));
            }
        }
    }

    /**
     * The trainer's drift detector fired: what the members learnt about the rate is of the old concept, and they
     * are all close to one rate by now. Every member but the serving one becomes a copy of it at its rate times up to
     * {@code driftSpread} (log-spaced), and decisions come at the early interval again for {@code earlySteps} steps:
     * a drift calls for larger steps for a while, and the population finds out how much larger on the new concept.
     * The serving member is left alone (the trainer's own drift answer, a warm restart, is on it). No moves while an
     * operator's rate is pinned or when the settings turn the answer off.
     */
    public List<Exploit> respread() {
        if (!settings.respreadsOnDrift() || pinned != null) {
            return List.of();
        }
        Member serving = members.get(leader);
        List<Exploit> moves = new ArrayList<>();
        int others = members.size() - 1;
        int k = 0;
        for (Member member : members) {
            if (member.id != leader) {
                k++;
                double factor = serving.factor * Math.pow(settings.driftSpread(), (double) k / others);
                moves.add(exploit(member, serving, factor, "drift"));
            }
        }
        exploits += moves.size();
        fastUntil = steps + settings.earlySteps();
        return List.copyOf(moves);
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

    /**
     * Multiplies every member's rate but the serving one's by {@code factor}: the trainer's health answers backed the
     * serving member's rate off by it (an explosion, a non-finite step, a failed probation), which says the rates
     * around it are too high as well. The search keeps its spread, shifted down, instead of climbing straight back.
     */
    public void scaleOthers(double factor) {
        for (Member member : members) {
            if (member.id != leader) {
                member.applyFactor(Math.max(settings.floor(), member.factor * factor));
            }
        }
    }

    /**
     * An operator's rate: every member trains at {@code rate} from now on and no exploit is made until
     * {@link #unpin()}; the members still rank, and the best serves. False (nothing changed) while the schedule's
     * own rate is 0 (a warm-up's first step).
     */
    public boolean pin(double rate) {
        List<Double> before = members.stream().map(m -> m.network.learningRate()).toList();
        for (Member member : members) {
            if (!member.network.setLearningRate(rate)) {
                for (Member undo : members.subList(0, member.id)) {
                    undo.network.setLearningRate(before.get(undo.id));
                }
                return false;
            }
            member.factor = member.network.learningRateScale();
        }
        pinned = rate;
        return true;
    }

    /** Back to tuning: the members start from the pinned rate, and the next decisions explore from there. */
    public void unpin() {
        pinned = null;
    }

    /** The operator's pinned rate, or null while the tuner chooses. */
    public Double pinned() {
        return pinned;
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

    /** The number of members. */
    public int size() {
        return members.size();
    }

    /** Each member's learning rate in force, by id. */
    public List<Double> rates() {
        return members.stream().map(m -> m.network.learningRate()).toList();
    }

    /** Each member's recent prequential loss, by id (+∞ before its first scored step). */
    public List<Double> recentLosses() {
        return members.stream().map(Member::recentLoss).toList();
    }

    /** Exploit moves made so far (ranked and non-finite), across restarts. */
    public long exploits() {
        return exploits;
    }

    public TunerSettings settings() {
        return settings;
    }

    public long steps() {
        return steps;
    }

    /** The tuner's record: settings, counters, pinned rate, and every member's rate and recent loss. */
    public TunerState state() {
        List<TunerState.MemberState> saved = members.stream().map(m -> new TunerState.MemberState(m.id, m.factor,
                m.lossSum, m.lossWeight, m.since)).toList();
        return new TunerState(settings, steps, decisions, leader, exploits, pinned, saved, fastUntil);
    }

    /** The whole state: the record and every member's network state, serialised. */
    public Saved saved() {
        return new Saved(state(), members.stream().map(m -> m.network.state()).toList());
    }

    /** The tuner as it is now, immutable, for readers on other threads. */
    public TunerView view() {
        return new TunerView(leader, rates(), recentLosses(), exploits, pinned);
    }

    /** The population as it is now (the record and every member's state but the serving one's), array copies. */
    public TunerCapture capture() {
        List<Capture> captures = new ArrayList<>(members.size());
        for (Member member : members) {
            captures.add(member.id == leader ? null : member.network.capture());
        }
        return new TunerCapture(state(), captures);
    }

    /**
     * The trainer's state now is its good one (the serving member's good state is saved by the trainer): every
     * other member's state is remembered too ({@link Network#saveGood()}, reused buffers), and the tuner's record,
     * so that a checkpoint of the good state holds the whole population as it was then. A member whose optimizer
     * state went non-finite unseen is first replaced by a copy of the serving member (reported with the next step's
     * moves).
     */
    public void markGood() {
        Member serving = members.get(leader);
        for (Member member : members) {
            if (member.id == leader) {
                continue;
            }
            if (!member.network.stateFinite()) {
                double factor = Math.min(member.factor, serving.factor) / settings.perturbation();
                pending.add(exploit(member, serving, factor, "non-finite"));
                exploits++;
            }
            member.network.saveGood();
        }
        good = state();
    }

    /**
     * The population at its last {@link #markGood()}: the record then and every member's good state but the serving
     * member's (the checkpoint's network). Array copies, for the training thread.
     */
    public TunerCapture captureGood() {
        if (good == null) {
            throw new IllegalStateException("no good state of the population has been saved");
        }
        List<Capture> captures = new ArrayList<>(members.size());
        for (Member member : members) {
            captures.add(member.id == good.leader() ? null : member.network.captureGood());
        }
        return new TunerCapture(good, captures);
    }
}
