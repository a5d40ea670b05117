package org.dios.diosd.metrics;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.DoubleSupplier;

/**
 * What other parts of the daemon may add to the metrics, with no Micrometer
 * type in sight: Micrometer is loaded only when metrics are on, and these
 * hooks work whether they are on or off, before or after the endpoint
 * starts (the endpoint looks at them at every scrape).
 *
 * <p>Suppliers are called on the metrics thread at each scrape, never on the
 * conductor: they must read state that is safe to read from another thread
 * (a volatile, an atomic), and return quickly.
 */
public final class MetricsHooks {
    private MetricsHooks() {}

    private static final AtomicReference<DoubleSupplier> JOURNAL_LAG = new AtomicReference<>();

    /**
     * Sets the source of {@code dios_journal_lag_seconds}: how far the
     * durable journal is behind, in seconds, as the journal defines it (for
     * Chronicle: the age of the oldest entry appended and not yet synced, 0
     * when none waits). The series appears at the first scrape after this
     * call; a later call replaces the source, and null removes it (the
     * series then reads NaN).
     */
    public static void journalLag(DoubleSupplier seconds) {
        JOURNAL_LAG.set(seconds);
    }

    static DoubleSupplier journalLag() {
        return JOURNAL_LAG.get();
    }
}
