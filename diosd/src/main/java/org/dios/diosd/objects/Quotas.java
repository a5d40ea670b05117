package org.dios.diosd.objects;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;

import org.dios.abi.Abi;

/**
 * Per-user quotas (issue 18.2): what the tasks of one uid may hold at once,
 * so that one user cannot take the daemon's descriptors, heap or disk from
 * the others. One {@link Account} per uid, made at its first charge; used
 * only by the conductor thread, so nothing here locks.
 *
 * <p>Charged where the thing is made and given back where it goes:
 * <ul>
 * <li>{@link #OBJECTS}: every object a task creates (dios_create), charged to
 * its creator's uid until it is freed (its last reference gone, or zombified);
 * each costs the daemon heap (about 350 bytes, more for FIFOs and blobs);</li>
 * <li>{@link #NAMES}: names bound to those objects, until unbound;</li>
 * <li>{@link #MEMORY_BYTES}: sizes of PRIVMEM and SHMEM objects (memfd pages
 * the machine must find, whoever touches them);</li>
 * <li>{@link #FIFOS}: FIFOs (each holds up to three descriptors in the daemon);</li>
 * <li>{@link #BLOBS}, {@link #BLOB_BYTES}: blob files in the state directory and
 * their lengths; durable ones are journaled with their creator's uid, so a
 * restart charges them again;</li>
 * <li>{@link #PENDING}: connections accepted that have not said hello yet.</li>
 * </ul>
 *
 * <p>The daemon's own uid is not charged (its objects are the console, the
 * warm-up's and the executables it is asked for); root is charged like anyone:
 * a root task flooding the daemon harms the others as much.  A refusal is
 * {@code -EDQUOT} from {@link #refuse}, the one place a quota's error is made
 * (the place to add a detail code naming the quota).
 */
public final class Quotas {
    public static final int OBJECTS = 0, NAMES = 1, MEMORY_BYTES = 2, FIFOS = 3, BLOBS = 4, BLOB_BYTES = 5,
            PENDING = 6, KINDS = 7;
    /** Names as in the flags (--quota-NAME), dios status and the metrics' kind label. */
    private static final String[] NAME = {"objects", "names", "memory", "fifos", "blobs", "blob-bytes",
            "pending-connections"};

    /** What one uid holds now, by kind. */
    public static final class Account {
        public final int uid;
        final long[] used = new long[KINDS];

        Account(int uid) {
            this.uid = uid;
        }

        public long used(int kind) {
            return used[kind];
        }
    }

    private final long[] limit;
    /** Not charged: the daemon's own uid. */
    private final int exemptUid;
    private final HashMap<Integer, Account> accounts = new HashMap<>();
    /** Refusals since start, by kind. */
    private final long[] refusals = new long[KINDS];
    /** The kind {@link #refuse} refused last, or -1. */
    private int lastRefused = -1;

    /** limits: one per kind, each at least 1 (index by the kind constants). */
    public Quotas(long[] limits, int exemptUid) {
        if (limits.length != KINDS) throw new IllegalArgumentException(KINDS + " quotas needed, " + limits.length + " given");
        for (int k = 0; k < KINDS; k++) {
            if (limits[k] < 1) throw new IllegalArgumentException("quota " + NAME[k] + " must be positive: " + limits[k]);
        }
        this.limit = limits.clone();
        this.exemptUid = exemptUid;
    }

    /** No quota at all (unit tests, the warm-up): every limit Long.MAX_VALUE, every uid exempt from nothing. */
    public static Quotas unlimited() {
        long[] l = new long[KINDS];
        java.util.Arrays.fill(l, Long.MAX_VALUE);
        return new Quotas(l, -1);
    }

    /** Heap one object costs the daemon, at most, for sizing --quota-objects (measured: about 350 bytes for a named SHMEM). */
    public static final long OBJECT_HEAP_COST = 1024;
    /** Each user may take at most this fraction (1/N) of the daemon's descriptors, heap, memory and state disk. */
    public static final int SHARE = 4;
    /** Descriptors a FIFO holds in the daemon at most: its control page and the data's read-write and read-only fds. */
    public static final int FIFO_FDS = 3;
    /** Descriptors a mapped object (PRIVMEM, SHMEM, blob) holds at most: its file and a read-only one. */
    public static final int MAPPED_FDS = 2;

    /**
     * Default quotas sized to the machine: each user may take 1/{@link #SHARE}
     * of the daemon's descriptors (nofile), of its heap (heapBytes, at
     * {@link #OBJECT_HEAP_COST} an object), half the RAM (ramBytes) in memory
     * objects and 1/SHARE of the state directory's file system (diskBytes).
     * A mapped object holds up to {@link #MAPPED_FDS} descriptors, so objects
     * are bounded by the descriptors too; a connection waiting for its hello
     * holds one.
     */
    public static long[] sized(long nofile, long heapBytes, long ramBytes, long diskBytes) {
        long fds = Math.max(64, nofile / SHARE);
        long[] l = new long[KINDS];
        l[OBJECTS] = Math.max(64, Math.min(heapBytes / SHARE / OBJECT_HEAP_COST, fds / MAPPED_FDS));
        l[NAMES] = l[OBJECTS];
        l[MEMORY_BYTES] = Math.max(1L << 30, ramBytes / 2);
        l[FIFOS] = Math.max(16, fds / FIFO_FDS);
        l[BLOBS] = Math.max(16, fds / MAPPED_FDS);
        l[BLOB_BYTES] = Math.max(1L << 20, diskBytes / SHARE);
        l[PENDING] = Math.max(16, fds / 4);
        return l;
    }

    public static String name(int kind) {
        return NAME[kind];
    }

    /** The D_DETAIL_QUOTA_* code an -EDQUOT completion of quota kind carries (0: none, a connection's). */
    public static int detailCode(int kind) {
        return switch (kind) {
            case OBJECTS -> Abi.D_DETAIL_QUOTA_OBJECTS;
            case NAMES -> Abi.D_DETAIL_QUOTA_NAMES;
            case MEMORY_BYTES -> Abi.D_DETAIL_QUOTA_MEMORY;
            case FIFOS -> Abi.D_DETAIL_QUOTA_FIFOS;
            case BLOBS -> Abi.D_DETAIL_QUOTA_BLOBS;
            case BLOB_BYTES -> Abi.D_DETAIL_QUOTA_BLOB_BYTES;
            default -> 0;
        };
    }

    public long limit(int kind) {
        return limit[kind];
    }

    public long refusals(int kind) {
        return refusals[kind];
    }

    /** The account charged for uid's things, or null for the daemon's own uid (never charged). */
    public Account account(int uid) {
        if (uid == exemptUid) return null;
        return accounts.computeIfAbsent(uid, Account::new);
    }

    /** The account of uid if it holds anything, else null (does not make one). */
    public Account existing(int uid) {
        return accounts.get(uid);
    }

    /** True if a may take n more of kind (a null account always may). */
    public boolean allows(Account a, int kind, long n) {
        return a == null || n <= limit[kind] - a.used[kind];
    }

    /**
     * Charges n of kind to a if the quota allows it: 0, or {@link #refuse}'s
     * -EDQUOT (nothing charged).
     */
    public int charge(Account a, int kind, long n) {
        if (a == null) return 0;
        if (!allows(a, kind, n)) return refuse(kind);
        a.used[kind] += n;
        return 0;
    }

    /** Charges n of kind whatever the quota (what a restart finds on disk, names checked before). */
    public void force(Account a, int kind, long n) {
        if (a != null) a.used[kind] += n;
    }

    /** Gives back n of kind; an account that holds nothing any more is dropped. */
    public void release(Account a, int kind, long n) {
        if (a == null || n == 0) return;
        long u = a.used[kind] - n;
        if (u < 0) throw new IllegalStateException("quota " + NAME[kind] + " of uid " + a.uid + " released below zero");
        a.used[kind] = u;
        if (u == 0 && empty(a)) accounts.remove(a.uid, a);
    }

    private static boolean empty(Account a) {
        for (long u : a.used) if (u != 0) return false;
        return true;
    }

    /**
     * The error of a call refused by quota kind: -EDQUOT. The one place a
     * quota's refusal is made and counted; the call's completion names it
     * ({@link Call#explainQuota}).
     */
    public int refuse(int kind) {
        refusals[kind]++;
        lastRefused = kind;
        return -Abi.DIOS_EDQUOT;
    }

    /**
     * The quota the last -EDQUOT was for (a kind), or -1: what a call that
     * completes with -EDQUOT can name (an error detail) without another path
     * through the drivers.
     */
    public int lastRefused() {
        return lastRefused;
    }

    /** Accounts holding something, by their largest share of a quota first; at most max. */
    public List<Account> top(int max) {
        List<Account> all = new ArrayList<>(accounts.values());
        all.sort(Comparator.comparingDouble(this::share).reversed().thenComparingInt(a -> a.uid));
        return all.size() > max ? all.subList(0, max) : all;
    }

    /** The largest fraction of any quota a holds (0..1). */
    public double share(Account a) {
        double m = 0;
        for (int k = 0; k < KINDS; k++) m = Math.max(m, (double) a.used[k] / limit[k]);
        return m;
    }

    /** The most any one user holds of kind now (O(users)). */
    public long peak(int kind) {
        long m = 0;
        for (Account a : accounts.values()) m = Math.max(m, a.used[kind]);
        return m;
    }

    public int accounts() {
        return accounts.size();
    }
}
