package org.dios.diosd.admin;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.function.Function;

import org.dios.diosd.log.Log;
import org.dios.diosd.log.LogThrottle;
import org.dios.diosd.sys.Epoll;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.ListenPause;
import org.dios.diosd.sys.UnixSocket;
import org.dios.diosd.trace.CallTrace;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * The operator's socket ({@code <socket>.admin}, SOCK_STREAM): the {@code dios}
 * tool asks one question per connection and reads the answer to the end
 * (docs/PROTOCOL.md, section 12). One request keeps its connection: after
 * answering {@code trace}, the daemon traces every call for as long as that
 * client stays connected (section 13), with no timeout.
 *
 * <p>Served by the conductor itself: the listening socket and each client
 * are in its epoll set, so the answers are built from the state it owns, with
 * no lock and no copy for another thread. Nothing a client does can hold the
 * conductor up:
 * <ul>
 * <li>every fd is non-blocking; a read or write takes what the socket has
 * now, and the rest waits for the next epoll event;</li>
 * <li>only the daemon's uid and root are served (SO_PEERCRED, checked at
 * accept): anyone else gets one {@code error EACCES} line and is closed;</li>
 * <li>at most {@link #MAX_CLIENTS} connections at once (more get
 * {@code error EBUSY}), and at most {@link #maxPerUid} of one uid, tracing
 * or not ({@code --quota-admin-connections}; more get {@code error EDQUOT},
 * counted in {@link #quotaRefusals}); a request is one line of at most
 * {@link #MAX_REQUEST_BYTES} bytes, due {@link #REQUEST_TIMEOUT_NANOS} after
 * connecting; the answer must be read within {@link #ANSWER_TIMEOUT_NANOS},
 * else the connection is dropped;</li>
 * <li>an answer holds at most AdminReports.MAX_LIMIT entries and
 * {@link #MAX_ANSWER_BYTES} bytes; building it costs the conductor time in
 * proportion to its entries (about a microsecond each), once.</li>
 * </ul>
 */
public final class AdminEndpoint {
    static final int MAX_CLIENTS = 4;
    static final int MAX_REQUEST_BYTES = 256;
    static final long REQUEST_TIMEOUT_NANOS = 2_000_000_000L;
    static final long ANSWER_TIMEOUT_NANOS = 10_000_000_000L;
    static final int MAX_ANSWER_BYTES = 16 << 20;
    /** Tracing connections at once; they do not count against MAX_CLIENTS. */
    static final int MAX_TRACERS = 4;
    private static final int WRITE_CHUNK = 1 << 20;
    /**
     * Default of --quota-admin-connections: every slot there is (requests and
     * tracers), so by default one uid may hold them all, as before the flag.
     * Only two uids may connect at all (the daemon's and root), both trusted;
     * an operator who wants each of them to keep a slot sets it lower, e.g. 2.
     */
    public static final int DEFAULT_MAX_PER_UID = MAX_CLIENTS + MAX_TRACERS;

    private static final class Client {
        final int fd;
        final int uid;
        final int pid;
        long deadline;
        final byte[] request = new byte[MAX_REQUEST_BYTES];
        int requestLength;
        Arena arena;
        MemorySegment answer;
        long sent;
        /** Asked for {@code trace} and was counted as a tracing client (until dropped). */
        boolean tracing;
        /** Its trace answer is sent: from now on only its hang-up matters, and no deadline. */
        boolean streaming;

        Client(int fd, int uid, int pid, long deadline) {
            this.fd = fd;
            this.uid = uid;
            this.pid = pid;
            this.deadline = deadline;
        }
    }

    private final int listenFd;
    private final ListenPause listenPause;
    /** Refusals and failed accepts: one line per 10 s at most, whatever a crowd of peers does. */
    private final LogThrottle refusedLog = new LogThrottle(Log.Level.INFO, 10_000_000_000L);
    private final LogThrottle acceptLog = new LogThrottle(Log.Level.WARN, 10_000_000_000L);
    private final Epoll epoll;
    private final int kind;
    private final int ownUid = LibC.getuid();
    private final HashMap<Integer, Client> clients = new HashMap<>();
    private final MemorySegment scratch;
    private final Function<String, String> answerer;
    private final CallTrace trace;
    private int tracers;
    /** Connections of one uid at once, tracing ones included (--quota-admin-connections). */
    private volatile int maxPerUid = DEFAULT_MAX_PER_UID;
    /** Connections refused by {@link #maxPerUid} since start. */
    private long quotaRefusals;

    /**
     * listenFd: a non-blocking listening SOCK_STREAM socket (already in epoll
     * by the conductor, with EPOLLIN and listenKind as its data); kind: the
     * epoll data kind of client events (the fd goes in bits 8 and up); trace:
     * what the {@code trace} request turns on, or null (then it is refused);
     * answerer: request line to answer text.
     */
    public AdminEndpoint(int listenFd, int listenKind, Epoll epoll, int kind, Arena arena, CallTrace trace,
                         Function<String, String> answerer) {
        this.listenFd = listenFd;
        this.listenPause = new ListenPause(epoll, listenFd, listenKind);
        this.epoll = epoll;
        this.kind = kind;
        this.scratch = arena.allocate(1024); // a request, or a refusal line
        this.answerer = answerer;
        this.trace = trace;
        if (trace != null) trace.onFailure = this::dropTracers;
    }

    /** Sets --quota-admin-connections (at least 1); new connections are held to it from now on. */
    public void maxPerUid(int n) {
        if (n < 1) throw new IllegalArgumentException("--quota-admin-connections must be positive: " + n);
        maxPerUid = n;
    }

    /** Connections refused by the per-uid quota since start (dios status: quota.admin-connections.refusals). */
    public long quotaRefusals() {
        return quotaRefusals;
    }

    /** The quota and its refusals, for the status answer. */
    public AdminReports.AdminQuota quota() {
        return new AdminReports.AdminQuota(maxPerUid, quotaRefusals);
    }

    /** True while the listening socket is out of epoll (descriptors ran out): the loop must come back for it. */
    public boolean acceptPaused() {
        return listenPause.paused();
    }

    /** Clients with a deadline (tracing clients have none): the conductor must wake up for them. */
    public boolean hasClients() {
        return clients.size() > tracers;
    }

    /** Accepts every waiting connection; refuses strangers and crowds at once. */
    public void accept(long now) {
        while (true) {
            int fd = LibC.accept4(listenFd, LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC);
            if (fd == -LibC.EAGAIN) return;
            if (fd < 0) {
                if (ListenPause.exhausted(fd)) listenPause.pause(now);
                acceptLog.log("admin: accept: " + LibC.strerror(fd)
                        + (listenPause.paused() ? "; accepting again in " + ListenPause.PAUSE_NANOS / 1_000_000 + " ms" : ""), now);
                return;
            }
            UnixSocket.PeerCred cred = UnixSocket.peerCred(fd);
            if (cred == null || (cred.uid() != ownUid && cred.uid() != 0)) {
                String who = cred == null ? "a peer without credentials" : "uid " + cred.uid() + " (pid " + cred.pid() + ")";
                refusedLog.log("admin: refused " + who + ": only uid " + ownUid + " and root may use the admin socket", now);
                refuse(fd, AdminReports.error("EACCES", "permission denied: " + who + " may not use the admin socket;"
                        + " only the daemon's user (uid " + ownUid + ") and root may"));
                continue;
            }
            int mine = 0, quota = maxPerUid;
            for (Client c : clients.values()) if (c.uid == cred.uid()) mine++; // at most MAX_CLIENTS + MAX_TRACERS
            if (mine >= quota) {
                quotaRefusals++;
                refusedLog.log("admin: refused uid " + cred.uid() + " (pid " + cred.pid() + "): it has " + mine
                        + " admin connections open already (--quota-admin-connections " + quota + ")", now);
                refuse(fd, AdminReports.error("EDQUOT", "uid " + cred.uid() + " has " + mine
                        + " admin connections open already, its quota (--quota-admin-connections); close one"));
                continue;
            }
            if (clients.size() - tracers >= MAX_CLIENTS) {
                refuse(fd, AdminReports.error("EBUSY", MAX_CLIENTS + " admin connections are open already; try again"));
                continue;
            }
            if (epoll.add(fd, LibC.EPOLLIN | LibC.EPOLLRDHUP, kind | ((long) fd << 8)) < 0) {
                LibC.close(fd);
                continue;
            }
            clients.put(fd, new Client(fd, cred.uid(), cred.pid(), now + REQUEST_TIMEOUT_NANOS));
        }
    }

    /** One short line into a fresh socket's empty buffer (it always fits), then close. */
    private void refuse(int fd, String line) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(b.length, (int) scratch.byteSize());
        MemorySegment.copy(b, 0, scratch, JAVA_BYTE, 0, n);
        LibC.sendto(fd, scratch.asSlice(0, n), LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT, MemorySegment.NULL, 0);
        LibC.close(fd);
    }

    /** An epoll event on a client. */
    public void event(int fd, int mask, long now) {
        Client c = clients.get(fd);
        if (c == null) return;
        if (c.streaming) {
            traceEvent(c, mask);
        } else if (c.answer == null) {
            readRequest(c, mask, now);
        } else if ((mask & (LibC.EPOLLHUP | LibC.EPOLLERR)) != 0) {
            drop(c, null); // gone before it read everything
        } else {
            write(c);
        }
    }

    private void readRequest(Client c, int mask, long now) {
        while (c.requestLength < MAX_REQUEST_BYTES) {
            long n = LibC.read(c.fd, scratch, MAX_REQUEST_BYTES - c.requestLength);
            if (n == -LibC.EAGAIN) break;
            if (n <= 0) { // end of input (or an error) before a whole line
                drop(c, null);
                return;
            }
            MemorySegment.copy(scratch, JAVA_BYTE, 0, c.request, c.requestLength, (int) n);
            int from = c.requestLength;
            c.requestLength += (int) n;
            for (int i = from; i < c.requestLength; i++) {
                if (c.request[i] == '\n') {
                    answer(c, new String(c.request, 0, i, StandardCharsets.UTF_8), now);
                    return;
                }
            }
        }
        if (c.requestLength >= MAX_REQUEST_BYTES) {
            reply(c, AdminReports.error("EINVAL", "a request is one line of at most " + (MAX_REQUEST_BYTES - 1) + " bytes"), now);
        } else if ((mask & (LibC.EPOLLHUP | LibC.EPOLLRDHUP | LibC.EPOLLERR)) != 0) {
            drop(c, null);
        }
    }

    private void answer(Client c, String request, long now) {
        if (request.trim().equals("trace")) {
            startTrace(c, now);
            return;
        }
        String text;
        try {
            text = answerer.apply(request);
        } catch (RuntimeException e) {
            Log.error("admin: answering '" + AdminReports.field(request) + "' failed", e);
            text = AdminReports.error("EIO", "internal error: " + e);
        }
        if (Log.enabled(Log.Level.DEBUG)) {
            Log.debug("admin: uid " + c.uid + " (pid " + c.pid + "): '" + AdminReports.field(request) + "': "
                    + text.length() + " characters in " + (System.nanoTime() - now) / 1000 + " µs");
        }
        reply(c, text, now);
    }

    /**
     * {@code trace}: turns tracing on (the first client opens the queue) and
     * answers where the queue is and which entry this client's trace starts at.
     * The connection then stays open; tracing lasts as long as it does.
     */
    private void startTrace(Client c, long now) {
        if (trace == null || !trace.available()) {
            reply(c, AdminReports.error("EOPNOTSUPP", "this daemon has no state directory to write a trace to"), now);
            return;
        }
        if (tracers >= MAX_TRACERS) {
            reply(c, AdminReports.error("EBUSY", MAX_TRACERS + " clients are tracing already; try again"), now);
            return;
        }
        long index;
        try {
            index = trace.join();
        } catch (java.io.IOException | RuntimeException e) {
            Log.error("trace: cannot start: " + e.getMessage());
            reply(c, AdminReports.error("EIO", "cannot start the trace: " + e.getMessage()), now);
            return;
        }
        c.tracing = true;
        tracers++;
        Log.info("admin: uid " + c.uid + " (pid " + c.pid + ") traces the calls (" + trace.state() + ")");
        reply(c, "ok\ncolumns\tkey\tvalue\nrow\tqueue\t" + AdminReports.field(trace.directory().toString())
                + "\nrow\tfrom\t" + index + "\nend\t2\t2\n", now);
    }

    /** The answer to {@code trace} is out: watch the connection for its end only. */
    private void startStreaming(Client c) {
        if (c.arena != null) c.arena.close();
        c.arena = null;
        c.answer = null;
        c.streaming = true;
        if (epoll.modify(c.fd, LibC.EPOLLIN | LibC.EPOLLRDHUP, kind | ((long) c.fd << 8)) < 0) drop(c, "epoll");
    }

    /**
     * A tracing client's socket: whatever it sends is read and ignored; its
     * end (a close, a kill, a shutdown of either direction) ends its trace.
     */
    private void traceEvent(Client c, int mask) {
        while (true) {
            long n = LibC.read(c.fd, scratch, scratch.byteSize());
            if (n == -LibC.EAGAIN) break;
            if (n <= 0) {
                drop(c, null);
                return;
            }
        }
        if ((mask & (LibC.EPOLLHUP | LibC.EPOLLRDHUP | LibC.EPOLLERR)) != 0) drop(c, null);
    }

    /** The trace failed (CallTrace.onFailure): every tracing client is closed, so their tools stop. */
    private void dropTracers() {
        for (Client c : new ArrayList<>(clients.values())) {
            if (c.tracing) drop(c, "the trace failed");
        }
    }

    private void reply(Client c, String text, long now) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        if (b.length > MAX_ANSWER_BYTES) {
            b = AdminReports.error("E2BIG", "the answer has " + b.length + " bytes, more than " + MAX_ANSWER_BYTES
                    + "; ask for fewer entries").getBytes(StandardCharsets.UTF_8);
        }
        c.arena = Arena.ofConfined();
        c.answer = c.arena.allocate(Math.max(1, b.length)).asSlice(0, b.length);
        MemorySegment.copy(b, 0, c.answer, JAVA_BYTE, 0, b.length);
        c.deadline = now + ANSWER_TIMEOUT_NANOS;
        // From now on only writability matters: a client that shuts down its sending side
        // after the request must not keep waking the conductor with EPOLLRDHUP.
        if (epoll.modify(c.fd, LibC.EPOLLOUT, kind | ((long) c.fd << 8)) < 0) {
            drop(c, "epoll");
            return;
        }
        write(c);
    }

    private void write(Client c) {
        long size = c.answer.byteSize();
        while (c.sent < size) {
            long n = LibC.sendto(c.fd, c.answer.asSlice(c.sent, Math.min(size - c.sent, WRITE_CHUNK)),
                    LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT, MemorySegment.NULL, 0);
            if (n == -LibC.EAGAIN) return; // the rest when the client has read some
            if (n < 0) {
                drop(c, null); // it went away
                return;
            }
            c.sent += n;
        }
        if (c.tracing) {
            startStreaming(c); // the trace goes on while it stays connected
        } else {
            drop(c, null); // done: closing is the end of the answer
        }
    }

    /** Drops clients past their deadline (a request not sent, an answer not read). */
    public void expire(long now) {
        listenPause.resumeIfDue(now);
        ArrayList<Client> late = null;
        for (Client c : clients.values()) {
            if (!c.streaming && now - c.deadline > 0) {
                if (late == null) late = new ArrayList<>();
                late.add(c);
            }
        }
        if (late == null) return;
        for (Client c : late) {
            drop(c, c.answer == null ? "sent no request line within " + REQUEST_TIMEOUT_NANOS / 1_000_000_000L + " s"
                    : "did not read its answer within " + ANSWER_TIMEOUT_NANOS / 1_000_000_000L + " s");
        }
    }

    private void drop(Client c, String why) {
        if (why != null) Log.info("admin: closed the connection of uid " + c.uid + " (pid " + c.pid + "): " + why);
        epoll.remove(c.fd);
        LibC.close(c.fd);
        clients.remove(c.fd);
        if (c.arena != null) c.arena.close();
        c.arena = null;
        c.answer = null;
        c.streaming = false;
        if (c.tracing) {
            c.tracing = false;
            tracers--;
            trace.leave(); // the last one turns tracing off
            Log.info("admin: uid " + c.uid + " (pid " + c.pid + ") stopped tracing (trace " + trace.state() + ")");
        }
    }

    public void closeAll() {
        for (Client c : new ArrayList<>(clients.values())) drop(c, null);
    }
}
