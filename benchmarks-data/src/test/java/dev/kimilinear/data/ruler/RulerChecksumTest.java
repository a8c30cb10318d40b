package dev.kimilinear.data.ruler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.kimilinear.data.record.PromptJson;

/**
 * One sample per task at 64k tokens, pinned by the SHA-256 of its prompt record (prompt, expected
 * outputs, answer prefix, token counts, haystack size, sampling), so that any change to what the
 * generators make shows up here and is made on purpose. Inputs are the tests' own stand-ins
 * (RulerFixtures) and the counter is one token per word or mark: nothing outside the test moves
 * these values.
 */
class RulerChecksumTest {
    static final int LENGTH = 65_536;
    static final long SEED = 42;

    /** Recorded SHA-256 of each task's record; change only together with the generator change that explains it. */
    static final Map<RulerTask, String> EXPECTED = new EnumMap<>(Map.ofEntries(
            Map.entry(RulerTask.NIAH_SINGLE_1, "f41a45fa0001d2aaf956b9d70a87653c0d7234c1fb9b638024d46516e78863e9"),
            Map.entry(RulerTask.NIAH_SINGLE_2, "22a50302512e3556b3e3303b0d20edf06180d5bd8a5e9fdecc3e9004aae82f6d"),
            Map.entry(RulerTask.NIAH_SINGLE_3, "bacfdc028403e0900da82af34ef79ebe7e6786b69d622b225aec7c2955124219"),
            Map.entry(RulerTask.NIAH_MULTIKEY_1, "5859e92bfab7d90d32b8dc22193ae8c7a61f8a4133d5d5bb49c49e0b4fa3e58f"),
            Map.entry(RulerTask.NIAH_MULTIKEY_2, "36ef43d5af43c817d0b6bb21d427300a1d35728b5693aa25f4cb4e7cb91fccb2"),
            Map.entry(RulerTask.NIAH_MULTIKEY_3, "d822b2f2af11d72feb55ded2d52d42fa63bd36e56b757cffea51c59fe53d6a4c"),
            Map.entry(RulerTask.NIAH_MULTIVALUE, "a3f8416c0660a7caec103a5d647abff6d78602777d1e4a882f32c8fd2221b47f"),
            Map.entry(RulerTask.NIAH_MULTIQUERY, "b5eba858a17e49ec8025d5b5cd9f163755931f4e857ee2b62f16c7be15cbdb92"),
            Map.entry(RulerTask.VT, "53bc2df982fec76de3a2603eb85bef1357fd87ce7f734a5e4d3e18ab091eb4ab"),
            Map.entry(RulerTask.CWE, "0570b0f74c63d8542670e52314b011a7973de5326de76a2b89ca03e6c4407ebd"),
            Map.entry(RulerTask.FWE, "48de7ef3efe6564874a133b22303cb650f3400823701a1e576c0283f379d1a05"),
            Map.entry(RulerTask.QA_1, "f8e1c6fd11d448b30c6363debe9c8d852f2d2629548858462fde9cb6521117f5"),
            Map.entry(RulerTask.QA_2, "fa702feda100bcd53e4bdf79fea919a2be35649d3d723969ea11e0d289321700")));

    @TempDir
    static Path inputs;

    private static RulerGenerator generator;

    @BeforeAll
    static void generator() throws IOException {
        generator = new RulerGenerator(TestCounters.WORDS, new RulerGenerator.Options(List.of(LENGTH), 1,
                List.of(RulerTask.values()), SEED, RulerFixtures.essay(inputs), RulerFixtures.squad(inputs),
                RulerFixtures.hotpotqa(inputs), 1));
    }

    @ParameterizedTest
    @EnumSource(RulerTask.class)
    void theSampleAt64kIsTheRecordedOne(RulerTask task) {
        RulerSample sample = generator.sample(task, LENGTH, 0);
        String record = PromptJson.write(PromptJson.toJson(generator.toRecord(task, LENGTH, 0, sample)));
        String actual = sha256(record);
        assertEquals(EXPECTED.get(task), actual, () -> task.taskName() + "@" + LENGTH + " (seed " + SEED + ", sample 0) "
                + "is no longer the recorded sample: the generator's output changed. If the change is intended, "
                + "record the new value in RulerChecksumTest.EXPECTED, as\n    Map.entry(RulerTask." + task.name()
                + ", \"" + actual + "\"),\nin the same commit as the generator change, and say in its message why "
                + "the samples changed; otherwise the change is a regression.");
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
