package dev.kimilinear.job.config;

import java.nio.file.Path;

/**
 * Offline generation input: a Parquet or JSONL file (or directory of parts) with a text column
 * or a chat messages column; {@code idColumn} null numbers the rows instead.
 *
 * @param textColumn {@code generate.column}: the prompt column, text or (list-typed) chat
 *                   messages; null finds the first of text, prompt, question, input
 */
public record GenerateSpec(Path input, String textColumn, String messagesColumn, String idColumn, String dataset) {
}
