package org.dios.diosd;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;

import org.dios.abi.Abi;
import org.dios.diosd.admin.AdminReports;
import org.dios.diosd.admin.AdminEndpoint;
import org.dios.diosd.conductor.DriverConductor;
import org.dios.diosd.journal.Journal;
import org.dios.diosd.log.Log;
import org.dios.diosd.metrics.MetricsServer;
import org.dios.diosd.objects.BlobStore;
import org.dios.diosd.objects.Quotas;
import org.dios.diosd.rpc.SocketRpcService;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.Notify;
import org.dios.diosd.sys.UnixSocket;
import org.dios.diosd.trace.TraceTail;


/**
 * {@code diosd}: starts the daemon in the foreground.
 *
 * <p>With no flags it runs on embedded defaults: the socket at
 * {@code $XDG_RUNTIME_DIR/dios/diosd.sock}, or {@code /tmp/dios-<uid>/diosd.sock}
 * without XDG_RUNTIME_DIR, and the state directory beside it. It prints where
 * it listens, exits non-zero with a message when it cannot start, and on
 * SIGTERM shuts down cleanly, removes its socket and exits 0.
 *
 * <p>Under systemd (Type=notify) it sends READY=1 once the control socket
 * listens and the conductor serves, and STOPPING=1 when shutdown begins.
 */
public final class Main {
    private Main() {}

    static final String VERSION = versionString();

    private static String versionString() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    private static final String USAGE = """
            usage: diosd [options]
              --socket PATH         control socket (default: $XDG_RUNTIME_DIR/dios/diosd.sock,
                                    else /tmp/dios-<uid>/diosd.sock); also serves PATH.rpc
              --state-dir DIR       durable state (default: <socket dir>/state)
              --socket-mode MODE    permissions of the sockets, octal: 0600 (default: this user only)
                                    or 0660 (also the daemon's group; the systemd unit uses it)
              --metrics HOST:PORT   serve Prometheus metrics at http://HOST:PORT/metrics (default: off;
                                    HOST must be loopback, e.g. 127.0.0.1 or [::1]; PORT 0 = any free port)
              --metrics-allow-non-loopback
                                    let --metrics listen on an address other hosts can reach
              --max-tasks N         registered tasks at most (default 4096)
              --max-tasks-per-user N  tasks of one uid at most, registered or spawned (default 2048);
                                    beyond it dios_run fails with -EAGAIN and registration is refused
              --dumpable            keep the daemon dumpable, for core dumps and jcmd/jstack/JFR
                                    (default: not: tasks of its user could read its memory)
              --launcher PATH       the task launcher dios_run uses (default: libexec/dios/dios-launch
                                    of this installation, or $DIOSD_LAUNCHER)
              --max-refs N          references per task at most (default 4096)
              --max-buffers N       outstanding buffers per task at most (default 1024)
              --max-task-memory SIZE
                                    private memory (PRIVMEM objects: a task's heap) one task may hold,
                                    in bytes or with a K, M, G or T suffix (default 8G); beyond it
                                    dios_create fails with -ENOMEM (malloc with ENOMEM)
              --max-parked-calls N  calls per task waiting in the daemon at most (select, dios_wait,
                                    console reads and writes, dios_run; default 64, at most 127)
              --quota-objects N     objects the tasks of one uid may hold at once (default: sized to the
                                    daemon: a quarter of its heap at 1 KiB an object, at most an eighth
                                    of its descriptors, 2 an object); beyond it dios_create fails with
                                    -EDQUOT
              --quota-names N       names bound to one uid's objects (default: as --quota-objects)
              --quota-memory SIZE   bytes of PRIVMEM and SHMEM objects of one uid (default: half the RAM,
                                    at least 1G); -EDQUOT beyond
              --quota-fifos N       FIFOs of one uid (default: a quarter of the descriptors, 3 a FIFO)
              --quota-blobs N       blob files of one uid, durable or not (default: an eighth of the
                                    descriptors); -EDQUOT beyond
              --quota-blob-bytes SIZE
                                    bytes of one uid's blob files (default: a quarter of the state
                                    directory's file system); -EDQUOT for the create or acquire_write
              --quota-pending-connections N
                                    connections of one uid that have not said hello yet (default: a
                                    sixteenth of the descriptors); more are closed at once
              --quota-rpc-connections N
                                    benchmark RPC connections of one uid (default 128)
              --quota-admin-connections N
                                    admin socket connections of one uid at once, tracing ones included
                                    (default 8: all 4 request and 4 tracing slots); more get EDQUOT
              --idle-spin-us N      spin this long after the last call (default 50)
              --idle-yield-us N     then yield until this long, then sleep (default 1000)
              --warmup-cycles N     pre-touch the call and wake-up paths at start (default 20000, for at
                                    most 2 s; 0 = off)
              --log-level LEVEL     error, warn, info (default) or debug
              --log-format FORMAT   auto (default: journal when stderr is the journal, by $JOURNAL_STREAM),
                                    plain (time and level) or journal (<priority> prefixes, no time)
              --version             print the version and exit
              --trace-tail DIR [--from INDEX] [--task ID] [--raw]
                                    no daemon: print the calls recorded in trace queue DIR as they
                                    arrive (what `dios trace` runs; see docs/PROTOCOL.md, section 13)
            """;

    /** Thrown for a bad command line or an environment the daemon cannot start in. */
    static final class StartupException extends Exception {
        final int exitCode;

        StartupException(String msg, int exitCode) {
            super(msg);
            this.exitCode = exitCode;
        }
    }

    /**
     * metrics: where to serve /metrics, or null (off); socketGiven: --socket was on the command line
     * (then its directory must exist: only the default socket's is made).
     */
    record Options(String socket, String stateDir, int socketMode, DriverConductor.Config config,
                   InetSocketAddress metrics, String launcher, boolean dumpable, boolean socketGiven,
                   long[] quotas, int rpcPerUser, int adminPerUser) {}

    public static void main(String[] args) {
        Journal.configureChronicle(); // before any Chronicle class loads: no analytics, no banner
        if (args.length > 0 && args[0].equals("--trace-tail")) {
            // The reader that `dios trace` runs: no daemon, just the trace queue to stdout.
            System.exit(TraceTail.main(java.util.Arrays.copyOfRange(args, 1, args.length)));
        }
        Options opts;
        try {
            opts = parse(args);
            if (opts == null) return; // --help / --version
            run(opts);
        } catch (StartupException e) {
            Log.fatal(e.getMessage());
            System.exit(e.exitCode);
        }
    }

    static String defaultSocket() {
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isEmpty()) {
            return xdg + "/" + Abi.DIOS_RUNTIME_SUBDIR + "/" + Abi.DIOS_SOCKET_NAME;
        }
        return Abi.DIOS_TMP_DIR_PREFIX + LibC.getuid() + "/" + Abi.DIOS_SOCKET_NAME;
    }

    static Options parse(String[] args) throws StartupException {
        String socket = null;
        String stateDir = null;
        int socketMode = 0600;
        DriverConductor.Config d = DriverConductor.Config.defaults();
        int maxTasks = d.maxTasks(), maxRefs = d.maxRefs(), maxBuffers = d.maxBuffers(), perUser = d.maxTasksPerUser();
        int maxParked = d.maxParked();
        String launcher = null;
        long spin = d.spinNanos(), yield = d.yieldNanos();
        int warmup = d.warmupCycles();
        InetSocketAddress metrics = null;
        boolean allowNonLoopback = false;
        boolean dumpable = false;
        long maxTaskMemory = d.maxTaskMemory();
        long[] quotas = new long[Quotas.KINDS]; // 0: sized to the machine at start
        int rpcPerUser = SocketRpcService.MAX_PER_UID;
        int adminPerUser = AdminEndpoint.DEFAULT_MAX_PER_UID;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--help", "-h" -> {
                    System.out.print(USAGE);
                    return null;
                }
                case "--version" -> {
                    System.out.println("diosd " + VERSION + " (DIOS ABI " + Abi.DIOS_ABI_VERSION + ") on Java "
                            + Runtime.version());
                    return null;
                }
                case "--socket" -> socket = value(args, ++i, a);
                case "--state-dir" -> stateDir = value(args, ++i, a);
                case "--socket-mode" -> socketMode = socketMode(value(args, ++i, a));
                case "--metrics" -> metrics = metricsAddress(value(args, ++i, a));
                case "--metrics-allow-non-loopback" -> allowNonLoopback = true;
                case "--max-tasks" -> maxTasks = (int) number(args, ++i, a, 1, 1 << 20);
                case "--max-tasks-per-user" -> perUser = (int) number(args, ++i, a, 1, 1 << 20);
                case "--launcher" -> launcher = value(args, ++i, a);
                case "--dumpable" -> dumpable = true;
                case "--max-refs" -> maxRefs = (int) number(args, ++i, a, 16, 1 << 20);
                case "--max-buffers" -> maxBuffers = (int) number(args, ++i, a, 1, 1 << 20);
                case "--max-task-memory" -> maxTaskMemory = bytes(args, ++i, a, 4096, Long.MAX_VALUE / 2);
                case "--max-parked-calls" -> maxParked = (int) number(args, ++i, a, 1, DriverConductor.Config.MAX_MAX_PARKED);
                case "--quota-objects" -> quotas[Quotas.OBJECTS] = number(args, ++i, a, 1, 1L << 40);
                case "--quota-names" -> quotas[Quotas.NAMES] = number(args, ++i, a, 1, 1L << 40);
                case "--quota-memory" -> quotas[Quotas.MEMORY_BYTES] = bytes(args, ++i, a, 4096, Long.MAX_VALUE / 2);
                case "--quota-fifos" -> quotas[Quotas.FIFOS] = number(args, ++i, a, 1, 1L << 40);
                case "--quota-blobs" -> quotas[Quotas.BLOBS] = number(args, ++i, a, 1, 1L << 40);
                case "--quota-blob-bytes" -> quotas[Quotas.BLOB_BYTES] = bytes(args, ++i, a, 4096, Long.MAX_VALUE / 2);
                case "--quota-pending-connections" -> quotas[Quotas.PENDING] = number(args, ++i, a, 1, 1L << 40);
                case "--quota-rpc-connections" -> rpcPerUser = (int) number(args, ++i, a, 1, 1 << 20);
                case "--quota-admin-connections" -> adminPerUser = (int) number(args, ++i, a, 1, 1 << 20);
                case "--idle-spin-us" -> spin = number(args, ++i, a, 0, 10_000_000) * 1000;
                case "--idle-yield-us" -> yield = number(args, ++i, a, 0, 10_000_000) * 1000;
                case "--warmup-cycles" -> warmup = (int) number(args, ++i, a, 0, 10_000_000);
                case "--log-level" -> {
                    String l = value(args, ++i, a);
                    try {
                        Log.setLevel(Log.Level.valueOf(l.toUpperCase()));
                    } catch (IllegalArgumentException e) {
                        throw new StartupException("--log-level: expected error, warn, info or debug, got '" + l + "'", 2);
                    }
                }
                case "--log-format" -> {
                    String f = value(args, ++i, a);
                    switch (f) {
                        case "auto" -> Log.setFormat(Log.detectFormat());
                        case "plain" -> Log.setFormat(Log.Format.PLAIN);
                        case "journal" -> Log.setFormat(Log.Format.JOURNAL);
                        default -> throw new StartupException("--log-format: expected auto, plain or journal, got '" + f + "'", 2);
                    }
                }
                default -> throw new StartupException("unknown option '" + a + "'\n" + USAGE, 2);
            }
        }
        if (metrics != null && !metrics.getAddress().isLoopbackAddress() && !allowNonLoopback) {
            throw new StartupException("--metrics " + metrics.getAddress().getHostAddress() + ": not a loopback address."
                    + " The metrics show what every task on this host does; serve them on 127.0.0.1 or [::1],"
                    + " or add --metrics-allow-non-loopback to let other hosts read them", 2);
        }
        if (yield < spin) yield = spin;
        boolean socketGiven = socket != null;
        if (socket == null) socket = defaultSocket();
        if (stateDir == null) {
            Path parent = Path.of(socket).toAbsolutePath().getParent();
            stateDir = parent.resolve(Abi.DIOS_STATE_SUBDIR).toString();
        }
        return new Options(socket, stateDir, socketMode, new DriverConductor.Config(maxTasks, maxRefs, maxBuffers, spin, yield,
                d.handshakeTimeoutNanos(), warmup, metrics != null, perUser, maxTaskMemory, maxParked), metrics, launcher, dumpable,
                socketGiven, quotas, rpcPerUser, adminPerUser);
    }

    /**
     * The task launcher: --launcher, else $DIOSD_LAUNCHER, else beside this
     * installation (dist/libexec/dios/dios-launch above the jar, or
     * native/build/dios-launch of a source tree). Null if none is found:
     * the daemon then runs, and dios_run fails with -ENOSYS and a log line.
     */
    static String findLauncher(String given) {
        if (given != null) return given;
        String env = System.getenv("DIOSD_LAUNCHER");
        if (env != null && !env.isEmpty()) return env;
        try {
            Path p = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
            for (int up = 0; up < 6 && p != null; up++, p = p.getParent()) {
                for (String rel : new String[] {"libexec/dios/dios-launch", "native/build/dios-launch"}) {
                    Path c = p.resolve(rel);
                    if (java.nio.file.Files.isExecutable(c)) return c.toString();
                }
            }
        } catch (Exception e) {
            // no code source: fall through
        }
        return null;
    }

    /**
     * HOST:PORT of --metrics: an IPv4 address, localhost, or an IPv6 address
     * in brackets ([::1]:9469); PORT 0..65535 (0: any free port, printed at
     * start). No host names: nothing is looked up.
     */
    static InetSocketAddress metricsAddress(String v) throws StartupException {
        int colon = v.lastIndexOf(':');
        String usage = "--metrics: expected HOST:PORT such as 127.0.0.1:9469 or [::1]:9469, got '" + v + "'";
        if (colon <= 0 || colon == v.length() - 1) throw new StartupException(usage, 2);
        String host = v.substring(0, colon);
        String portText = v.substring(colon + 1);
        if (host.startsWith("[") != host.endsWith("]")) throw new StartupException(usage, 2);
        if (host.startsWith("[")) {
            host = host.substring(1, host.length() - 1);
            if (!host.contains(":")) throw new StartupException(usage + " (brackets are for IPv6 addresses)", 2);
        } else if (host.contains(":")) {
            throw new StartupException(usage + " (an IPv6 address goes in brackets)", 2);
        }
        if (host.isEmpty()) throw new StartupException(usage, 2);
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new StartupException(usage, 2);
        }
        if (port < 0 || port > 65535) throw new StartupException("--metrics: port " + port + " is outside 0..65535", 2);
        if (host.equals("localhost")) return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        try {
            return new InetSocketAddress(InetAddress.ofLiteral(host), port); // a literal: no resolver, no DNS
        } catch (IllegalArgumentException e) {
            throw new StartupException("--metrics: HOST must be an IP address or localhost, got '" + host + "'", 2);
        }
    }

    /**
     * Socket permissions: read and write for the owner, and optionally for the
     * group and others (connecting needs write permission). Execute bits mean
     * nothing on a socket and are refused as a likely typo.
     */
    static int socketMode(String v) throws StartupException {
        int mode;
        try {
            mode = Integer.parseInt(v, 8);
        } catch (NumberFormatException e) {
            throw new StartupException("--socket-mode: '" + v + "' is not an octal mode such as 0600 or 0660", 2);
        }
        if ((mode & ~0666) != 0 || (mode & 0600) != 0600) {
            throw new StartupException("--socket-mode: " + v + " must give the owner read and write and may add only"
                    + " read/write for group and others (0600, 0660, 0666)", 2);
        }
        return mode;
    }

    private static String value(String[] args, int i, String flag) throws StartupException {
        if (i >= args.length) throw new StartupException(flag + " needs a value", 2);
        return args[i];
    }

    private static long number(String[] args, int i, String flag, long min, long max) throws StartupException {
        String v = value(args, i, flag);
        try {
            long n = Long.parseLong(v);
            if (n < min || n > max) throw new StartupException(flag + ": " + n + " is outside " + min + ".." + max, 2);
            return n;
        } catch (NumberFormatException e) {
            throw new StartupException(flag + ": '" + v + "' is not a number", 2);
        }
    }

    /** A byte count: digits with an optional K, M, G or T (powers of 1024), within min..max. */
    static long bytes(String[] args, int i, String flag, long min, long max) throws StartupException {
        String v = value(args, i, flag);
        int shift = 0;
        String digits = v;
        if (!v.isEmpty()) {
            switch (Character.toUpperCase(v.charAt(v.length() - 1))) {
                case 'K' -> shift = 10;
                case 'M' -> shift = 20;
                case 'G' -> shift = 30;
                case 'T' -> shift = 40;
                default -> shift = 0;
            }
            if (shift != 0) digits = v.substring(0, v.length() - 1);
        }
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new StartupException(flag + ": '" + v + "' is not a size (bytes, or a number with K, M, G or T)", 2);
        }
        if (n < 0 || (shift > 0 && n > (Long.MAX_VALUE >> shift))) {
            throw new StartupException(flag + ": '" + v + "' is outside " + min + ".." + max + " bytes", 2);
        }
        n <<= shift;
        if (n < min || n > max) throw new StartupException(flag + ": " + v + " (" + n + " bytes) is outside " + min + ".." + max, 2);
        return n;
    }

    /** Creates dir (0700) if missing; refuses a directory someone else owns or a symlink. */
    static void ensurePrivateDir(Path dir, String what) throws StartupException {
        try {
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Path parent = dir.getParent();
                if (parent != null && !Files.exists(parent)) Files.createDirectories(parent);
                int rc = LibC.mkdir(dir.toString(), 0700);
                if (rc < 0 && !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    throw new StartupException("cannot create " + what + " " + dir + ": " + LibC.strerror(rc), 1);
                }
            }
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new StartupException(what + " " + dir + " is not a directory", 1);
            }
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            int me = LibC.getuid();
            if (owner != me && me != 0) {
                throw new StartupException(what + " " + dir + " belongs to uid " + owner + ", not to us (uid " + me
                        + "); choose another path", 1);
            }
            if (!Files.isWritable(dir)) {
                throw new StartupException(what + " " + dir + " is not writable", 1);
            }
        } catch (IOException e) {
            throw new StartupException("cannot prepare " + what + " " + dir + ": " + e.getMessage(), 1);
        }
    }

    /** Subdirectories of the state directory the daemon writes in (BlobStore, the trace). */
    static final String[] STATE_SUBDIRS = {"journal", "blobs", "lost+found", "trace"};

    /**
     * The state directory and the subdirectories it has must be directories
     * of the daemon's own uid (root's too: a root daemon must not write into
     * another user's tree), not symbolic links, and writable by no one else.
     * Otherwise their owner, or anyone who may write there, could point the
     * daemon's files elsewhere through a link (finding 18.10). A bad one is
     * a configuration error: exit status 2, which systemd does not restart.
     */
    static void checkStateDir(Path dir) throws StartupException {
        int me = LibC.getuid();
        checkOwnDir(dir, "state directory", me);
        for (String sub : STATE_SUBDIRS) {
            Path p = dir.resolve(sub);
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) checkOwnDir(p, "state directory's " + sub, me);
        }
    }

    private static void checkOwnDir(Path dir, String what, int me) throws StartupException {
        try {
            if (Files.isSymbolicLink(dir)) {
                throw new StartupException(what + " " + dir + " is a symbolic link; refused (give the real path,"
                        + " owned by uid " + me + ")", 2);
            }
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new StartupException(what + " " + dir + " is not a directory", 2);
            }
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if (owner != me) {
                throw new StartupException(what + " " + dir + " belongs to uid " + owner + ", not to the daemon's uid "
                        + me + "; refused (its owner could redirect the daemon's files): chown it or choose another path", 2);
            }
            if ((mode & 0022) != 0) {
                throw new StartupException(what + " " + dir + " is writable by its group or others (mode 0"
                        + Integer.toOctalString(mode & 07777) + "); refused: chmod go-w it", 2);
            }
        } catch (IOException e) {
            throw new StartupException("cannot check " + what + " " + dir + ": " + e.getMessage(), 1);
        }
    }

    /**
     * An existing socket directory must be ours (or root's), and if others
     * may write to it, sticky (like /tmp): else whoever made it could replace
     * the socket with their own and receive every task's connection, stdio
     * and terminal. (A /tmp/dios-UID made in advance by another user is
     * exactly that.)
     */
    static void checkSocketDir(Path dir) throws StartupException {
        try {
            int owner = (Integer) Files.getAttribute(dir, "unix:uid");
            int mode = (Integer) Files.getAttribute(dir, "unix:mode");
            int me = LibC.getuid();
            if (owner != me && owner != 0) {
                throw new StartupException("socket directory " + dir + " belongs to uid " + owner + ", not to us (uid " + me
                        + ") or root: its owner could replace the socket; choose another path", 1);
            }
            if ((mode & 0022) != 0 && (mode & 01000) == 0) {
                throw new StartupException("socket directory " + dir + " is writable by others (mode 0"
                        + Integer.toOctalString(mode & 07777) + ") and not sticky: anyone could replace the socket;"
                        + " choose a private directory", 1);
            }
        } catch (IOException e) {
            throw new StartupException("cannot check socket directory " + dir + ": " + e.getMessage(), 1);
        }
    }

    /**
     * The per-user quotas: those given by --quota-* flags, the others sized to
     * this daemon (its descriptor limit and heap, the RAM, the state
     * directory's file system); printed, so the operator sees what was chosen.
     * The daemon's own uid is not charged.
     */
    static Quotas quotas(Options o) {
        long disk;
        try {
            disk = Files.getFileStore(Path.of(o.stateDir())).getTotalSpace();
        } catch (IOException e) {
            disk = 0; // the floor
        }
        long[] l = Quotas.sized(openFilesLimit(), Runtime.getRuntime().maxMemory(), memTotal(), disk);
        StringBuilder line = new StringBuilder("diosd: per-user quotas:");
        for (int k = 0; k < Quotas.KINDS; k++) {
            if (o.quotas()[k] > 0) l[k] = o.quotas()[k];
            line.append(k == 0 ? " " : ", ").append(Quotas.name(k)).append(' ').append(l[k]);
        }
        System.out.println(line.append(", rpc-connections ").append(o.rpcPerUser())
                .append(", admin-connections ").append(o.adminPerUser()));
        return new Quotas(l, LibC.getuid());
    }

    /** The soft RLIMIT_NOFILE of this process (the JVM raises it to the hard limit at start), from /proc/self/limits. */
    static long openFilesLimit() {
        return procValue("/proc/self/limits", "Max open files", 3, 1024);
    }

    /** MemTotal of /proc/meminfo in bytes. */
    static long memTotal() {
        return procValue("/proc/meminfo", "MemTotal:", 1, 1L << 20) * 1024;
    }

    /** Field (by whitespace) of the line of file starting with prefix, as a number; dflt if absent. */
    private static long procValue(String file, String prefix, int field, long dflt) {
        try {
            for (String l : Files.readAllLines(Path.of(file))) {
                if (!l.startsWith(prefix)) continue;
                String[] f = l.trim().split("\\s+");
                return f.length > field && f[field].matches("[0-9]+") ? Long.parseLong(f[field]) : dflt;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux-like: the floor
        }
        return dflt;
    }

    /** host:port for messages; an IPv6 address in brackets. */
    static String hostPort(InetSocketAddress a) {
        String h = a.getAddress().getHostAddress();
        return (h.contains(":") ? "[" + h + "]" : h) + ":" + a.getPort();
    }

    /**
     * The operator's socket (the dios tool): SOCK_STREAM, non-blocking (the
     * conductor serves it), with the main socket's permissions; the daemon
     * itself refuses every uid but its own and root's. A failure is a
     * warning: the daemon serves tasks without it. Returns the fd or -1.
     */
    private static int adminSocket(String adminPath, int mode) {
        LibC.unlink(adminPath); // stale, from a daemon that died (the main socket was not live)
        int fd = UnixSocket.listen(adminPath, LibC.SOCK_STREAM, 16);
        if (fd < 0) {
            Log.warn("admin socket " + adminPath + ": " + LibC.strerror(fd) + "; the dios tool cannot reach this daemon");
            return -1;
        }
        int rc = LibC.chmod(adminPath, mode);
        if (rc < 0) {
            Log.warn("admin socket " + adminPath + ": chmod: " + LibC.strerror(rc) + "; the dios tool cannot reach this daemon");
            closeAdmin(fd, adminPath);
            return -1;
        }
        return fd;
    }

    private static void closeAdmin(int fd, String adminPath) {
        if (fd < 0) return;
        LibC.close(fd);
        LibC.unlink(adminPath);
    }

    /** Where `dios trace` finds its queue: {@code <state-dir>/trace} (only while someone traces). */
    static final String TRACE_SUBDIR = "trace";

    /** systemd's NOTIFY_SOCKET, or null; READY=1 and STOPPING=1 are sent under this lock, in that order or not at all. */
    private static Notify notify;
    private static final Object NOTIFY_LOCK = new Object();
    private static boolean stopping;

    private static Notify notifier() {
        try {
            return Notify.fromEnvironment();
        } catch (IllegalArgumentException e) {
            Log.warn(e.getMessage() + "; systemd will not be told when diosd is ready");
            return null;
        }
    }

    /** Sends a state to systemd if it asked for one; a failure is logged, never fatal. */
    private static void tellSystemd(String state) {
        if (notify == null) return;
        long r = notify.send(state);
        String what = state.lines().findFirst().orElse(state);
        if (r < 0) {
            Log.warn("cannot send " + what + " to systemd at NOTIFY_SOCKET=" + notify.target() + ": "
                    + LibC.strerror((int) r) + " (diosd goes on)");
        } else {
            Log.debug("sent " + what + " to systemd");
        }
    }

    /**
     * SIGTERM is how the daemon is meant to be stopped (systemd, kill): once
     * the shutdown hook has stopped it cleanly it exits 0, not the JVM's
     * 128+15. SIGINT and SIGHUP keep the JVM's 130 and 129.
     */
    private static void exitZeroOnTerm() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), sig -> System.exit(0));
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            Log.warn("cannot handle SIGTERM (" + e.getMessage() + "): a stop by SIGTERM exits 143");
        }
    }

    static void run(Options o) throws StartupException {
        notify = notifier();
        Path sock = Path.of(o.socket()).toAbsolutePath();
        // Room for the longest suffix of the sockets beside it (.rpc, .admin) and the NUL.
        int room = LibC.SUN_PATH_MAX - 1 - Abi.DIOS_ADMIN_SUFFIX.length();
        if (sock.toString().getBytes().length > room) {
            throw new StartupException("socket path is too long for AF_UNIX (" + room + " bytes at most): " + sock, 2);
        }
        Path sockDir = sock.getParent();
        if (!Files.isDirectory(sockDir)) {
            // Only the default socket's directory (under $XDG_RUNTIME_DIR or /tmp) is made: a
            // mistyped --socket must not create directories (and the state beside them) anywhere.
            if (o.socketGiven()) {
                throw new StartupException("socket directory " + sockDir + " does not exist: create it, or leave"
                        + " --socket out for the default", 1);
            }
            ensurePrivateDir(sockDir, "socket directory");
        } else {
            checkSocketDir(sockDir);
        }
        if (!Files.isWritable(sockDir)) throw new StartupException("socket directory " + sockDir + " is not writable", 1);
        Path stateDir = Path.of(o.stateDir()).toAbsolutePath();
        if (Files.exists(stateDir, LinkOption.NOFOLLOW_LINKS)) checkStateDir(stateDir); // before anything is made in it
        ensurePrivateDir(stateDir, "state directory");
        checkStateDir(stateDir);
        // The state directory's lock before anything else happens: a second daemon on the same
        // state is refused before it makes a socket or warms up.
        BlobStore.StateLock stateLock;
        try {
            stateLock = BlobStore.lock(Path.of(o.stateDir()));
        } catch (IOException | RuntimeException e) {
            throw new StartupException("cannot open the state directory " + o.stateDir() + ": " + e.getMessage(), 1);
        }
        // The metrics port is bound before any socket exists: a port in use stops the start cleanly.
        MetricsServer metrics = null;
        if (o.metrics() != null) {
            try {
                metrics = MetricsServer.bind(o.metrics());
            } catch (IOException e) {
                throw new StartupException("cannot serve metrics on " + hostPort(o.metrics()) + ": " + e.getMessage(), 1);
            } catch (LinkageError e) {
                throw new StartupException("--metrics: Micrometer is not on the class path (" + e.getMessage()
                        + "); dist/bin/diosd adds share/dios/java/lib/*", 1);
            }
        }

        String path = sock.toString();
        if (Files.exists(sock, LinkOption.NOFOLLOW_LINKS)) {
            if (UnixSocket.isLive(path, LibC.SOCK_SEQPACKET)) {
                throw new StartupException("socket " + path + " is in use by a running diosd; stop it or pass --socket", 1);
            }
            LibC.unlink(path); // stale, from a daemon that died
        }
        // The benchmark RPC socket and the admin socket first: once the main socket accepts,
        // everything is served.
        SocketRpcService rpc = SocketRpcService.start(path + Abi.DIOS_RPC_SUFFIX, o.socketMode(), SocketRpcService.IDLE_MILLIS,
                o.rpcPerUser());
        String adminPath = path + Abi.DIOS_ADMIN_SUFFIX;
        int adminFd = adminSocket(adminPath, o.socketMode());
        int listenFd = UnixSocket.listen(path, LibC.SOCK_SEQPACKET, 512);
        if (listenFd < 0) {
            if (rpc != null) rpc.stop();
            closeAdmin(adminFd, adminPath);
            throw new StartupException("cannot listen on " + path + ": " + LibC.strerror(listenFd), 1);
        }
        // The socket is the gate to every object of the tasks: by default this user's only.
        // Under systemd (--socket-mode 0660) the daemon's group too, which is how users join.
        int rc = LibC.chmod(path, o.socketMode());
        if (rc < 0) {
            LibC.close(listenFd);
            LibC.unlink(path);
            if (rpc != null) rpc.stop();
            closeAdmin(adminFd, adminPath);
            throw new StartupException("cannot chmod " + Integer.toOctalString(o.socketMode()) + " " + path + ": "
                    + LibC.strerror(rc), 1);
        }
        if ((o.socketMode() & 0006) != 0) {
            Log.warn("socket mode 0" + Integer.toOctalString(o.socketMode()) + ": every user of this host can connect");
        }

        Path traceDir = Path.of(o.stateDir()).toAbsolutePath().resolve(TRACE_SUBDIR);
        AdminReports.Info info = new AdminReports.Info(VERSION, path,
                metrics == null ? "off" : "http://" + hostPort(metrics.address()) + "/metrics",
                ProcessHandle.current().pid(), LibC.getuid(), Instant.now(), traceDir);
        Quotas quotas = quotas(o);
        DriverConductor conductor = new DriverConductor(o.config(), listenFd, adminFd, info, quotas);
        conductor.adminConnectionsPerUser(o.adminPerUser());
        String launcher = findLauncher(o.launcher());
        if (launcher == null) {
            Log.warn("no task launcher (dios-launch) found: dios_run will fail with -ENOSYS; give --launcher PATH");
        } else if (!java.nio.file.Files.isExecutable(Path.of(launcher))) {
            throw new StartupException("--launcher " + launcher + ": not an executable file", 1);
        } else {
            conductor.tasks(launcher, path);
        }
        // Not dumpable: tasks of the same user (a Pure one may still open files to read) cannot
        // read this process's memory through /proc/<pid>/mem, where every name and reference lives.
        // (--dumpable keeps it, for debugging: jcmd cannot attach to a process that is not dumpable.)
        long dumpable = o.dumpable() ? 0 : LibC.syscall(157 /* prctl */, 4 /* PR_SET_DUMPABLE */, 0, 0, 0, 0, 0);
        if (dumpable < 0) {
            Log.warn("prctl(PR_SET_DUMPABLE, 0): " + LibC.strerror((int) dumpable) + "; tasks of this user can read the daemon's memory");
        }
        Thread thread = Thread.ofPlatform().name("diosd-conductor").unstarted(conductor);
        final MetricsServer metricsServer = metrics;
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("diosd-shutdown").unstarted(() -> {
            synchronized (NOTIFY_LOCK) {
                stopping = true;
                tellSystemd("STOPPING=1");
            }
            if (metricsServer != null) metricsServer.stop();
            conductor.requestStop();
            try {
                thread.join(5000);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            boolean stuck = thread.isAlive();
            LibC.unlink(path);
            LibC.close(listenFd);
            if (rpc != null) rpc.stop();
            closeAdmin(adminFd, adminPath);
            Log.info("stopped; removed " + path);
            if (stuck) { // not a clean stop: not the 0 a SIGTERM otherwise exits with
                Log.error("the conductor did not stop within 5 s");
                Runtime.getRuntime().halt(70);
            }
        }));
        exitZeroOnTerm();
        thread.start(); // warms up while the state directory opens here
        BlobStore store;
        try {
            store = BlobStore.open(stateLock);
        } catch (IOException | RuntimeException e) {
            conductor.durableState(null);
            throw new StartupException("cannot open the state directory " + o.stateDir() + ": " + e.getMessage(), 1);
        }
        conductor.durableState(store);
        System.out.println("diosd " + VERSION + ": listening on " + path + " (state " + o.stateDir() + ", pid "
                + ProcessHandle.current().pid() + ")");
        if (metrics != null) System.out.println("diosd: metrics on http://" + hostPort(metrics.address()) + "/metrics");
        System.out.flush();
        try {
            // READY=1 only once tasks are served at full speed (after the JIT warm-up);
            // until then connections wait in the listen backlog.
            if (conductor.awaitServing()) {
                // Scripts and tests wait for this line before a first call that must not race the warm-up.
                System.out.println("diosd: serving tasks");
                System.out.flush();
                // Scrapes wait in the backlog until now: the warm-up's calls are never seen.
                if (metrics != null) metrics.start(conductor, VERSION);
                synchronized (NOTIFY_LOCK) {
                    if (!stopping) {
                        tellSystemd("READY=1\nSTATUS=listening on " + path + "\nMAINPID=" + ProcessHandle.current().pid());
                    }
                }
            }
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (conductor.failure() != null) {
            Log.fatal("stopped by an internal error: " + conductor.failure());
            System.exit(70); // EX_SOFTWARE
        }
    }
}
