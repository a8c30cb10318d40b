package dev.kimilinear.data.mmlupro;

import java.util.List;

/**
 * The official MMLU-Pro chain-of-thought prompt: a header naming the category, worked examples
 * from the validation split, then the question ending with "Answer: Let's think step by step."
 */
public final class MmluProPrompt {
    static final String HEADER = "The following are multiple choice questions (with answers) about {$}. Think step by "
            + "step and then finish your answer with \"the answer is (X)\" where X is the correct letter choice.";
    static final String COT_START = "A: Let's think step by step.";
    static final String ANSWER_START = "Answer: Let's think step by step.";
    /** initial_prompt.txt ends in three newlines and evaluate_from_local.py adds one. */
    static final String AFTER_HEADER = "\n\n\n\n";
    /** Placeholder options the official preprocessing drops before lettering. */
    static final String NOT_AN_OPTION = "N/A";

    private MmluProPrompt() {
    }

    /** The prompt for {@code question} after {@code examples} (zero or more worked examples). */
    public static String build(MmluProQuestion question, List<MmluProQuestion> examples) {
        StringBuilder prompt = new StringBuilder();
        prompt.append(HEADER.replace("{$}", question.category())).append(AFTER_HEADER);
        for (MmluProQuestion example : examples) {
            appendQuestion(prompt, example);
            prompt.append(example.cotContent().replace(COT_START, ANSWER_START)).append("\n\n");
        }
        appendQuestion(prompt, question);
        prompt.append(ANSWER_START);
        return prompt.toString();
    }

    /** The options as the official preprocessing leaves them: every "N/A" dropped, the rest in order. */
    public static java.util.List<String> officialOptions(java.util.List<String> options) {
        return options.stream().filter(o -> !NOT_AN_OPTION.equals(o)).toList();
    }

    /** The question with its options as the official preprocessing leaves them. */
    public static MmluProQuestion official(MmluProQuestion q) {
        java.util.List<String> options = officialOptions(q.options());
        return options.size() == q.options().size() ? q : new MmluProQuestion(q.questionId(), q.question(), options,
                q.answer(), q.answerIndex(), q.cotContent(), q.category(), q.src());
    }

    private static void appendQuestion(StringBuilder prompt, MmluProQuestion question) {
        prompt.append("Question:\n").append(question.question()).append('\n').append("Options:\n");
        List<String> options = officialOptions(question.options());
        for (int i = 0; i < options.size(); i++) {
            prompt.append(MmluProQuestion.LETTERS.charAt(i)).append(". ").append(options.get(i)).append('\n');
        }
    }
}
