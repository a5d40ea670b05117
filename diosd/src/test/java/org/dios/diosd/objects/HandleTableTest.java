package org.dios.diosd.objects;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class HandleTableTest {

    @Test
    void addedEntriesResolveAndIdsAreNeverZero() {
        HandleTable<String> t = new HandleTable<>(8, 0x1234);
        long a = t.add("a");
        long b = t.add("b");
        assertNotEquals(0, a);
        assertNotEquals(0, b);
        assertNotEquals(a, b);
        assertEquals("a", t.get(a));
        assertEquals("b", t.get(b));
        assertEquals(2, t.size());
    }

    @Test
    void removedIdFailsEvenAfterItsSlotIsReused() {
        HandleTable<String> t = new HandleTable<>(8, 7);
        long a = t.add("a");
        assertEquals("a", t.remove(a));
        assertNull(t.get(a), "released id must not resolve");
        assertNull(t.remove(a), "double release must fail");
        long c = t.add("c"); // reuses the slot with a new generation
        assertNotEquals(a, c);
        assertNull(t.get(a), "stale id must not resolve to the new entry");
        assertEquals("c", t.get(c));
    }

    @Test
    void idsFromAnotherTableOrGuessedValuesFail() {
        HandleTable<String> mine = new HandleTable<>(8, 1);
        HandleTable<String> theirs = new HandleTable<>(8, 2);
        mine.add("mine");
        long foreign = theirs.add("theirs");
        assertNull(mine.get(foreign), "an id of another task's table must not resolve");
        assertNull(mine.get(0));
        assertNull(mine.get(-1));
        assertNull(mine.get(0x12345));
        assertNull(mine.get((1L << 48) | 5), "index beyond the table");
    }

    @Test
    void fullTableRefusesAndRecoversAfterRemoval() {
        HandleTable<Integer> t = new HandleTable<>(3, 9);
        long[] ids = {t.add(1), t.add(2), t.add(3)};
        assertEquals(0, t.add(4), "a full table returns 0");
        t.remove(ids[1]);
        long again = t.add(5);
        assertNotEquals(0, again);
        assertEquals(5, t.get(again));
        assertEquals(3, t.size());
    }

    @Test
    void forEachVisitsExactlyTheLiveEntries() {
        HandleTable<Integer> t = new HandleTable<>(100, 3);
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 50; i++) ids.add(t.add(i));
        for (int i = 0; i < 50; i += 2) t.remove(ids.get(i));
        HashSet<Integer> seen = new HashSet<>();
        t.forEach(seen::add);
        assertEquals(25, seen.size());
        for (int i = 1; i < 50; i += 2) assertTrue(seen.contains(i));
    }

    @Test
    void rejectsBadConstruction() {
        assertThrows(IllegalArgumentException.class, () -> new HandleTable<>(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new HandleTable<>(8, 0));
        assertThrows(IllegalArgumentException.class, () -> new HandleTable<>(HandleTable.MAX_CAPACITY + 1, 1));
    }
}
