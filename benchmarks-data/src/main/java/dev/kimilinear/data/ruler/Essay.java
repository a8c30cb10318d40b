package dev.kimilinear.data.ruler;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import dev.kimilinear.data.input.BadEncodingException;
import dev.kimilinear.data.input.FileKind;
import dev.kimilinear.data.input.InputBytes;
import dev.kimilinear.data.input.InputException;
import dev.kimilinear.data.input.StrictUtf8;

/**
 * Essay text as a haystack: its words (whitespace collapsed, as RULER does) repeated as often as
 * needed, cut after any number of words, and split into sentences between which needles go.
 * Sentence token counts are computed once and shared by all samples.
 */
final class Essay {
    private static final Set<String> ABBREVIATIONS = Set.of("mr.", "mrs.", "ms.", "dr.", "st.", "vs.", "etc.", "e.g.",
            "i.e.", "jr.", "sr.", "prof.", "inc.", "no.", "cf.", "approx.");

    private final String[] words;
    /** Exclusive end (a word index) of each sentence; the last is {@code words.length}. */
    private final int[] sentenceEnds;
    private long[] costPrefix = new long[1];
    private int costed = 0;

    Essay(String text, String source) {
        String[] split = text.trim().split("\\s+");
        if (split.length == 0 || split[0].isEmpty()) {
            throw new InputException(source + ": the essay text is empty");
        }
        this.words = split;
        this.sentenceEnds = sentenceEnds(split);
    }

    static Essay load(Path file) {
        FileKind kind = FileKind.detect(file);
        if (kind != FileKind.TEXT && kind != FileKind.JSON_OBJECT && kind != FileKind.JSON_ARRAY) {
            throw new InputException(file + ": expected essay text (UTF-8), found " + kind.description());
        }
        String text;
        try {
            text = StrictUtf8.decode(InputBytes.read(file));
        } catch (BadEncodingException e) {
            throw new InputException(file + ": essay text is not UTF-8: " + e.getMessage());
        }
        if (kind == FileKind.TEXT) {
            return new Essay(text, file.toString());
        }
        // RULER's own essays file, PaulGrahamEssays.json: {"text": "..."}
        com.fasterxml.jackson.databind.JsonNode root;
        try {
            root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new InputException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        com.fasterxml.jackson.databind.JsonNode field = root.isObject() ? root.get("text") : null;
        if (field == null || !field.isTextual()) {
            throw new InputException(file + ": expected RULER's essays JSON, an object whose field 'text' holds the"
                    + " essays (PaulGrahamEssays.json), or plain text; found " + (root.isObject()
                    ? "an object with fields " + fieldNames(root)
                    : "a JSON " + root.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        return new Essay(field.asText(), file.toString());
    }

    private static java.util.List<String> fieldNames(com.fasterxml.jackson.databind.JsonNode object) {
        java.util.List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    int wordCount() {
        return words.length;
    }

    private static int[] sentenceEnds(String[] words) {
        List<Integer> ends = new ArrayList<>();
        for (int i = 0; i < words.length; i++) {
            // never cut inside a sentence: needles go between whole sentences, as RULER places them
            if (i == words.length - 1 || endsSentence(words[i], words[i + 1])) {
                ends.add(i + 1);
            }
        }
        return ends.stream().mapToInt(Integer::intValue).toArray();
    }

    private static boolean endsSentence(String word, String next) {
        int end = word.length();
        while (end > 0 && "\"')]\u201d\u2019".indexOf(word.charAt(end - 1)) >= 0) {
            end--;
        }
        if (end == 0 || ".!?".indexOf(word.charAt(end - 1)) < 0) {
            return false;
        }
        String core = word.substring(0, end).toLowerCase(java.util.Locale.ROOT);
        if (ABBREVIATIONS.contains(core) || (core.length() == 2 && Character.isLetter(core.charAt(0)))) {
            return false;
        }
        char first = next.charAt(0);
        return Character.isUpperCase(first) || Character.isDigit(first) || "\"'(\u201c\u2018".indexOf(first) >= 0;
    }

    private String sentence(int index) {
        int start = index == 0 ? 0 : sentenceEnds[index - 1];
        return String.join(" ", Arrays.asList(words).subList(start, sentenceEnds[index]));
    }

    /** Tokens of sentences 0..k-1 of one pass, each counted with the space that joins it to the previous one. */
    private synchronized long sentenceCosts(int k, PieceCounts pieces) {
        if (k > costed) {
            if (k >= costPrefix.length) {
                costPrefix = Arrays.copyOf(costPrefix, Math.max(k + 1, Math.min(sentenceEnds.length + 1, costPrefix.length * 2)));
            }
            for (int i = costed; i < k; i++) {
                costPrefix[i + 1] = costPrefix[i] + pieces.once(" " + sentence(i));
            }
            costed = k;
        }
        return costPrefix[k];
    }

    /** Estimated tokens of the first {@code n} words as sentences joined by spaces. */
    long estimate(long n, PieceCounts pieces) {
        long cycles = n / words.length;
        int rest = (int) (n % words.length);
        long tokens = cycles == 0 ? 0 : cycles * sentenceCosts(sentenceEnds.length, pieces);
        int full = fullSentences(rest);
        tokens += sentenceCosts(full, pieces);
        int start = full == 0 ? 0 : sentenceEnds[full - 1];
        if (rest > start) {
            tokens += pieces.once(" " + String.join(" ", Arrays.asList(words).subList(start, rest)));
        }
        return tokens;
    }

    /** The first {@code n} words as sentences (the essay repeats when it is shorter; the last sentence may be cut). */
    List<String> sentences(long n) {
        List<String> sentences = new ArrayList<>();
        long remaining = n;
        while (remaining >= words.length) {
            for (int i = 0; i < sentenceEnds.length; i++) {
                sentences.add(sentence(i));
            }
            remaining -= words.length;
        }
        int rest = (int) remaining;
        int full = fullSentences(rest);
        for (int i = 0; i < full; i++) {
            sentences.add(sentence(i));
        }
        int start = full == 0 ? 0 : sentenceEnds[full - 1];
        if (rest > start) {
            sentences.add(String.join(" ", Arrays.asList(words).subList(start, rest)));
        }
        return sentences;
    }

    /** How many whole sentences the first {@code rest} words of one pass hold. */
    private int fullSentences(int rest) {
        int index = Arrays.binarySearch(sentenceEnds, rest);
        return index >= 0 ? index + 1 : -index - 1;
    }
}
