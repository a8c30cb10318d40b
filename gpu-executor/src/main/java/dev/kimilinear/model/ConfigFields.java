package dev.kimilinear.model;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * Typed access to the fields of one JSON object of a config file, where a field may be
 * spelled several ways; spellings that are both present must agree.
 */
final class ConfigFields {
    private final JsonNode node;
    private final String source;
    private final String prefix;

    ConfigFields(JsonNode node, String source, String prefix) {
        this.node = node;
        this.source = source;
        this.prefix = prefix;
    }

    String source() {
        return source;
    }

    /** The path of this object's fields in the file, e.g. "linear_attn_config." ("" at the top). */
    String prefix() {
        return prefix;
    }

    /** The first non-null spelling present, or null; two present spellings must be equal. */
    JsonNode get(String... names) {
        JsonNode found = null;
        String foundName = null;
        for (String name : names) {
            JsonNode v = node.get(name);
            if (v == null || v.isNull()) {
                continue;
            }
            if (found == null) {
                found = v;
                foundName = name;
            } else if (!sameValue(found, v)) {
                throw error(foundName, found + ", but " + prefix + name + " = " + v
                        + "; expected the two spellings to agree");
            }
        }
        return found;
    }

    /** True when the key is there at all, even as null. */
    boolean present(String name) {
        return node.has(name);
    }

    boolean has(String... names) {
        return get(names) != null;
    }

    /** The spelling present, for error messages; the first one when none is. */
    String nameOf(String... names) {
        for (String name : names) {
            JsonNode v = node.get(name);
            if (v != null && !v.isNull()) {
                return name;
            }
        }
        return names[0];
    }

    int requiredInt(int min, String... names) {
        JsonNode v = get(names);
        if (v == null) {
            throw missing(names, "an integer >= " + min);
        }
        return checkedInt(v, min, names);
    }

    int optionalInt(int defaultValue, int min, String... names) {
        JsonNode v = get(names);
        return v == null ? defaultValue : checkedInt(v, min, names);
    }

    long requiredLong(long min, String... names) {
        JsonNode v = get(names);
        if (v == null) {
            throw missing(names, "an integer >= " + min);
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < min) {
            throw error(nameOf(names), v + "; expected an integer >= " + min);
        }
        return v.longValue();
    }

    float requiredPositiveFloat(String... names) {
        JsonNode v = get(names);
        if (v == null) {
            throw missing(names, "a positive number");
        }
        return positiveFloat(v, names);
    }

    float optionalPositiveFloat(float defaultValue, String... names) {
        JsonNode v = get(names);
        return v == null ? defaultValue : positiveFloat(v, names);
    }

    boolean optionalBoolean(boolean defaultValue, String... names) {
        JsonNode v = get(names);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isBoolean()) {
            throw error(nameOf(names), v + "; expected true or false");
        }
        return v.booleanValue();
    }

    String optionalString(String defaultValue, String... names) {
        JsonNode v = get(names);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isTextual()) {
            throw error(nameOf(names), v + "; expected a string");
        }
        return v.textValue();
    }

    /** A list of integers; null when absent. */
    List<Integer> intList(String name) {
        JsonNode v = get(name);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            throw error(name, v + "; expected a list of integers");
        }
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode e = v.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                throw error(name + "[" + i + "]", e + "; expected an integer");
            }
            out.add(e.intValue());
        }
        return out;
    }

    /** A list of strings; null when absent. */
    List<String> stringList(String name) {
        JsonNode v = get(name);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            throw error(name, v + "; expected a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode e = v.get(i);
            if (!e.isTextual()) {
                throw error(name + "[" + i + "]", e + "; expected a string");
            }
            out.add(e.textValue());
        }
        return out;
    }

    ConfigException error(String field, String detail) {
        return new ConfigException(source + ": field " + prefix + field + " = " + detail);
    }

    ConfigException missing(String[] names, String expected) {
        StringBuilder spelled = new StringBuilder(prefix + names[0]);
        for (int i = 1; i < names.length; i++) {
            spelled.append(i == names.length - 1 ? " or " : ", ").append(prefix).append(names[i]);
        }
        return new ConfigException(source + ": missing field " + spelled + "; expected " + expected);
    }

    private int checkedInt(JsonNode v, int min, String... names) {
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < min) {
            throw error(nameOf(names), v + "; expected an integer >= " + min);
        }
        return v.intValue();
    }

    private float positiveFloat(JsonNode v, String... names) {
        if (!v.isNumber() || !(v.doubleValue() > 0) || Double.isInfinite(v.doubleValue())) {
            throw error(nameOf(names), v + "; expected a positive number");
        }
        return (float) v.doubleValue();
    }

    private static boolean sameValue(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) {
            return a.doubleValue() == b.doubleValue();
        }
        return a.equals(b);
    }
}
