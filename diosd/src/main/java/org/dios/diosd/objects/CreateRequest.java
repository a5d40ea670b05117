package org.dios.diosd.objects;

import java.util.HashMap;

/**
 * A dios_create as the dispatcher decoded and checked it, handed to the
 * type's factory ({@link ObjectType.Factory}). The factory checks what is
 * particular to its type, in the order the errors are documented, and either
 * makes the object (count 1, not yet adopted) or refuses with {@link #fail}.
 */
public final class CreateRequest {
    final Call call;
    final TaskSession task;
    final int type;
    /** The type argument (size or capacity) and whether the caller gave one. */
    final boolean hasArg;
    final long arg;
    final boolean named;
    /** The name the caller chose (D_CREATE_NAME_GIVEN), or null. */
    final Name givenName;
    /** The name table a name goes to. */
    final HashMap<Name, DObject> table;
    /** Types made from a path (ObjectType.fromPath): the path as the caller gave it. */
    final String path;
    /** The durable store, or null in a daemon without one. */
    final BlobStore blobs;
    /** Executables: the file the task opened and sent (D_SQE_FD); the factory owns it (closes or keeps it). */
    public int exeFd = -1;
    /** -errno when the factory refused. */
    public int error;

    public CreateRequest(Call call, int type, boolean hasArg, long arg, boolean named, Name givenName,
                  HashMap<Name, DObject> table, String path, BlobStore blobs) {
        this.call = call;
        this.task = call.task;
        this.type = type;
        this.hasArg = hasArg;
        this.arg = arg;
        this.named = named;
        this.givenName = givenName;
        this.table = table;
        this.path = path;
        this.blobs = blobs;
    }

    /** Refuses the create with -errno e; returns null for the factory to return. */
    DObject fail(int e) {
        error = e;
        return null;
    }

    /** The task's reference table is full (the new object would have no reference). */
    boolean refsFull() {
        return task.refs.size() >= task.refs.capacity();
    }

    ObjectManager objects() {
        return call.objects;
    }
}
