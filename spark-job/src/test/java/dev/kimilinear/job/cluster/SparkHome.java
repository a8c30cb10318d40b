package dev.kimilinear.job.cluster;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Spark home laid out as a cluster's would be, from the test class path: the jars Spark runs on,
 * without the project's modules, the test libraries, or anything the application jar carries (read
 * from its META-INF/maven entries), so what executors load of ours comes from the submitted jar only.
 */
record SparkHome(Path root) {
    private static final Pattern BUNDLED = Pattern.compile("META-INF/maven/([^/]+)/([^/]+)/pom\\.properties");
    // the test libraries and the project's own modules: a cluster has neither
    private static final List<String> NOT_ON_A_CLUSTER = List.of("/org/junit/", "/org/opentest4j/", "/org/apiguardian/",
            "/dev/kimilinear/");

    static SparkHome layOut(Path root, Path appJar) throws IOException {
        Set<String> bundled = bundledArtifacts(appJar);
        Path jars = root.resolve("jars");
        Files.createDirectories(jars);
        Files.createDirectories(root.resolve("conf"));
        int linked = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path jar = Path.of(entry).toAbsolutePath();
            String path = jar.toString().replace(File.separatorChar, '/');
            if (!path.endsWith(".jar") || !Files.isRegularFile(jar) || path.contains("/target/")
                    || NOT_ON_A_CLUSTER.stream().anyMatch(path::contains) || bundled.stream().anyMatch(path::contains)) {
                continue;
            }
            Path link = jars.resolve(jar.getFileName());
            if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, jar);
            }
            linked++;
        }
        String version = org.apache.spark.package$.MODULE$.SPARK_VERSION();
        if (!Files.exists(jars.resolve("spark-core_2.12-" + version + ".jar"))) {
            throw new IllegalStateException(jars + ": " + linked + " jars from the test class path, but no spark-core "
                    + version + " among them; the class path was " + System.getProperty("java.class.path"));
        }
        // a RELEASE file marks a distribution: launchers then take jars/ as the class path
        Files.writeString(root.resolve("RELEASE"), "Spark " + version + " (jars from the test class path)\n");
        return new SparkHome(root);
    }

    /** groupId/artifactId/ path fragments of every artifact the application jar carries. */
    static Set<String> bundledArtifacts(Path appJar) throws IOException {
        Set<String> fragments = new HashSet<>();
        try (JarFile jar = new JarFile(appJar.toFile())) {
            jar.stream().forEach(e -> {
                Matcher m = BUNDLED.matcher(e.getName());
                if (m.matches()) {
                    fragments.add("/" + m.group(1).replace('.', '/') + "/" + m.group(2) + "/");
                }
            });
        }
        if (fragments.isEmpty()) {
            throw new IllegalStateException(appJar + " names no bundled artifact (META-INF/maven/*/*/pom.properties)");
        }
        return fragments;
    }

    /** The class path of a JVM started from this home: its conf/ and every jar. */
    String classPath() {
        return root.resolve("conf") + File.pathSeparator + root.resolve("jars") + File.separator + "*";
    }

    /** What Spark's launchers need to find this home, and the address every JVM of the test binds. */
    Map<String, String> environment() {
        return Map.of("SPARK_HOME", root.toString(), "SPARK_SCALA_VERSION", "2.12", "SPARK_LOCAL_IP", "127.0.0.1");
    }
}
