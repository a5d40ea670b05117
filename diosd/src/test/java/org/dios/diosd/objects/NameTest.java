package org.dios.diosd.objects;

import java.util.HashSet;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

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
    void generatorIsAHashDrbgAt256BitsSeededByTheOs() {
        String d = new NameGenerator().describe();
        assertTrue(d.contains("Hash_DRBG") && d.contains("SHA-256") && d.contains(",256,"), d);
    }

    /** Every bit position of 100,000 names is 1 half the time, within 6 sigma: no bit is predictable. */
    @Test
    void everyBitOfANameIsAsLikelyOneAsZero() {
        NameGenerator g = new NameGenerator();
        int n = 100_000;
        int[] ones = new int[256];
        for (int i = 0; i < n; i++) {
            byte[] b = g.next().bytes();
            for (int k = 0; k < 256; k++) ones[k] += (b[k >> 3] >> (k & 7)) & 1;
        }
        double sigma = Math.sqrt(n) / 2;
        for (int k = 0; k < 256; k++) {
            double z = Math.abs(ones[k] - n / 2.0) / sigma;
            assertTrue(z < 6, "bit " + k + ": " + ones[k] + " ones in " + n + " (" + z + " sigma)");
        }
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
