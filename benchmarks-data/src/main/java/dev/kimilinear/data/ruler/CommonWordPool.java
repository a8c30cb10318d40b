package dev.kimilinear.data.ruler;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The single English words of common-words lists (cwe), from SCOWL (see NOTICE-SCOWL.txt beside
 * the resources). Like RULER, which draws from its first word list while it suffices and from a
 * larger one past that, there are two tiers: {@link #COMMON} (SCOWL sizes 10-40) and the whole
 * pool {@link #ALL}, which adds SCOWL sizes 50-60 for the longest lengths.
 */
final class CommonWordPool {
    static final String COMMON_FILE = "common-words.txt";
    static final String EXTENDED_FILE = "extended-words.txt";
    /** What a pool word is: lowercase letters only, so never a compound, 3 to 12 of them. */
    static final Pattern WORD = Pattern.compile("[a-z]{3,12}");

    static final List<String> COMMON = checked(COMMON_FILE, WordLists.load(COMMON_FILE), Set.of());
    static final List<String> ALL = all();

    private CommonWordPool() {
    }

    private static List<String> all() {
        List<String> all = new ArrayList<>(COMMON);
        all.addAll(checked(EXTENDED_FILE, WordLists.load(EXTENDED_FILE), new HashSet<>(COMMON)));
        return List.copyOf(all);
    }

    /** The words of one resource, failing on any that is not a pool word or is there twice. */
    private static List<String> checked(String file, List<String> words, Set<String> earlier) {
        Set<String> seen = new HashSet<>(earlier);
        for (String word : words) {
            if (!WORD.matcher(word).matches()) {
                throw new IllegalStateException(file + ": '" + word + "' is not 3-12 lowercase letters a-z");
            }
            if (!seen.add(word)) {
                throw new IllegalStateException(file + ": '" + word + "' is listed twice (or also in " + COMMON_FILE + ")");
            }
        }
        return words;
    }
}
