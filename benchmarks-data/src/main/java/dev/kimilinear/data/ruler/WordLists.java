package dev.kimilinear.data.ruler;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The English adjectives and nouns that needle keys are made of (resources of this module). */
final class WordLists {
    static final List<String> ADJECTIVES = load("adjectives.txt");
    static final List<String> NOUNS = load("nouns.txt");

    private WordLists() {
    }

    /** The number of distinct "adjective-noun" pairs. */
    static long pairCount() {
        return (long) ADJECTIVES.size() * NOUNS.size();
    }

    /** Pair number {@code index} in [0, pairCount()). */
    static String pair(long index) {
        return ADJECTIVES.get((int) (index / NOUNS.size())) + "-" + NOUNS.get((int) (index % NOUNS.size()));
    }

    /** The non-blank lines of a resource beside this class, trimmed; lines starting with '#' are comments. */
    static List<String> load(String name) {
        try (InputStream in = WordLists.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("word list resource " + name + " is missing from the classpath");
            }
            List<String> words = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String word = line.trim();
                if (!word.isEmpty() && !word.startsWith("#")) {
                    words.add(word);
                }
            }
            return List.copyOf(words);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read word list " + name, e);
        }
    }
}
