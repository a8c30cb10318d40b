package dev.kimilinear.eval.records;

import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

/** Parquet schemas of the shared record kinds; every column optional, as Spark writes them. */
public final class RecordSchemas {

  private RecordSchemas() {}

  public static final MessageType PROMPTS = MessageTypeParser.parseMessageType("""
      message prompt {
        optional binary id (STRING);
        optional binary benchmark (STRING);
        optional binary subset (STRING);
        optional group messages (LIST) {
          repeated group list {
            optional group element {
              optional binary role (STRING);
              optional binary content (STRING);
            }
          }
        }
        optional binary prompt (STRING);
        optional binary reference (STRING);
        optional group sampling {
          optional int32 max_tokens;
          optional group stop (LIST) {
            repeated group list {
              optional binary element (STRING);
            }
          }
          optional int32 n;
          optional double temperature;
        }
      }
      """);

  public static final MessageType GENERATIONS = MessageTypeParser.parseMessageType("""
      message generation {
        optional binary id (STRING);
        optional binary benchmark (STRING);
        optional binary subset (STRING);
        optional int32 sample;
        optional binary text (STRING);
        optional binary finish_reason (STRING);
        optional int32 prompt_tokens;
        optional int32 output_tokens;
        optional binary error (STRING);
      }
      """);

  public static final MessageType SCORES = MessageTypeParser.parseMessageType("""
      message score {
        optional binary id (STRING);
        optional binary benchmark (STRING);
        optional binary subset (STRING);
        optional int32 sample;
        optional binary extracted (STRING);
        optional boolean correct;
        optional double score;
        optional binary reason (STRING);
        optional binary stdout (STRING);
        optional binary stderr (STRING);
      }
      """);

  public static final MessageType METRICS = MessageTypeParser.parseMessageType("""
      message metric {
        optional binary benchmark (STRING);
        optional binary subset (STRING);
        optional binary metric (STRING);
        optional double value;
        optional int64 n;
        optional double ci_low;
        optional double ci_high;
        optional binary status (STRING);
        optional binary note (STRING);
      }
      """);

  public static final MessageType TRENDS = MessageTypeParser.parseMessageType("""
      message trend {
        optional binary run (STRING);
        optional binary run_time (STRING);
        optional binary benchmark (STRING);
        optional binary subset (STRING);
        optional binary metric (STRING);
        optional double value;
        optional double ci_low;
        optional double ci_high;
        optional int64 n;
        optional binary verdict (STRING);
      }
      """);
}
