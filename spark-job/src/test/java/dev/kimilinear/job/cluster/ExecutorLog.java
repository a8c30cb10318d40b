package dev.kimilinear.job.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What one executor JVM of an application wrote in its own log (the stderr a worker keeps under
 * WORK_DIR/APP_ID/EXECUTOR_ID/): its pid, the resident engines it created, the generation
 * partitions it started and those it committed.
 */
record ExecutorLog(Path file, String executorId, long pid, int enginesCreated, List<PartitionEvent> started,
                   List<PartitionEvent> committed) {
    private static final Pattern PID = Pattern.compile("Started daemon with process name: (\\d+)@");
    private static final Pattern ENGINE = Pattern.compile("resident engine created: ");
    private static final Pattern STARTED = Pattern.compile(
            "generation partition (\\d+) attempt (\\d+): (\\d+) prompts into the resident engine");
    private static final Pattern COMMITTED = Pattern.compile(
            "generation partition (\\d+) attempt (\\d+): committed \\S+ \\((\\d+) rows\\)");

    static ExecutorLog read(Path stderr) throws IOException {
        long pid = -1;
        int engines = 0;
        List<PartitionEvent> started = new ArrayList<>();
        List<PartitionEvent> committed = new ArrayList<>();
        for (String line : Files.readAllLines(stderr)) {
            Matcher m;
            if ((m = PID.matcher(line)).find()) {
                pid = Long.parseLong(m.group(1));
            } else if (ENGINE.matcher(line).find()) {
                engines++;
            } else if ((m = STARTED.matcher(line)).find()) {
                started.add(event(m));
            } else if ((m = COMMITTED.matcher(line)).find()) {
                committed.add(event(m));
            }
        }
        return new ExecutorLog(stderr, stderr.getParent().getFileName().toString(), pid, engines, started, committed);
    }

    private static PartitionEvent event(Matcher m) {
        return new PartitionEvent(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)));
    }

    /** The logs of every executor the workers launched for an application. */
    static List<ExecutorLog> ofApplication(List<Path> workDirs, String appId) throws IOException {
        List<ExecutorLog> logs = new ArrayList<>();
        for (Path work : workDirs) {
            Path app = work.resolve(appId);
            if (!Files.isDirectory(app)) {
                continue;
            }
            try (Stream<Path> executors = Files.list(app)) {
                for (Path executor : executors.sorted().toList()) {
                    Path stderr = executor.resolve("stderr");
                    if (Files.isRegularFile(stderr)) {
                        logs.add(read(stderr));
                    }
                }
            }
        }
        return logs;
    }

    boolean ranGeneration() {
        return !started.isEmpty();
    }

    int promptsStarted() {
        return started.stream().mapToInt(PartitionEvent::count).sum();
    }

    @Override
    public String toString() {
        return "executor " + executorId + " (pid " + pid + ", " + file + "): " + enginesCreated + " engines, started "
                + started + ", committed " + committed;
    }
}
