package org.dios.diosd.objects;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;


/**
 * A task's argv as {@code dios tasks} shows it: the arguments joined by
 * spaces, each one that a shell would split (empty, or holding a space, a
 * quote or a backslash) in single quotes, cut to {@link #MAX_CHARS}
 * characters with "..." at the end. Control characters stay in the text:
 * the admin socket escapes every field, so they print as {@code \xHH}.
 */
public final class Argv {
    private Argv() {}

    /** Characters kept per task (a spawn's argv may be 32 KiB; a listing must stay small). */
    public static final int MAX_CHARS = 512;
    /** Bytes of /proc/PID/cmdline read for a task that connected by itself. */
    static final int MAX_CMDLINE_BYTES = 4096;

    /** The display text of argv (never null; "" for none). */
    public static String text(List<String> argv) {
        StringBuilder b = new StringBuilder();
        for (String a : argv) {
            if (b.length() > 0) b.append(' ');
            quote(b, a);
            if (b.length() > MAX_CHARS) break;
        }
        if (b.length() > MAX_CHARS) {
            b.setLength(MAX_CHARS - 3);
            b.append("...");
        }
        return b.toString();
    }

    public static String text(String[] argv) {
        return text(List.of(argv));
    }

    private static void quote(StringBuilder b, String a) {
        boolean plain = !a.isEmpty();
        for (int i = 0; i < a.length() && plain; i++) {
            char c = a.charAt(i);
            plain = c != ' ' && c != '\'' && c != '"' && c != '\\';
        }
        if (plain) {
            b.append(a);
            return;
        }
        b.append('\'').append(a.replace("'", "'\\''")).append('\'');
    }

    /**
     * The argv of process pid from /proc/PID/cmdline (at most
     * {@link #MAX_CMDLINE_BYTES} read), or "?" if it cannot be read (the
     * process went, or the kernel hides it).
     */
    public static String ofProcess(int pid) {
        ByteBuffer buf = ByteBuffer.allocate(MAX_CMDLINE_BYTES);
        try (FileChannel ch = FileChannel.open(Path.of("/proc/" + pid + "/cmdline"), StandardOpenOption.READ)) {
            while (buf.hasRemaining() && ch.read(buf) > 0) { }
        } catch (java.io.IOException | SecurityException e) {
            return "?";
        }
        return text(split(buf.array(), buf.position()));
    }

    /** NUL-separated strings (the last one may lack its NUL: a cut read). */
    static List<String> split(byte[] b, int n) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < n; i++) {
            if (b[i] == 0) {
                out.add(new String(b, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        if (start < n) out.add(new String(b, start, n - start, StandardCharsets.UTF_8));
        return out;
    }
}
