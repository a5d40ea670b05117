package org.dios.diosd.objects;

/** Thrown while serving a call when the task must be disconnected (its reason is logged). */
public final class Disconnect extends RuntimeException {
    public Disconnect(String reason) {
        super(reason, null, false, false);
    }
}
