package org.dios.diosd.objects;

import org.dios.abi.Abi;

/**
 * What an object type does for each operation: one implementation per type
 * (the {@link DObject} subclasses), so the dispatcher only decodes, checks the
 * reference and its permissions, calls the driver and encodes the completion.
 * A proxy for an object on another host is one more implementation.
 *
 * <p>The defaults describe an object with no data (a group, an executable):
 * no I/O, always ready, nothing to clean up. Every method runs on the
 * conductor thread and must not block.
 */
public interface ObjectDriver {
    // ---- visibility and delegation ------------------------------------------------

    /** True if only its owner may hold it: a lookup by anyone else gets -EACCES. */
    default boolean privateTo(TaskSession s) {
        return false;
    }

    /** May a reference to it be delegated (dios_copy, dios_run)? Otherwise -EACCES. */
    default boolean delegable() {
        return true;
    }

    /** Permissions a lookup grants (read-only if asked for). */
    default int lookupPerms(boolean readOnly) {
        return readOnly ? Abi.D_PERM_READ : Abi.D_PERM_READ | Abi.D_PERM_WRITE;
    }

    /**
     * dios_copy with this object as the target (through reference target):
     * delegates the count references whose ids are at region offset base
     * (see {@link Call#delegableRefs}); -EINVAL if it is no task.
     */
    default int delegateFrom(Call c, Reference target, long base, int count, boolean readOnly) {
        return -Abi.DIOS_EINVAL;
    }

    // ---- I/O ----------------------------------------------------------------------

    /**
     * acquire_read / acquire_write through ref (checked: live, not a zombie,
     * permitted): fills the completion's values, parks (returns
     * {@link Call#PARKED} after {@link Call#park}), or returns -errno.
     */
    default int acquire(Call c, Reference ref, long len, boolean write) {
        return -Abi.DIOS_EOPNOTSUPP;
    }

    /** commit_read / commit_write of buffer b (its object not a zombie). Buffers exist only where acquire made them. */
    default int commit(Call c, Buffer b, long len, boolean write) {
        return -Abi.DIOS_EINVAL;
    }

    /**
     * Buffer b was released (allowed on zombies too), by release_* or with its
     * reference (dios_delete, the task's end); c completes calls that waited
     * for it, or is null in a daemon without a dispatcher.
     */
    default void released(TaskSession s, Buffer b, Completer c) {
    }

    /** Does acquire_write take D_ACQUIRE_EXCLUSIVE here? Otherwise the flag is -EINVAL. */
    default boolean exclusiveWrites() {
        return false;
    }

    /** D_OP_NOTIFY through ref: an end changed shared state in place; -EINVAL where there are no ends. */
    default int notify(Completer c, Reference ref) {
        return -Abi.DIOS_EINVAL;
    }

    // ---- waiting ------------------------------------------------------------------

    /** Would the operation r is for (dios_select's question) not block now? */
    default boolean readyFor(Reference r, TaskSession task) {
        return true;
    }

    /**
     * References of one object whose readyFor answers are the same are of
     * one select class: a select naming several of them waits through the
     * first only (dios_select reports that one's index). The default: readyFor
     * does not depend on which reference asks.
     */
    default int selectClass(Reference r) {
        return 0;
    }

    /** Whether a select on it waits on the task's terminal (the conductor must watch it). */
    default boolean watchesTerminal() {
        return false;
    }

    /**
     * A call parked on this object (not a select) is re-checked after a state
     * change: complete it through c and return true, or return false to keep it waiting.
     */
    default boolean resume(ParkedCall pc, Completer c) {
        return false;
    }

    // ---- information --------------------------------------------------------------

    /** Bytes of the object's data, for ref_info (0 where it has none). */
    default long size() {
        return 0;
    }

    /** Readiness bits for ref_info (D_REF_STATE_READABLE/WRITABLE). */
    default int readiness() {
        return 0;
    }

    /** Which end of the object r is bound to (D_FIFO_END_*), 0 for none; ref_info's val[5]. */
    default int endOf(Reference r) {
        return 0;
    }

    // ---- life cycle ---------------------------------------------------------------

    /** The object was made and its creator's reference added. */
    default void created(TaskSession creator) {
    }

    /** The object was bound to name n at its creation; -errno undoes the create. */
    default int named(Name n) {
        return 0;
    }

    /**
     * True while a named object is still being made off the conductor: its
     * name is bound (so it is taken: a CREATE of it answers -EEXIST) but a
     * LOOKUP does not find it (-ENOENT).
     */
    default boolean beingCreated() {
        return false;
    }

    /**
     * A named CREATE that completes later (an object the factory made
     * {@link #beingCreated}: a durable blob): n is bound to this fresh
     * object, which holds its first count and no reference yet.
     * Returns {@link Call#PARKED} (the object adds the creator's reference
     * with perms and completes c), or -errno once it has undone the create
     * (name unbound, count and quota charges given back).
     */
    default int createNamed(Call c, Name n, int perms) {
        throw new IllegalStateException(this + " is not made off the conductor");
    }

    /** Before a zombify through dios_delete: -errno refuses it (nothing changed). */
    default int prepareZombify() {
        return 0;
    }

    /**
     * dios_delete with D_DELETE_ZOMBIFY through ref, when the zombify waits
     * for the disk (a durable blob's journaled deletion): parks c and returns
     * {@link Call#PARKED}, the object completing it later through the
     * dispatcher's Completer. 0: nothing to wait for, the dispatcher goes on
     * (prepareZombify, then the zombify). Or -errno (nothing changed).
     */
    default int zombifyParked(Call c, Reference ref) {
        return 0;
    }

    /** The names it scopes, if it is a group (unbound when it dies), else null. */
    default java.util.HashMap<Name, DObject> scopedNames() {
        return null;
    }

    /** Drops a count its name held (a durable blob's pin); true if there was one. */
    default boolean unpin() {
        return false;
    }

    // ---- typed views (null: the object is not of that kind) ---------------------------

    /** This object as a program dios_run can start, or null (-ENOEXEC). */
    default ExeObject asExecutable() {
        return null;
    }

    /** This object as a group, or null. */
    default GroupObject asGroup() {
        return null;
    }
}
