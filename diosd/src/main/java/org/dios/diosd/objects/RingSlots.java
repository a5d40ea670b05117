package org.dios.diosd.objects;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;
import org.dios.abi.SqeDescriptor;

/**
 * Where the entries of a task region's rings lie: the one definition of the
 * slot offsets. An index is a ring position as the indices count it (sq_head,
 * sq_tail, cq_tail: free-running, wrapping at 2^32); the ring sizes are powers
 * of two, so the slot is its low bits.
 */
public final class RingSlots {
    private RingSlots() {
    }

    /** Offset in the region of the SQE at ring position index. */
    public static long sqeOffset(int index) {
        return Abi.DIOS_REGION_SQ_OFFSET + (long) (index & (Abi.DIOS_SQ_ENTRIES - 1)) * SqeDescriptor.SIZE;
    }

    /** Offset in the region of the CQE at ring position index. */
    public static long cqeOffset(int index) {
        return Abi.DIOS_REGION_CQ_OFFSET + (long) (index & (Abi.DIOS_CQ_ENTRIES - 1)) * CqeDescriptor.SIZE;
    }
}
