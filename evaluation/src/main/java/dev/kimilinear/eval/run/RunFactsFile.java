package dev.kimilinear.eval.run;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kimilinear.eval.records.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** {@code run.json} in a run directory: its {@link RunFacts}, one entry per invocation of the job. */
public final class RunFactsFile {

  public static final String NAME = "run.json";

  private static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private RunFactsFile() {}

  public static Optional<RunFacts> read(Path runDir) throws IOException {
    Path file = runDir.resolve(NAME);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(file.toFile(), RunFacts.class));
    } catch (IOException e) {
      throw new IOException(file + ": not the run facts the job writes: " + e.getMessage(), e);
    }
  }

  public static void write(Path runDir, RunFacts facts) throws IOException {
    AtomicFiles.writeString(runDir.resolve(NAME), JSON.writeValueAsString(facts) + "\n");
  }
}
