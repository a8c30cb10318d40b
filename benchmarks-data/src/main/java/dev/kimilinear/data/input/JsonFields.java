package dev.kimilinear.data.input;

import com.fasterxml.jackson.databind.JsonNode;

/** Typed reads of one field of a JSON record; errors name the field and what it held. */
public final class JsonFields {
    private JsonFields() {
    }

    /** The field's string, or null when it is absent or null; anything else is an error. */
    public static String optionalText(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new IllegalArgumentException("field " + field + " must be a string, found " + value.getNodeType());
        }
        return value.asText();
    }
}
