package org.dios.diosd;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/**
 * One line per notable event, on stderr: time, level, message with task and
 * object identifiers. Under systemd stderr goes to the journal. The level is
 * set with --log-level (error, warn, info, debug).
 */
public final class Log {
    private Log() {}

    public enum Level { ERROR, WARN, INFO, DEBUG }

    private static volatile Level level = Level.INFO;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    public static void setLevel(Level l) {
        level = l;
    }

    public static boolean enabled(Level l) {
        return l.ordinal() <= level.ordinal();
    }

    private static void log(Level l, String msg) {
        if (enabled(l)) {
            System.err.println(LocalTime.now().format(TIME) + " " + l.name().toLowerCase() + " diosd: " + msg);
        }
    }

    public static void error(String msg) { log(Level.ERROR, msg); }
    public static void warn(String msg) { log(Level.WARN, msg); }
    public static void info(String msg) { log(Level.INFO, msg); }
    public static void debug(String msg) { log(Level.DEBUG, msg); }
}
