package org.dios.diosd.core;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;

import org.junit.jupiter.api.Test;

class NameTest {

    @Test
    void deterministicNameIsSha256OfTheString() {
        Name n = Name.fromString("abc");
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                java.util.HexFormat.of().formatHex(n.bytes()));
        assertEquals(n, Name.fromString("abc"));
        assertNotEquals(n, Name.fromString("abd"));
    }

    @Test
    void textFormIs43UrlSafeCharacters() {
        String t = Name.fromString("dios").text();
        assertEquals(43, t.length());
        assertTrue(t.matches("[A-Za-z0-9_-]{43}"), t);
    }

    @Test
    void bytesRoundTrip() {
        byte[] raw = new byte[32];
        for (int i = 0; i < 32; i++) raw[i] = (byte) (i * 7 + 1);
        assertArrayEquals(raw, Name.of(raw).bytes());
        assertThrows(IllegalArgumentException.class, () -> Name.of(new byte[31]));
    }

    @Test
    void generatorGivesDistinctNonZeroNames() {
        NameGenerator g = new NameGenerator();
        HashSet<Name> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            Name n = g.next();
            assertFalse(n.isZero());
            assertTrue(seen.add(n), "duplicate random name");
        }
    }
}
