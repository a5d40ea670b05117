package org.dios.diosd.objects;

import java.util.ArrayList;

import org.dios.abi.Abi;


/**
 * The object that stands for a task; its reference is what dios_self()
 * returns, and dios_run hands one to the parent. Reading it (acquire_read)
 * yields the exit status once the task has ended, and a dios_select on it is
 * ready then.
 *
 * <p>A task spawned by diosd exists from the moment dios_run starts it,
 * before its process has registered (it may never: a legacy program need not
 * call DIOS). Until it registers, the references delegated to it and its
 * groups wait here, each holding a count; its process is watched through a
 * pidfd, so its exit status is known however it ends.
 */
public final class TaskObject extends DObject {
    /** Delegated to a task that has not registered yet: the object's count is held. */
    public record Pending(DObject object, int perms) {}

    public int pid;
    /** Task number (the same as the session's). */
    public final long taskId;
    /** Started by dios_run: diosd is its parent, watches it through pidfd and knows its status. */
    public boolean spawned;
    public int pidfd = -1;
    /** uid/gid the task runs for (the parent's), for per-user limits. */
    public int ownerUid, ownerGid;
    /** Until registration: references delegated to it, in order. */
    public ArrayList<Pending> pending;
    /** Until registration: its groups (counts held) and whether it sees the public names. */
    public ArrayList<GroupObject> groups;
    public boolean publicMember = true;
    /** Until registration: its parent's terminal (a dup), its console if it brings none. */
    public int ttyFd = -1;
    /** Until registration: its executable (count held). */
    public ExeObject exe;
    /** The registered session, or null. */
    public TaskSession session;
    /** Spawned: the task that called dios_run (0: none), and the argv it gave (Argv.text). */
    public long parentTask;
    public String argv;
    /** The spawn's parent call, until the launcher has answered. */
    public ParkedCall runCall;
    /**
     * Spawned: it runs under the Pure DIOS filter (its brand, or a Pure
     * parent's), and whether a denied call kills it. What the tasks it
     * spawns inherit (their policy is never looser).
     */
    public boolean pure, pureKill;

    /** Delegates o to this task until it registers (the caller took a count of o). */
    public void addPending(DObject o, int perms) {
        pending.add(new Pending(o, perms));
        o.pendingChanged(perms, 1, null);
    }

    private boolean exited;
    /** waitpid-style status; -1 unknown (a task that connected by itself). */
    private int status = -1;

    public TaskObject(long id, long taskId, int pid) {
        super(id, Abi.D_OBJ_TASK, taskId);
        this.taskId = taskId;
        this.pid = pid;
    }

    public boolean exited() {
        return exited;
    }

    public int status() {
        return status;
    }

    /** The task is gone: reading its reference yields status; a dios_select on it is ready. */
    public void exited(int status, Completer d) {
        if (exited) return;
        exited = true;
        this.status = status;
        wakeWaiters(d);
    }

    @Override
    public boolean readyFor(Reference r, TaskSession task) {
        return exited || !r.live;
    }

    /** Reading a task reference: its exit status once it has ended (else it waits, or -EAGAIN). */
    @Override
    public int acquire(Call c, Reference ref, long len, boolean write) {
        if (write) return -Abi.DIOS_EOPNOTSUPP;
        if (exited) {
            exitVals(c.val);
            c.cqeFlags |= Abi.D_CQE_F_INLINE;
            return 0;
        }
        if (c.nonBlocking()) return -Abi.DIOS_EAGAIN;
        if (!c.mayPark()) return -Abi.DIOS_ENOMEM;
        addWaiter(c.park(ref, 0));
        return Call.PARKED;
    }

    /** A dios_wait parked on this task: answered once it has exited. */
    @Override
    public boolean resume(ParkedCall pc, Completer c) {
        if (pc.op != Abi.D_OP_ACQUIRE_READ || !exited) return false;
        long[] v = new long[org.dios.abi.CqeDescriptor.VAL_COUNT];
        exitVals(v);
        c.complete(pc.task, pc, 0, Abi.D_CQE_F_INLINE, v);
        return true;
    }

    private void exitVals(long[] v) {
        v[0] = status;
        v[1] = pid;
        v[2] = taskId;
    }

    /**
     * dios_copy to this task: the references land in its table (or, before
     * it has registered, wait here) and in its inbox, in order, where
     * dios_delegated takes them. All or nothing. The target reference needs
     * write permission; a task that has ended (or never ran) is -ESRCH.
     */
    @Override
    public int delegateFrom(Call c, Reference target, long base, int count, boolean readOnly) {
        if (!target.can(Abi.D_PERM_WRITE)) return -Abi.DIOS_EACCES;
        if (exited || isZombie() || (session == null && pending == null)) return -Abi.DIOS_ESRCH;
        Reference[] refs = new Reference[count];
        int rc = c.delegableRefs(base, refs);
        if (rc < 0) return rc;
        TaskSession ts = session;
        if (ts != null && ts.refs.size() + count > ts.refs.capacity()) return -Abi.DIOS_ENOMEM;
        for (Reference d : refs) {
            int perms = readOnly ? d.perms & Abi.D_PERM_READ : d.perms;
            if (!d.object.tryRetain()) continue; // cannot happen: the caller holds it
            if (ts != null) {
                long id = c.objects.addReference(ts, d.object, perms);
                if (id != 0) ts.inbox.add(id);
            } else {
                addPending(d.object, perms);
            }
        }
        return 0;
    }

    /** ref_info's size of a task: its process id (0 before its process started). */
    @Override
    public long size() {
        return pid;
    }

    @Override
    public int readiness() {
        return exited ? Abi.D_REF_STATE_READABLE : 0;
    }

    @Override
    protected void freeResources(Stats stats) {
        // Metadata only: the process, its pidfd and what waits for it are the conductor's.
    }
}
