package org.dios.diosd.log;

/**
 * A log line that can come in floods (a failing accept, refused peers): at
 * most one per interval, and the next one says how many were left out.
 * A peer that can make the daemon log at will must not be able to fill the
 * disk or the journal. One thread only (the conductor).
 */
public final class LogThrottle {
    private final Log.Level level;
    private final long intervalNanos;
    private boolean logged;
    private long lastNanos;
    private long left;

    public LogThrottle(Log.Level level, long intervalNanos) {
        if (intervalNanos <= 0) throw new IllegalArgumentException("interval must be positive: " + intervalNanos);
        this.level = level;
        this.intervalNanos = intervalNanos;
    }

    /** Logs msg unless a line went out less than the interval before now; returns the line logged, or null. */
    public String log(String msg, long now) {
        if (logged && now - lastNanos < intervalNanos) {
            left++;
            return null;
        }
        String line = left == 0 ? msg : msg + " (" + left + " more like it not logged in the last "
                + Math.max(1, (now - lastNanos) / 1_000_000_000L) + " s)";
        logged = true;
        lastNanos = now;
        left = 0;
        Log.log(level, line);
        return line;
    }

    /** Lines left out since the last one logged. */
    public long left() {
        return left;
    }
}
