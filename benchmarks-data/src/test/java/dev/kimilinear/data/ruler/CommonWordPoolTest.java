package dev.kimilinear.data.ruler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;

/** The shipped cwe word pool: big enough, single common words only, nothing offensive, its licence beside it. */
class CommonWordPoolTest {
    @Test
    void thePoolHasAtLeastEightThousandCommonWordsAndMoreForLongLengths() {
        assertTrue(CommonWordPool.COMMON.size() >= 8000, "common tier: " + CommonWordPool.COMMON.size());
        assertTrue(CommonWordPool.ALL.size() > CommonWordPool.COMMON.size(), "whole pool: " + CommonWordPool.ALL.size());
        assertEquals(CommonWordPool.COMMON, CommonWordPool.ALL.subList(0, CommonWordPool.COMMON.size()));
    }

    @Test
    void everyWordIsOneLowercaseWordOfThreeToTwelveLettersListedOnce() {
        for (String word : CommonWordPool.ALL) {
            assertTrue(word.matches("[a-z]{3,12}"), "not a single lowercase word: '" + word + "'");
        }
        assertEquals(CommonWordPool.ALL.size(), new HashSet<>(CommonWordPool.ALL).size(), "a word is listed twice");
    }

    @Test
    void noWordIsOnTheOffensiveList() throws IOException {
        Predicate<String> blocked = blocklist();
        List<String> found = CommonWordPool.ALL.stream().filter(blocked).toList();
        assertEquals(List.of(), found, "offensive words in the pool (rebuild it with tools/word-pool.sh)");
        assertTrue(blocked.test("bullshit") && blocked.test("nigger") && !blocked.test("assassin"),
                "the blocklist's stems and exact words apply as its header says");
    }

    @Test
    void theLicenceNoticeShipsBesideThePool() throws IOException {
        try (InputStream in = CommonWordPool.class.getResourceAsStream("NOTICE-SCOWL.txt")) {
            assertNotNull(in, "NOTICE-SCOWL.txt is missing beside the word pool");
            String notice = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(notice.contains("Copyright 2000-2018 by Kevin Atkinson"), "SCOWL's copyright line");
            assertTrue(notice.contains("Permission to use, copy, modify, distribute and sell"), "SCOWL's permission notice");
        }
        List<String> header = new ArrayList<>();
        try (InputStream in = CommonWordPool.class.getResourceAsStream(CommonWordPool.COMMON_FILE)) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("#")) {
                    header.add(line);
                }
            }
        }
        assertTrue(String.join("\n", header).contains("NOTICE-SCOWL.txt"), "the pool's header names its licence");
    }

    /** Entries of offensive-words.txt: "word" exact, "stem*" a prefix, "*part*" anywhere in the word. */
    private static Predicate<String> blocklist() throws IOException {
        Predicate<String> blocked = word -> false;
        try (InputStream in = CommonWordPoolTest.class.getResourceAsStream("offensive-words.txt")) {
            assertNotNull(in, "test resource offensive-words.txt is missing");
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String entry = line.trim();
                if (entry.isEmpty() || entry.startsWith("#")) {
                    continue;
                }
                Predicate<String> rule;
                if (entry.startsWith("*") && entry.endsWith("*")) {
                    String part = entry.substring(1, entry.length() - 1);
                    rule = word -> word.contains(part);
                } else if (entry.endsWith("*")) {
                    String stem = entry.substring(0, entry.length() - 1);
                    rule = word -> word.startsWith(stem);
                } else {
                    rule = entry::equals;
                }
                blocked = blocked.or(rule);
            }
        }
        return blocked;
    }
}
