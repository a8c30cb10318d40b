package dev.kimilinear.cuda;

import dev.kimilinear.engine.RowChoices;
import dev.kimilinear.engine.SamplingParams;
import dev.kimilinear.engine.StepBatch;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Cutting a step into micro-batches: sequences cut mid-chunk continue from their context; choices follow their rows. */
class MicroBatchPlanTest {

    /** Two decode tokens, then a 7-token chunk at context 5, then a 3-token prompt; logits of the last token of each. */
    private static StepBatch step() {
        int[] tokens = {10, 11, 20, 21, 22, 23, 24, 25, 26, 30, 31, 32};
        int[] cu = {0, 1, 2, 9, 12};
        int[][] tables = {{0}, {1}, {2, 3}, {4}};
        return new StepBatch(tokens, cu, new int[] {7, 8, 9, 6}, new int[] {40, 3, 5, 0}, tables,
                new int[] {0, 1, 8, 11});
    }

    @Test
    void aCutInsideAChunkContinuesFromTheContextItsFirstPartLeaves() {
        StepBatch b = step();
        StepBatch head = b.tokens(0, 5);
        assertArrayEquals(new int[] {10, 11, 20, 21, 22}, head.tokens());
        assertArrayEquals(new int[] {0, 1, 2, 5}, head.cuSeqlens());
        assertArrayEquals(new int[] {7, 8, 9}, head.slots());
        assertArrayEquals(new int[] {40, 3, 5}, head.contextLengths());
        assertArrayEquals(new int[] {0, 1}, head.logitRows());
        StepBatch tail = b.tokens(5, 12);
        assertArrayEquals(new int[] {23, 24, 25, 26, 30, 31, 32}, tail.tokens());
        assertArrayEquals(new int[] {0, 4, 7}, tail.cuSeqlens());
        assertArrayEquals(new int[] {9, 6}, tail.slots());
        // the chunk's first 3 tokens are in its cache by the time the second part runs
        assertArrayEquals(new int[] {8, 0}, tail.contextLengths());
        assertArrayEquals(new int[] {2, 3}, tail.blockTables()[0]);
        assertArrayEquals(new int[] {3, 6}, tail.logitRows());
        assertThrows(IllegalArgumentException.class, () -> b.tokens(5, 5));
        assertThrows(IllegalArgumentException.class, () -> b.tokens(0, 13));
    }

    @Test
    void partsAreEvenAndNoSmallerThanAsked() {
        StepBatch b = step();
        assertSame(b, MicroBatchPlan.of(b, null, 4, 7).batch(0));   // 12 tokens: not two parts of 7
        MicroBatchPlan three = MicroBatchPlan.of(b, null, 3, 4);
        assertEquals(3, three.size());
        int total = 0;
        for (int i = 0; i < 3; i++) {
            assertEquals(4, three.batch(i).totalTokens());
            total += three.batch(i).totalTokens();
        }
        assertEquals(12, total);
        assertEquals(2, MicroBatchPlan.of(b, null, 3, 5).size());
    }

    @Test
    void choicesGoToThePartHoldingTheirRowAndTheirAnswersComeBack() {
        StepBatch b = step();
        RowChoices choices = new RowChoices(100);
        SamplingParams drawn = new SamplingParams(4, 0.7, 0.9, 5, 3, List.of(), List.of(), 2, 2);
        choices.add(3, SamplingParams.greedy(4), 0, 1);   // the prompt's row (part 2)
        choices.add(0, drawn, 1, 9);                       // first decode token (part 0)
        choices.addScore(2, 17);                           // the chunk's last token (token 8: part 2)
        choices.add(0, drawn, 0, 9);
        MicroBatchPlan plan = MicroBatchPlan.of(b, choices, 3, 4);
        RowChoices p0 = plan.choices(0);
        RowChoices p1 = plan.choices(1);
        RowChoices p2 = plan.choices(2);
        assertEquals(2, p0.count());
        assertEquals(0, p1.count());   // tokens 4..7 end no sequence
        assertEquals(2, p2.count());
        assertEquals(0, p0.row(0));
        assertEquals(1, p0.sample(0));
        assertEquals(0, p0.sample(1));
        assertEquals(0.7, p0.temperature(0));
        assertEquals(2, p0.topCount(0));
        assertEquals(1, p2.row(0));   // token 11: part 2's second logits row (tokens 8 and 11)
        assertEquals(-1, p2.target(0));
        assertEquals(0, p2.row(1));
        assertEquals(17, p2.target(1));
        choices.prepareAnswers();
        for (RowChoices p : List.of(p0, p1, p2)) {
            p.prepareAnswers();
        }
        p0.setToken(0, 41);
        p0.setLogprob(0, -0.5);
        p0.setTop(0, 0, 41, -0.5);
        p0.setTop(0, 1, 42, -1.5);
        p0.setToken(1, 43);
        p2.setToken(0, 45);
        p2.setToken(1, 44);
        p2.setLogprob(1, -2.0);
        for (int i = 0; i < 3; i++) {
            plan.answer(i, choices);
        }
        assertEquals(45, choices.token(0));
        assertEquals(41, choices.token(1));
        assertEquals(-0.5, choices.logprob(1));
        assertEquals(42, choices.topId(1, 1));
        assertEquals(-1.5, choices.topLogprob(1, 1));
        assertEquals(44, choices.token(2));
        assertEquals(-2.0, choices.logprob(2));
        assertEquals(43, choices.token(3));
    }
}
