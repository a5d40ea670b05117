package org.dios.diosd.admin;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.dios.abi.Abi;
import org.dios.diosd.objects.DObject;
import org.dios.diosd.objects.Name;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.ObjectType;
import org.dios.diosd.objects.Quotas;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.ops.DaemonSnapshot;


/**
 * The answers of the admin socket (docs/PROTOCOL.md, section 12), built on
 * the conductor thread from the state it owns. Every answer is a table:
 *
 * <pre>
 *   ok
 *   columns  NAME  NAME ...
 *   row      VALUE VALUE ...     (one per entry, at most the request's limit)
 *   end      SHOWN TOTAL
 * </pre>
 *
 * fields separated by one tab, lines by '\n'; or one line
 * {@code error ERRNO message}. A value never holds a tab, a newline or any
 * other control character: {@link #field} escapes them (an executable's
 * path is whatever its owner named it).
 */
public final class AdminReports {
    private AdminReports() {}

    /** Entries listed when the request names no limit, and the most it may ask for. */
    public static final int DEFAULT_LIMIT = 10_000;
    public static final int MAX_LIMIT = 100_000;

    /**
     * What the daemon knows about itself that the conductor does not.
     * traceDir: where {@code dios trace} gets its queue ({@code <state-dir>/trace}), or null: no tracing.
     */
    public record Info(String version, String socket, String metrics, long pid, int uid, Instant started,
                       java.nio.file.Path traceDir) {
        public Info(String version, String socket, String metrics, long pid, int uid, Instant started) {
            this(version, socket, metrics, pid, uid, started, null);
        }
    }

    /** One request line (without its newline). Returns the whole answer. */
    public static String answer(String request, Info info, DaemonSnapshot snap, Iterable<TaskSession> tasks, ObjectManager objects) {
        return answer(request, info, snap, tasks, objects, "off");
    }

    /** trace: the status answer's trace value ("off", "on (1 client)"). */
    public static String answer(String request, Info info, DaemonSnapshot snap, Iterable<TaskSession> tasks, ObjectManager objects,
                         String trace) {
        return answer(request, info, snap, tasks, objects, trace, null);
    }

    /** The admin socket's own per-uid quota, for the status answer: --quota-admin-connections and its refusals. */
    public record AdminQuota(int perUid, long refusals) {}

    /** admin: the admin socket's quota (null: not shown). */
    public static String answer(String request, Info info, DaemonSnapshot snap, Iterable<TaskSession> tasks, ObjectManager objects,
                         String trace, AdminQuota admin) {
        String[] w = request.trim().split(" +");
        String cmd = w[0];
        int limit = DEFAULT_LIMIT;
        if (w.length > 2) return error("EINVAL", "too many words in '" + field(request) + "': COMMAND [LIMIT]");
        if (w.length == 2) {
            try {
                limit = Integer.parseInt(w[1]);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > MAX_LIMIT) return error("EINVAL", "limit must be 1.." + MAX_LIMIT + ", got '" + field(w[1]) + "'");
        }
        return switch (cmd) {
            case "status" -> w.length == 1 ? status(info, snap, trace, objects.quotas, admin) : error("EINVAL", "status takes no limit");
            case "tasks" -> tasks(tasks, limit);
            case "objects" -> objects(objects, liveTasks(tasks), limit);
            case "names" -> names(objects, limit);
            default -> error("EINVAL", "unknown command '" + field(cmd) + "' (status, tasks, objects, names, trace)");
        };
    }

    static String error(String errno, String message) {
        return "error\t" + errno + "\t" + field(message) + "\n";
    }

    /** A value made safe for one field: backslash, tab, newline and other control characters escaped. */
    static String field(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String rep = switch (c) {
                case '\\' -> "\\\\";
                case '\t' -> "\\t";
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                // C0, DEL and C1 (U+0080-U+009F: 8-bit CSI and the like, which some terminals obey)
                default -> c < 0x20 || (c >= 0x7f && c <= 0x9f) ? String.format("\\x%02x", (int) c) : null;
            };
            if (rep == null) {
                if (b != null) b.append(c);
                continue;
            }
            if (b == null) b = new StringBuilder(s.length() + 8).append(s, 0, i);
            b.append(rep);
        }
        return b == null ? s : b.toString();
    }

    private static final class Table {
        final StringBuilder out = new StringBuilder(4096).append("ok\n");
        int rows;

        Table(String... columns) {
            out.append("columns");
            for (String c : columns) out.append('\t').append(c);
            out.append('\n');
        }

        void row(Object... values) {
            out.append("row");
            for (Object v : values) out.append('\t').append(field(String.valueOf(v)));
            out.append('\n');
            rows++;
        }

        String end(long total) {
            return out.append("end\t").append(rows).append('\t').append(total).append('\n').toString();
        }
    }

    static String status(Info info, DaemonSnapshot s) {
        return status(info, s, "off");
    }

    static String status(Info info, DaemonSnapshot s, String trace) {
        return status(info, s, trace, null);
    }

    /** Users shown in status with their quota use (those nearest a quota first). */
    static final int QUOTA_USERS_SHOWN = 5;

    /**
     * quotas (or null): each quota ("quota.objects" ...), then the users
     * nearest one ("quota.uid.1000": "objects 12/32768, names ..."), at most
     * {@link #QUOTA_USERS_SHOWN}.
     */
    static String status(Info info, DaemonSnapshot s, String trace, Quotas quotas) {
        return status(info, s, trace, quotas, null);
    }

    /**
     * admin (or null): the admin socket's quota, as "quota.admin-connections"
     * (per uid) and "quota.admin-connections.refusals" (since start; not in
     * "quota.refusals", which counts the calls' and connections' quotas).
     */
    static String status(Info info, DaemonSnapshot s, String trace, Quotas quotas, AdminQuota admin) {
        Table t = new Table("key", "value");
        t.row("version", info.version());
        t.row("abi", Abi.DIOS_ABI_VERSION);
        t.row("pid", info.pid());
        t.row("uid", info.uid());
        t.row("socket", info.socket());
        t.row("metrics", info.metrics());
        t.row("trace", trace);
        t.row("started", info.started().truncatedTo(ChronoUnit.SECONDS));
        t.row("uptime", uptime(s.uptimeMillis));
        t.row("tasks", s.tasks);
        t.row("objects", s.objects);
        for (ObjectType type : ObjectType.all()) t.row("objects." + type.name(), s.objectsOfType(type.code()));
        t.row("names", s.names);
        t.row("references", s.references);
        t.row("buffers", s.buffers);
        t.row("segments", s.segments);
        t.row("privmem_bytes", s.privmemBytes);
        t.row("parked_calls", s.parkedCalls);
        t.row("waiter_checks", s.waiterChecks);
        t.row("calls", s.totalCalls());
        t.row("tasks_registered", s.registrations);
        if (quotas != null) {
            for (int k = 0; k < Quotas.KINDS; k++) t.row("quota." + Quotas.name(k), quotas.limit(k));
            t.row("quota.users", quotas.accounts());
            for (Quotas.Account a : quotas.top(QUOTA_USERS_SHOWN)) {
                StringBuilder v = new StringBuilder();
                for (int k = 0; k < Quotas.KINDS; k++) {
                    if (k > 0) v.append(", ");
                    v.append(Quotas.name(k)).append(' ').append(a.used(k)).append('/').append(quotas.limit(k));
                }
                t.row("quota.uid." + a.uid, v);
            }
            long refused = 0;
            for (int k = 0; k < Quotas.KINDS; k++) refused += quotas.refusals(k);
            t.row("quota.refusals", refused);
        }
        if (admin != null) {
            t.row("quota.admin-connections", admin.perUid());
            t.row("quota.admin-connections.refusals", admin.refusals());
        }
        return t.end(t.rows);
    }

    /** 93784.5 s as "1d 02:03:04". */
    static String uptime(long millis) {
        long s = millis / 1000;
        long d = s / 86400;
        String hms = String.format("%02d:%02d:%02d", (s / 3600) % 24, (s / 60) % 60, s % 60);
        return d > 0 ? d + "d " + hms : hms;
    }

    static String tasks(Iterable<TaskSession> sessions, int limit) {
        List<TaskSession> all = new ArrayList<>();
        for (TaskSession s : sessions) if (s != null && !s.dead && !s.quiet) all.add(s);
        all.sort((a, b) -> Long.compare(a.taskId, b.taskId));
        Table t = new Table("task", "pid", "parent", "uid", "refs", "buffers", "privmem", "parked", "state", "exe", "argv");
        for (int i = 0; i < all.size() && i < limit; i++) {
            TaskSession s = all.get(i);
            t.row(s.taskId, s.pid, s.parentTask == 0 ? "-" : Long.toString(s.parentTask), s.uid, s.refs.size(),
                    s.buffers.size(), s.privmemBytes, s.parked.size(), s.active ? "active" : "dormant", s.exe, s.argv);
        }
        return t.end(all.size());
    }

    /** The ids of the registered tasks (the warm-up's synthetic one included: its objects are the daemon's). */
    static java.util.Set<Long> liveTasks(Iterable<TaskSession> sessions) {
        java.util.Set<Long> live = new java.util.HashSet<>();
        for (TaskSession s : sessions) if (s != null && !s.dead) live.add(s.taskId);
        return live;
    }

    /**
     * Objects in id order, merged from the per-type lists (each already in id
     * order): O(limit x types). The owner is the creating task while it is
     * registered, 0 for the daemon's own objects, "-" once the creator has
     * gone (task ids are never reused, so a live id is always the creator).
     */
    static String objects(ObjectManager om, java.util.Set<Long> liveTasks, int limit) {
        Table t = new Table("id", "type", "size", "refs", "named", "state", "owner");
        DObject[] next = new DObject[Abi.D_OBJ_LAST];
        long total = 0;
        for (int type = 0; type < Abi.D_OBJ_LAST; type++) {
            next[type] = om.firstOfType(type);
            total += om.stats.objectsByType[type];
        }
        while (t.rows < limit) {
            int best = -1;
            for (int type = 0; type < next.length; type++) {
                if (next[type] != null && (best < 0 || next[type].id < next[best].id)) best = type;
            }
            if (best < 0) break;
            DObject o = next[best];
            next[best] = o.nextLive;
            t.row(o.id, o.typeName(), o.size(), o.refCount(), o.name() != null ? "yes" : "no",
                    o.isZombie() ? "zombie" : "live",
                    o.ownerTask == 0 ? "0" : liveTasks.contains(o.ownerTask) ? Long.toString(o.ownerTask) : "-");
        }
        return t.end(total);
    }

    /** Names with their objects: the first {@code limit} in table order, shown by object id. */
    static String names(ObjectManager om, int limit) {
        List<Map.Entry<Name, DObject>> some = om.someNames(limit);
        some.sort((a, b) -> Long.compare(a.getValue().id, b.getValue().id));
        Table t = new Table("name", "id", "type");
        for (Map.Entry<Name, DObject> e : some) t.row(e.getKey().text(), e.getValue().id, e.getValue().typeName());
        return t.end(om.nameCount());
    }
}
