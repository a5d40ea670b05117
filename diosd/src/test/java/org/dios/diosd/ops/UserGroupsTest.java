package org.dios.diosd.ops;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.dios.abi.CqeDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.objects.BlobStore;
import org.dios.diosd.objects.Name;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.RingSlots;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.objects.SyntheticTasks;
import org.dios.diosd.objects.TaskSession;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.dios.abi.Abi.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Names are per user by default (issue 18, finding 14): a task that connects
 * by itself creates and looks up in its uid's default group, so another user
 * cannot find (or guess) a deterministic name; the public group is reached
 * only with D_CREATE_PUBLIC / D_LOOKUP_PUBLIC. Sessions join their groups as
 * registration makes them (ObjectManager.joinUserGroup).
 */
class UserGroupsTest {
    private static final long SQE = RingSlots.sqeOffset(0);
    private static final long GIVEN = D_CREATE_NAMED | D_CREATE_NAME_GIVEN;

    private final Stats stats = new Stats();
    private final ObjectManager om = new ObjectManager(stats);
    private final CallDispatcher d = SyntheticTasks.dispatcher(om, stats);
    private final SyntheticTasks tasks = new SyntheticTasks();
    private final TaskSession alice = tasks.session(1, 4096, 1000);
    private final TaskSession alice2 = tasks.session(2, 4096, 1000);
    private final TaskSession bob = tasks.session(3, 4096, 1001);
    private long cqe;

    @BeforeEach
    void register() {
        om.joinUserGroup(alice);
        om.joinUserGroup(alice2);
        om.joinUserGroup(bob);
    }

    @AfterEach
    void close() {
        tasks.close();
    }

    /** The blob store attached, if any: calls parked on its sync thread are finished through it. */
    private BlobStore blobs;

    private int run(TaskSession s) {
        cqe = SyntheticTasks.nextCqeOffset(s);
        if (d.execute(s, SQE) == CallDispatcher.PARKED) {
            // only a durable blob's create or zombify parks here: it completes once the sync thread is done
            assertNotNull(blobs, "parked without a blob store");
            try {
                SyntheticTasks.finishDurable(blobs, d, s);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        return s.region.get(JAVA_INT, cqe + CqeDescriptor.RES_OFFSET);
    }

    private long val(TaskSession s, int i) {
        return s.region.get(JAVA_LONG, cqe + CqeDescriptor.VAL_OFFSET + 8L * i);
    }

    private long create(TaskSession s, int type, long size, long flags, Name given) {
        MemorySegment e = SyntheticTasks.firstSqe(s, D_OP_CREATE, 1);
        e.set(JAVA_INT, SqeDescriptor.OBJ_TYPE_OFFSET, type);
        e.set(JAVA_BYTE, SqeDescriptor.SQE_FLAGS_OFFSET, (byte) D_SQE_ARG);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, size);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, flags);
        if (given != null) given.write(e, SqeDescriptor.NAME_OFFSET);
        int res = run(s);
        return res < 0 ? res : val(s, 0);
    }

    /** 0 with the new reference's size and permissions in sizePerms[0..1], or -errno. */
    private int lookup(TaskSession s, Name n, long flags, long[] sizePerms) {
        MemorySegment e = SyntheticTasks.firstSqe(s, D_OP_LOOKUP, 1);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, 1);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, flags);
        n.write(e, SqeDescriptor.NAME_OFFSET);
        int res = run(s);
        if (res < 0) return res;
        long ref = val(s, 0);
        MemorySegment i = SyntheticTasks.firstSqe(s, D_OP_REF_INFO, 1);
        i.set(JAVA_LONG, SqeDescriptor.REF_OFFSET, ref);
        assertEquals(0, run(s));
        if (sizePerms != null) {
            sizePerms[0] = val(s, 2);
            sizePerms[1] = val(s, 1);
        }
        return 0;
    }

    @Test
    void aDeterministicNameIsItsUsersOwn() {
        Name n = Name.fromString("my/shared/page");
        assertTrue(create(alice, D_OBJ_SHMEM, 4096, GIVEN, n) > 0);
        long[] sp = new long[2];
        assertEquals(0, lookup(alice2, n, 0, sp), "another task of the same user finds it");
        assertEquals(4096, sp[0]);
        assertEquals(D_PERM_READ | D_PERM_WRITE, sp[1]);
        assertEquals(-DIOS_ENOENT, lookup(bob, n, 0, null), "another user: as if absent");
        assertEquals(-DIOS_ENOENT, lookup(bob, n, D_LOOKUP_READONLY, null), "read-only too");
        assertEquals(-DIOS_ENOENT, lookup(bob, n, D_LOOKUP_PUBLIC, null), "and it is not public");
        // Bob may bind the same string for himself (no -EEXIST: he learns nothing), and Alice still gets hers.
        assertTrue(create(bob, D_OBJ_SHMEM, 8192, GIVEN, n) > 0);
        assertEquals(0, lookup(alice2, n, 0, sp));
        assertEquals(4096, sp[0], "Alice's own object, not Bob's");
        assertEquals(0, lookup(bob, n, 0, sp));
        assertEquals(8192, sp[0]);
    }

    @Test
    void thePublicGroupIsAnExplicitChoice() {
        Name p = Name.fromString("everyone/page");
        assertTrue(create(alice, D_OBJ_SHMEM, 4096, GIVEN | D_CREATE_PUBLIC, p) > 0);
        assertEquals(-DIOS_ENOENT, lookup(bob, p, 0, null), "a plain lookup never looks in the public group");
        assertEquals(-DIOS_ENOENT, lookup(alice2, p, 0, null), "not even its own user's");
        long[] sp = new long[2];
        assertEquals(0, lookup(bob, p, D_LOOKUP_PUBLIC, sp));
        assertEquals(D_PERM_READ | D_PERM_WRITE, sp[1], "a public lookup: read and write, as any lookup");
        assertEquals(0, lookup(bob, p, D_LOOKUP_PUBLIC | D_LOOKUP_READONLY, sp));
        assertEquals(D_PERM_READ, sp[1]);
        assertEquals(-DIOS_EEXIST, create(bob, D_OBJ_SHMEM, 64, GIVEN | D_CREATE_PUBLIC, p), "one public group for all");
        assertTrue(create(alice, D_OBJ_SHMEM, 64, D_CREATE_NAMED | D_CREATE_PUBLIC, null) > 0, "a random public name");
        assertEquals(-DIOS_EINVAL, create(alice, D_OBJ_SHMEM, 64, D_CREATE_PUBLIC, null), "public, but no name");
    }

    @Test
    void aTaskGivenItsOwnGroupsHasNoPublicGroup() {
        TaskSession child = tasks.session(4, 4096, 1000);
        child.publicMember = false; // dios_run with explicit groups
        child.groups.add(om.userGroup(1000));
        child.defaultGroup = child.groups.get(0);
        assertEquals(-DIOS_EACCES, create(child, D_OBJ_SHMEM, 64, GIVEN | D_CREATE_PUBLIC, Name.fromString("c")));
        assertEquals(-DIOS_EACCES, lookup(child, Name.fromString("c"), D_LOOKUP_PUBLIC, null));
    }

    @Test
    void userGroupsAreNoObjectsButTheirNamesAreListed() {
        long objects0 = stats.objects, names0 = stats.names;
        om.joinUserGroup(tasks.session(5, 4096, 4242));
        assertEquals(objects0, stats.objects, "a uid's group is the daemon's, not counted");
        Name n = Name.fromString("listed");
        assertTrue(create(bob, D_OBJ_SHMEM, 64, GIVEN, n) > 0);
        assertEquals(names0 + 1, stats.names);
        assertTrue(om.someNames(100).stream().anyMatch(e -> e.getKey().equals(n)), "dios names lists it");
        assertSame(om.userGroup(1001), bob.groups.get(0));
        assertSame(bob.defaultGroup, bob.groups.get(0));
    }

    @Test
    void aJournaledCreateKeepsItsOwner() throws Exception {
        byte[] n = Name.fromString("j").bytes();
        var r = org.dios.diosd.journal.JournalRecord.create(7, n, 1, "7.blob", 1, 1000, true);
        assertEquals(1000, r.ownerUid());
        assertEquals(1000, r.withSize(99).ownerUid(), "a size change (and a compaction) keeps it");
        assertEquals(1000, org.dios.diosd.journal.JournalRecord.decode(r.encode()).ownerUid());
        assertEquals(-1, org.dios.diosd.journal.JournalRecord.create(7, n, 1, "7.blob", 1).ownerUid(),
                "public, as every entry of an earlier daemon");
        assertEquals(0, org.dios.diosd.journal.JournalRecord.create(7, n, 1, "7.blob", 1, 0, true).ownerUid(), "root");
        var pub = org.dios.diosd.journal.JournalRecord.create(7, n, 1, "7.blob", 1, 1000, false);
        assertEquals(-1, org.dios.diosd.journal.JournalRecord.decode(pub.encode()).ownerUid(), "public, made by uid 1000");
        assertEquals(1000, org.dios.diosd.journal.JournalRecord.decode(pub.encode()).creatorUid(), "its creator kept");
    }

    @Test
    void aDurableBlobStaysItsUsersAcrossARestart(@TempDir Path state) throws Exception {
        Name mine = Name.fromString("blob/mine"), shared = Name.fromString("blob/shared");
        try (BlobStore store = BlobStore.open(state)) {
            store.attach(om, stats);
            d.blobs(store);
            blobs = store;
            assertTrue(create(alice, D_OBJ_BLOB, 10, GIVEN, mine) > 0);
            assertTrue(create(alice, D_OBJ_BLOB, 20, GIVEN | D_CREATE_PUBLIC, shared) > 0);
            assertEquals(-DIOS_ENOENT, lookup(bob, mine, D_LOOKUP_READONLY, null));
            assertTrue(create(bob, D_OBJ_BLOB, 30, GIVEN, mine) > 0, "Bob's own blob under the same string");
        }
        // A new daemon: the journal puts each name back in its group.
        Stats stats2 = new Stats();
        ObjectManager om2 = new ObjectManager(stats2);
        CallDispatcher d2 = SyntheticTasks.dispatcher(om2, stats2);
        try (BlobStore store = BlobStore.open(state)) {
            store.attach(om2, stats2);
            d2.blobs(store);
            assertNotNull(om2.userGroup(1000).names.get(mine), "in uid 1000's group");
            assertNull(om2.publicTable().get(mine), "not in the public group");
            assertNotNull(om2.publicTable().get(shared), "the public one stays public");
            var alices = om2.userGroup(1000).names.get(mine);
            var bobs = om2.userGroup(1001).names.get(mine);
            assertNotNull(bobs, "both are restored: a name is unique only in its group");
            assertEquals(10, alices.size());
            assertEquals(30, bobs.size());
        }
    }
}
