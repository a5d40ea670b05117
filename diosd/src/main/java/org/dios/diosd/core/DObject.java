package org.dios.diosd.core;

import org.dios.abi.Abi;

/**
 * A DIOS object: metadata common to every type plus a reference count.
 *
 * <p>Reference counting follows the seed (section 3.5.4): the count starts at
 * one for the creating reference, {@link #tryRetain()} is increment-not-zero
 * (a dying object cannot be resurrected by a racing lookup), and the object is
 * freed when {@link #release()} drops the count to zero. A zombie keeps its
 * metadata but every operation on it fails with -EIDRM.
 */
public abstract class DObject {
    public final long id;
    public final int type;
    /** Task id of the creator. */
    public final long ownerTask;
    Name name;
    private int refCount = 1;
    private boolean zombie;
    private boolean freed;

    protected DObject(long id, int type, long ownerTask) {
        this.id = id;
        this.type = type;
        this.ownerTask = ownerTask;
    }

    public Name name() {
        return name;
    }

    public int refCount() {
        return refCount;
    }

    public boolean isZombie() {
        return zombie;
    }

    public boolean isFreed() {
        return freed;
    }

    /** Increment-not-zero: false if the object is already going away. */
    public boolean tryRetain() {
        if (refCount == 0 || freed) return false;
        refCount++;
        return true;
    }

    /** Drops one reference; returns true if that was the last and the object must be freed. */
    boolean release() {
        if (refCount <= 0) throw new IllegalStateException("release of object " + id + " with count " + refCount);
        return --refCount == 0;
    }

    void markZombie() {
        zombie = true;
    }

    /** Frees type-specific resources. Called once, when the count reaches zero or at zombification. */
    void free(Stats stats) {
        if (!freed) {
            freed = true;
            freeResources(stats);
        }
    }

    protected abstract void freeResources(Stats stats);

    /** Bytes of the object's data, for ref_info (0 where it has none). */
    public long size() {
        return 0;
    }

    /** Readiness bits for ref_info (D_REF_STATE_READABLE/WRITABLE). */
    public int readiness() {
        return 0;
    }

    public String typeName() {
        return switch (type) {
            case Abi.D_OBJ_PRIVMEM -> "privmem";
            case Abi.D_OBJ_SHMEM -> "shmem";
            case Abi.D_OBJ_FIFO -> "fifo";
            case Abi.D_OBJ_BLOB -> "blob";
            case Abi.D_OBJ_CONSOLE -> "console";
            case Abi.D_OBJ_TASK -> "task";
            case Abi.D_OBJ_GROUP -> "group";
            default -> "type" + type;
        };
    }
}
