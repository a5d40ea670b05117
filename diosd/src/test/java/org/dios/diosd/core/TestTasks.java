package org.dios.diosd.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;

import org.dios.abi.Abi;

/** Task sessions over real native regions (no socket, no process) for unit tests. */
final class TestTasks implements AutoCloseable {
    private final ArrayList<Arena> arenas = new ArrayList<>();

    TaskSession session(long taskId) {
        return session(taskId, 4096);
    }

    TaskSession session(long taskId, int maxRefs) {
        Arena arena = Arena.ofConfined();
        arenas.add(arena);
        MemorySegment region = arena.allocate(Abi.DIOS_REGION_SIZE, 4096);
        return new TaskSession(taskId, (int) taskId, 1, 1000 + (int) taskId, 1000, 1000, -1, -1, -1, arena, region,
                maxRefs, 1024, 0x100 + taskId, "/test");
    }

    @Override
    public void close() {
        arenas.forEach(Arena::close);
    }
}
