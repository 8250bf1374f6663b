package dev.streamtrain.cluster;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The messages of the sync topic sorted into rounds: a round of a generation is complete when every member of that
 * generation has said its part. A message of an older generation than the newest one seen belongs to an abandoned
 * round and is dropped; so is one of a round that is already complete.
 */
public final class RoundBook {

    /** Round -> member -> message, for the current generation only. */
    private final Map<Long, Map<String, SyncMessage>> rounds = new HashMap<>();
    private int generation = -1;
    private long lastComplete = -1;

    /** Adds a message; returns false when it was dropped (an older generation, or a round already complete). */
    public boolean offer(SyncMessage message) {
        if (message.generation() < generation || (message.generation() == generation && message.round() <= lastComplete)) {
            return false;
        }
        if (message.generation() > generation) {
            newGeneration(message.generation());
        }
        rounds.computeIfAbsent(message.round(), r -> new HashMap<>()).put(message.member(), message);
        return true;
    }

    /** Starts {@code next}: everything of the generations before it is abandoned. */
    public void newGeneration(int next) {
        if (next > generation) {
            generation = next;
            rounds.clear();
            lastComplete = -1;
        }
    }

    /**
     * The messages of {@code round} when every one of {@code members} has said its part in the current generation,
     * in member order; the round is then complete and its messages forgotten.
     */
    public Optional<List<SyncMessage>> complete(long round, Set<String> members) {
        Map<String, SyncMessage> said = rounds.getOrDefault(round, Map.of());
        if (!said.keySet().containsAll(members)) {
            return Optional.empty();
        }
        List<SyncMessage> parts = new ArrayList<>();
        for (String member : new TreeSet<>(members)) {
            parts.add(said.get(member));
        }
        rounds.keySet().removeIf(r -> r <= round);
        lastComplete = round;
        return Optional.of(parts);
    }

    /** Members of the current generation that have not said their part in {@code round} yet. */
    public Set<String> missing(long round, Set<String> members) {
        Set<String> missing = new TreeSet<>(members);
        missing.removeAll(rounds.getOrDefault(round, Map.of()).keySet());
        return missing;
    }

    public int generation() {
        return generation;
    }
}
