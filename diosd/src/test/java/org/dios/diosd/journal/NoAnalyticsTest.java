package org.dios.diosd.journal;

import java.nio.file.Path;

import net.openhft.chronicle.core.analytics.AnalyticsFacade;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Chronicle's analytics module (usage events sent to an analytics host at
 * every queue open) is not on the classpath, is switched off anyway, and a
 * queue opened here reports analytics as disabled.
 */
class NoAnalyticsTest {
    @Test
    void analyticsModuleIsNotOnTheClasspath() {
        for (String c : new String[] {"net.openhft.chronicle.analytics.Analytics",
                "net.openhft.chronicle.analytics.internal.AbstractGoogleAnalytics"}) {
            assertThrows(ClassNotFoundException.class, () -> Class.forName(c), c + " must not be loadable");
        }
        assertNull(getClass().getClassLoader().getResource("net/openhft/chronicle/analytics/Analytics.class"));
        String cp = System.getProperty("java.class.path");
        assertTrue(cp.contains("chronicle-core"), "the real class path, with the rest of Chronicle: " + cp);
        assertFalse(cp.contains("chronicle-analytics"), "dependency tree excludes chronicle-analytics: " + cp);
    }

    @Test
    void analyticsAreDisabledBeforeAnyQueueOpens(@TempDir Path tmp) throws Exception {
        assertEquals("true", System.getProperty("chronicle.analytics.disable"), "set by Surefire's argLine (as by bin/diosd)");
        try (Journal j = Journal.open(tmp.resolve("journal"))) {
            assertFalse(j.broken());
        }
        assertFalse(AnalyticsFacade.isEnabled(), "Chronicle sees analytics as off");
    }
}
