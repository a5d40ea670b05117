package org.dios.diosd.objects;

/** One entry of a task's reference table: an object and the permissions this task has on it. */
public final class Reference {
    public final DObject object;
    public final int perms;
    /** The id the task holds (index, generation and tag packed by {@link ReferenceTable}). */
    public long id;
    /** Outstanding buffers acquired through this reference. */
    public int buffers;
    /** False once released: parked calls through it end. */
    boolean live = true;

    Reference(DObject object, int perms) {
        this.object = object;
        this.perms = perms;
    }

    public long id() {
        return id;
    }

    public boolean can(int perm) {
        return (perms & perm) == perm;
    }
}
