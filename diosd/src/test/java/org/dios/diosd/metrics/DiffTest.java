package org.dios.diosd.metrics;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class DiffTest {
    @Test
    void equalListsGiveNothingAndChangesShowWithContext() {
        assertEquals("", Diff.unified(List.of("a", "b"), List.of("a", "b"), 3));
        List<String> a = List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16");
        List<String> b = List.of("1", "2", "3", "4", "five", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17");
        assertEquals("""
                @@ near expected line 2 @@
                  2
                  3
                  4
                - 5
                + five
                  6
                  7
                  8
                @@ near expected line 14 @@
                  14
                  15
                  16
                + 17
                """, Diff.unified(a, b, 3));
    }
}
