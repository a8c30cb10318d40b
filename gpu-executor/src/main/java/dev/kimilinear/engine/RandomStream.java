package dev.kimilinear.engine;

/**
 * The random numbers of sampling, one definition for every backend (sampling.cu computes the
 * same bits): a counter-based stream, so a draw depends only on (seed, sample, position) and
 * the token it is drawn for, never on what else shares the batch or in what order rows run.
 * Each token's Gumbel noise comes from its own uniform number; the sampled token is the argmax
 * of logit / temperature + noise over the kept tokens (the Gumbel-max trick), which makes the
 * choice independent of summation order.
 */
public final class RandomStream {
    private RandomStream() {
    }

    /** The key of one draw: sample {@code sample} of a request seeded {@code seed}, at output {@code position}. */
    public static long key(long seed, int sample, int position) {
        long z = mix(seed + 0x9E3779B97F4A7C15L);
        z = mix(z ^ (0xD1B54A32D192ED03L * (sample + 1L)));
        return mix(z ^ (0xABC98388FB8FAC03L * (position + 1L)));
    }

    /** A uniform number in (0, 1), never 0 or 1, for one token of a draw. */
    public static double uniform(long key, int token) {
        long z = mix(key ^ (0x8CB92BA72F3D8DD7L * (token + 1L)));
        // 52 bits plus a half: exact in a double, never 0 or 1
        return ((z >>> 12) + 0.5) * 0x1.0p-52;
    }

    /** Standard Gumbel noise for one token of a draw: -log(-log u). */
    public static double gumbel(long key, int token) {
        return -Math.log(-Math.log(uniform(key, token)));
    }

    /** splitmix64's finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
