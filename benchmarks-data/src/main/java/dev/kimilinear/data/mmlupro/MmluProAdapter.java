package dev.kimilinear.data.mmlupro;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.kimilinear.data.input.ParsedRows;
import dev.kimilinear.data.input.Selection;
import dev.kimilinear.data.record.AdapterResult;
import dev.kimilinear.data.record.ChatMessage;
import dev.kimilinear.data.record.ErrorRecord;
import dev.kimilinear.data.record.PromptJson;
import dev.kimilinear.data.record.PromptRecord;
import dev.kimilinear.data.record.Sampling;

/**
 * MMLU-Pro test questions to prompt records: the official CoT prompt with {@code shots} worked
 * examples from the validation split of the same category (5 officially), or zero-shot.
 */
public final class MmluProAdapter {
    public static final String BENCHMARK = "mmlu-pro";
    /** The official local evaluation: greedy, up to 2048 new tokens, stop at the next "Question:". */
    public static final Sampling SAMPLING = Sampling.greedy(2048, List.of("Question:"));

    /**
     * @param shots      worked examples per prompt (0 for zero-shot, 5 for the official prompt)
     * @param categories categories to keep; empty keeps all
     * @param limit      at most this many questions, null for all
     * @param seed       with a limit, draw the questions at random with this seed instead of taking the first
     * @param chat       one user message instead of a raw completion prompt
     * @param budget     with it, worked examples are dropped (5, 4, ...) while the prompt is not
     *                   shorter than the budget's tokens, as evaluate_from_local.py does; null keeps
     *                   every example
     */
    public record Options(int shots, List<String> categories, Integer limit, Long seed, boolean chat,
                          PromptBudget budget) {
        public Options(int shots, List<String> categories, Integer limit, Long seed, boolean chat) {
            this(shots, categories, limit, seed, chat, null);
        }

        public Options {
            categories = List.copyOf(categories);
            if (shots < 0) {
                throw new IllegalArgumentException("shots must be non-negative, got " + shots);
            }
        }
    }

    /**
     * The official length rule: a prompt must be shorter than {@code maxPromptTokens} (the model's
     * length minus the 2048 new tokens) as the model's tokenizer counts.
     */
    public record PromptBudget(dev.kimilinear.data.ruler.TokenCounter tokens, int maxPromptTokens) {
        /** The budget evaluate_from_local.py uses for a model of {@code maxModelLength} tokens. */
        public static PromptBudget forModel(dev.kimilinear.data.ruler.TokenCounter tokens, int maxModelLength) {
            return new PromptBudget(tokens, maxModelLength - SAMPLING.maxTokens());
        }
    }

    private MmluProAdapter() {
    }

    public static AdapterResult adapt(Path test, Path validation, Options options) {
        if (options.shots() > 0 && validation == null) {
            throw new IllegalArgumentException("the " + options.shots() + "-shot MMLU-Pro prompt needs the validation "
                    + "split (worked examples): pass --validation PATH, or use --shots 0 for zero-shot prompts");
        }
        List<ErrorRecord> errors = new ArrayList<>();
        Map<String, List<MmluProQuestion>> examples = new HashMap<>();
        if (options.shots() > 0) {
            ParsedRows<MmluProQuestion> parsed = MmluProReader.read(validation);
            errors.addAll(parsed.errors());
            for (ParsedRows.Row<MmluProQuestion> row : parsed.rows()) {
                MmluProQuestion example = MmluProPrompt.official(row.value());
                if (example.cotContent() == null || example.cotContent().isBlank()) {
                    errors.add(new ErrorRecord(parsed.source(), row.number(),
                            "field cot_content is missing or empty; a worked example needs it"));
                    continue;
                }
                List<MmluProQuestion> list = examples.computeIfAbsent(example.category(), c -> new ArrayList<>());
                if (list.size() < options.shots()) {
                    list.add(example);
                }
            }
        }

        ParsedRows<MmluProQuestion> parsed = MmluProReader.read(test);
        errors.addAll(parsed.errors());
        Set<String> wanted = categoriesToKeep(parsed, options.categories());
        List<ParsedRows.Row<MmluProQuestion>> kept = new ArrayList<>();
        Map<Long, Long> firstRowOfId = new HashMap<>();
        for (ParsedRows.Row<MmluProQuestion> row : parsed.rows()) {
            MmluProQuestion question = row.value();
            if (!wanted.isEmpty() && !wanted.contains(question.category())) {
                continue;
            }
            Long first = firstRowOfId.putIfAbsent(question.questionId(), row.number());
            if (first != null) {
                errors.add(new ErrorRecord(parsed.source(), row.number(),
                        "duplicate question_id " + question.questionId() + " (first at row " + first + ")"));
                continue;
            }
            if (options.shots() > 0 && !examples.containsKey(question.category())) {
                errors.add(new ErrorRecord(parsed.source(), row.number(), "category '" + question.category()
                        + "' has no worked examples in the validation split " + validation));
                continue;
            }
            kept.add(row);
        }

        List<PromptRecord> records = new ArrayList<>();
        for (ParsedRows.Row<MmluProQuestion> row : Selection.limit(kept, options.limit(), options.seed())) {
            MmluProQuestion question = MmluProPrompt.official(row.value());
            List<MmluProQuestion> shots = options.shots() > 0 ? examples.get(question.category()) : List.of();
            if (options.budget() != null) {
                // drop worked examples from the end while the prompt is too long (down to none)
                while (!shots.isEmpty() && options.budget().tokens().count(MmluProPrompt.build(question, shots))
                        >= options.budget().maxPromptTokens()) {
                    shots = shots.subList(0, shots.size() - 1);
                }
            }
            records.add(toRecord(question, shots, options.chat()));
        }
        return new AdapterResult(records, errors);
    }

    private static Set<String> categoriesToKeep(ParsedRows<MmluProQuestion> parsed, List<String> requested) {
        Set<String> known = new TreeSet<>();
        parsed.rows().forEach(row -> known.add(row.value().category()));
        Set<String> wanted = new LinkedHashSet<>();
        for (String category : requested) {
            String name = category.trim();
            if (!known.contains(name)) {
                throw new IllegalArgumentException("unknown MMLU-Pro category '" + name + "' in " + parsed.source()
                        + "; known: " + String.join(", ", known));
            }
            wanted.add(name);
        }
        return wanted;
    }

    static PromptRecord toRecord(MmluProQuestion question, List<MmluProQuestion> shots, boolean chat) {
        String prompt = MmluProPrompt.build(question, shots);
        String nativeId = Long.toString(question.questionId());
        String reference = reference(question, shots.size(), chat);
        return chat
                ? PromptRecord.chat(BENCHMARK, question.category(), nativeId, List.of(ChatMessage.user(prompt)),
                        reference, SAMPLING)
                : PromptRecord.completion(BENCHMARK, question.category(), nativeId, prompt, reference, SAMPLING);
    }

    private static String reference(MmluProQuestion question, int shots, boolean chat) {
        ObjectNode node = PromptJson.MAPPER.createObjectNode();
        node.put("answer", question.answer());
        node.put("answer_index", question.answerIndex());
        node.put("num_options", question.options().size());
        question.options().forEach(node.putArray("options")::add);
        node.put("question_id", question.questionId());
        node.put("category", question.category());
        node.put("src", question.src());
        node.put("shots", shots);
        node.put("style", chat ? "chat" : "completion");
        return PromptJson.write(node);
    }
}
