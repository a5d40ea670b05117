package org.dios.diosd.objects;

/** An acquired I/O buffer: a window of an object mapped in the task, from acquire until release. */
public final class Buffer {
    public final Reference ref;
    public final boolean write;
    final long offset;
    final long length;
    /**
     * A read buffer of a mapped object: the object's sequence word when the
     * buffer was (re-)armed; commit_read compares with it (MappedObject).
     */
    long armedSeq;
    /** A write buffer acquired with D_ACQUIRE_EXCLUSIVE: other writers wait until its release. */
    boolean exclusive;
    long id;

    Buffer(Reference ref, boolean write, long offset, long length, long seq) {
        this.ref = ref;
        this.write = write;
        this.offset = offset;
        this.length = length;
        this.armedSeq = seq;
    }
}
