package dev.kimilinear.engine;

/**
 * A backend over several devices that can trade replicated weights for cache memory, as
 * KunServe does: normally each device holds a whole replica of the model and serves its own
 * sequences (data parallel), so a sequence's slot and pages must all come from one replica's
 * {@linkplain #groups group}; under memory pressure it {@linkplain #relieve drops} every copy
 * of each layer but one, becomes a pipeline over the same devices, and gives the freed bytes
 * to the latent cache, every sequence's state moved to the stages that now hold its layers and
 * keeping its ids; when pressure passes it {@linkplain #restore goes back} to replicas.
 *
 * <p>Ids: in the replicated layout group g holds slots [g S, (g+1) S) and pages [g P, (g+1) P)
 * ({@link #slotsPerGroup}, {@link #pagesPerGroup}); in the pooled layout there is one group.
 */
public interface ElasticBackend extends Backend {

    /** The replicas of the replicated layout (at least 2). */
    int replicas();

    /** Slots and pages each replica holds in the replicated layout (after {@link #reserve}). */
    int replicaSlots();

    int replicaPages();

    /** The slot and page groups of the present layout: the replicas, or 1 when pooled. */
    int groups();

    /** Slots each group holds (after {@link #reserve}). */
    int slotsPerGroup();

    /** Pages each group holds (after {@link #reserve}). */
    int pagesPerGroup();

    /** Whether {@link #relieve} may pool the replicas (a sequence may then outgrow one replica's pages). */
    boolean reliefAllowed();

    /**
     * Switches the replicas to one pipeline, keeping every held slot and page id and its
     * contents (slotsHeld, pagesHeld by id: what the engine holds), and grows the cache with the
     * bytes the dropped weights held. Returns the pages there are now (at least as many as
     * before), or -1 when the layout is pooled already or relief is not allowed.
     */
    int relieve(boolean[] slotsHeld, boolean[] pagesHeld);

    /**
     * Back to replicas. {@code slotMoves[i]} is the replicated-layout id that pooled slot i
     * moves to (-1: free), {@code pageMoves[p]} likewise for pages; every moved slot and page
     * keeps its contents, and a sequence's slot and pages must land in one group. The caller
     * checks that the held slots and pages fit the replicas.
     */
    void restore(int[] slotMoves, int[] pageMoves);
}
