package org.dios.diosd.objects;

/** An acquired I/O buffer: a window of an object mapped in the task, from acquire until release. */
public final class Buffer {
    public final Reference ref;
    public final boolean write;
    final long offset;
    final long length;
    /** Object generation when the read was (re-)armed; commit_read compares with it. */
    long armedGeneration;
    long id;

    Buffer(Reference ref, boolean write, long offset, long length, long generation) {
        this.ref = ref;
        this.write = write;
        this.offset = offset;
        this.length = length;
        this.armedGeneration = generation;
    }
}
