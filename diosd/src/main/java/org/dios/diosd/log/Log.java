package org.dios.diosd.log;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * One line per notable event, on stderr, with task and object identifiers.
 * The level is set with --log-level (error, warn, info, debug).
 *
 * <p>Two formats. On a terminal or into a file: time, level, message. Into
 * the journal (systemd connects stderr to it and says so in JOURNAL_STREAM),
 * each line starts with its sd-daemon priority ({@code <3>} error, {@code <4>}
 * warn, {@code <6>} info, {@code <7>} debug), which journald strips and keeps
 * as the entry's PRIORITY, and carries no time: journald stamps every entry.
 * --log-format forces one or the other.
 */
public final class Log {
    private Log() {}

    public enum Level {
        ERROR(3), WARN(4), INFO(6), DEBUG(7);

        /** The syslog priority journald files the line under. */
        final int priority;

        Level(int priority) {
            this.priority = priority;
        }
    }

    public enum Format { PLAIN, JOURNAL }

    private static volatile Level level = Level.INFO;
    private static volatile Format format = detectFormat();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    public static void setLevel(Level l) {
        level = l;
    }

    public static void setFormat(Format f) {
        format = f;
    }

    public static Format format() {
        return format;
    }

    public static boolean enabled(Level l) {
        return l.ordinal() <= level.ordinal();
    }

    /**
     * JOURNAL when stderr is the stream systemd named in JOURNAL_STREAM
     * ("device:inode"). Comparing the inode, not just testing the variable,
     * keeps a process that inherited it but writes elsewhere (a child whose
     * stderr was redirected, a test harness) on plain lines.
     */
    public static Format detectFormat() {
        String js = System.getenv("JOURNAL_STREAM");
        if (js == null || js.isEmpty()) return Format.PLAIN;
        try {
            Map<String, Object> st = Files.readAttributes(Path.of("/proc/self/fd/2"), "unix:dev,ino");
            return journalStreamIs(js, (Long) st.get("dev"), (Long) st.get("ino")) ? Format.JOURNAL : Format.PLAIN;
        } catch (IOException | RuntimeException e) {
            return Format.PLAIN;
        }
    }

    /** True if a JOURNAL_STREAM value names the file with this device and inode number. */
    static boolean journalStreamIs(String journalStream, long dev, long ino) {
        int colon = journalStream.indexOf(':');
        if (colon <= 0) return false;
        try {
            return Long.parseUnsignedLong(journalStream.substring(0, colon)) == dev
                    && Long.parseUnsignedLong(journalStream.substring(colon + 1)) == ino;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** The text written for one event; every line of a multi-line message carries the priority in the journal. */
    static String line(Format f, Level l, LocalTime time, String msg) {
        if (f == Format.JOURNAL) {
            String prefix = "<" + l.priority + ">";
            return prefix + msg.replace("\n", "\n" + prefix);
        }
        return time.format(TIME) + " " + l.name().toLowerCase() + " diosd: " + msg;
    }

    static void log(Level l, String msg) {
        if (enabled(l)) {
            System.err.println(line(format, l, LocalTime.now(), msg));
        }
    }

    public static void error(String msg) { log(Level.ERROR, msg); }

    /** "msg: " and the stack trace, as one event (in the journal every line keeps the error priority). */
    public static void error(String msg, Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        log(Level.ERROR, msg + ": " + w.toString().stripTrailing());
    }

    public static void warn(String msg) { log(Level.WARN, msg); }
    public static void info(String msg) { log(Level.INFO, msg); }
    public static void debug(String msg) { log(Level.DEBUG, msg); }

    /**
     * Why the daemon cannot start or must stop, whatever --log-level says:
     * "diosd: ..." on a terminal (what the user typed a command for), an
     * error-priority entry in the journal.
     */
    public static void fatal(String msg) {
        System.err.println(format == Format.JOURNAL ? line(Format.JOURNAL, Level.ERROR, null, msg) : "diosd: " + msg);
    }
}
