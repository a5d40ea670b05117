package org.dios.diosd.objects;

/**
 * An object whose data tasks map: a segment id the shim caches the mapping
 * under, the bytes to map, and an fd to send (read-write, or read-only for
 * references that may only read).
 */
interface SegmentSource {
    /** Id of the current mapping; never reused for anything else. */
    long segmentId();

    /** Bytes a task maps for {@link #segmentId()}. */
    long segmentSize();

    /** fd to hand a task: read-write, or an O_RDONLY description. Returns the fd or -errno. */
    int fdFor(boolean writable);
}
