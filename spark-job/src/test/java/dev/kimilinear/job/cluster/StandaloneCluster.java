package dev.kimilinear.job.cluster;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A standalone master and its workers on this machine, started as bin/kimi cluster starts them
 * (org.apache.spark.deploy.master.Master and deploy.worker.Worker JVMs from a Spark home), on
 * free ports. Closing it kills every worker's executors, the workers and the master.
 */
final class StandaloneCluster implements AutoCloseable {
    private static final long REGISTRATION_SECONDS = 90;
    /** Master and workers only pass messages: a small heap, the quick compiler, one GC thread. */
    private static final List<String> DAEMON_JVM = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    private final JavaProcess master;
    private final List<JavaProcess> workers;
    private final List<Path> workDirs;
    private final String url;

    private StandaloneCluster(JavaProcess master, List<JavaProcess> workers, List<Path> workDirs, String url) {
        this.master = master;
        this.workers = workers;
        this.workDirs = workDirs;
        this.url = url;
    }

    /** Starts the JVMs and returns; {@link #awaitWorkers()} waits until every worker has registered. */
    static StandaloneCluster start(SparkHome home, Path dir, int workerCount, int cores, String memory)
            throws IOException, InterruptedException {
        int port = FreePort.pick();
        String url = "spark://127.0.0.1:" + port;
        JavaProcess master = JavaProcess.start("master", home, DAEMON_JVM, dir, dir.resolve("master.log"),
                "org.apache.spark.deploy.master.Master", List.of("--host", "127.0.0.1", "--port",
                        String.valueOf(port), "--webui-port", String.valueOf(FreePort.pick())));
        List<JavaProcess> workers = new ArrayList<>();
        List<Path> workDirs = new ArrayList<>();
        StandaloneCluster cluster = new StandaloneCluster(master, workers, workDirs, url);
        try {
            for (int i = 1; i <= workerCount; i++) {
                Path work = dir.resolve("worker-" + i);
                workDirs.add(work);
                workers.add(JavaProcess.start("worker-" + i, home, DAEMON_JVM, work, dir.resolve("worker-" + i + ".log"),
                        "org.apache.spark.deploy.worker.Worker", List.of(url, "--host", "127.0.0.1",
                                "--cores", String.valueOf(cores), "--memory", memory, "--work-dir", work.toString(),
                                "--port", String.valueOf(FreePort.pick()),
                                "--webui-port", String.valueOf(FreePort.pick()))));
            }
            return cluster;
        } catch (IOException | RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    void awaitWorkers() throws InterruptedException {
        int count = workers.size();
        long deadline = System.nanoTime() + REGISTRATION_SECONDS * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            long registered = master.logText().lines().filter(l -> l.contains("Registering worker")).count();
            if (registered >= count) {
                return;
            }
            Optional<JavaProcess> dead = all().stream().filter(p -> !p.isAlive()).findFirst();
            if (dead.isPresent()) {
                throw new IllegalStateException("the standalone cluster did not start: " + dead.get().name()
                        + " exited\n" + dead.get().logTail(40));
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("fewer than " + count + " workers registered with the master in "
                + REGISTRATION_SECONDS + " s\n" + master.logTail(40));
    }

    String url() {
        return url;
    }

    /** The work directories of the workers, where each executor keeps its stdout and stderr. */
    List<Path> workDirs() {
        return List.copyOf(workDirs);
    }

    List<JavaProcess> workers() {
        return List.copyOf(workers);
    }

    /** Whether a process is an executor a worker of this cluster launched. */
    boolean isExecutor(long pid) {
        return workers.stream().anyMatch(w -> w.process().descendants().anyMatch(d -> d.pid() == pid));
    }

    private List<JavaProcess> all() {
        List<JavaProcess> all = new ArrayList<>(workers);
        all.add(master);
        return all;
    }

    @Override
    public void close() throws InterruptedException {
        for (JavaProcess p : all()) {
            p.close();
        }
    }
}
