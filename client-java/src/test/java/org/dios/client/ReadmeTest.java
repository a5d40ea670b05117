package org.dios.client;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * What a Java user must find from the top-level README: the client's own
 * README (the only place that says how to run a program with the client),
 * which says --enable-native-access; and no document the README names by
 * path is missing.
 */
class ReadmeTest {
    private static final Path ROOT = Path.of(System.getProperty("dios.root"));

    @Test
    void theReadmeLeadsToTheClientsReadmeWhichSaysHowToRunIt() throws IOException {
        String top = Files.readString(ROOT.resolve("README.md"));
        assertTrue(top.contains("`client-java/README.md`"), "README.md does not name client-java/README.md");
        String client = Files.readString(ROOT.resolve("client-java/README.md"));
        assertTrue(client.contains("--enable-native-access=ALL-UNNAMED"), "client-java/README.md lost --enable-native-access");
    }

    @Test
    void everyDocumentTheReadmeNamesByPathExists() throws IOException {
        String top = Files.readString(ROOT.resolve("README.md"));
        Matcher m = Pattern.compile("`([A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+\\.md)`").matcher(top);
        List<String> missing = new ArrayList<>();
        int named = 0;
        while (m.find()) {
            named++;
            if (!Files.isRegularFile(ROOT.resolve(m.group(1)))) missing.add(m.group(1));
        }
        assertTrue(named >= 5, "found only " + named + " document paths in README.md: the pattern is broken");
        assertTrue(missing.isEmpty(), "README.md names documents that do not exist: " + missing);
    }
}
