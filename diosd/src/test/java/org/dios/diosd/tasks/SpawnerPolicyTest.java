package org.dios.diosd.tasks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;

import org.dios.abi.Abi;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The policy a spawned task runs under: its brand's, read from the ELF
 * ident, and never looser than its parent's (issue 18, finding 6). The
 * processes themselves are t_red_confine's and t_pure's.
 */
class SpawnerPolicyTest {
    private static MemorySegment ident(Arena a, int osabi, int brand) {
        MemorySegment h = a.allocate(64);
        h.set(JAVA_BYTE, 0, (byte) 0x7f);
        h.set(JAVA_BYTE, 1, (byte) 'E');
        h.set(JAVA_BYTE, 2, (byte) 'L');
        h.set(JAVA_BYTE, 3, (byte) 'F');
        h.set(JAVA_BYTE, 7, (byte) osabi);
        h.set(JAVA_BYTE, 8, (byte) brand);
        return h;
    }

    @Test
    void brandsArePolicies() {
        try (Arena a = Arena.ofConfined()) {
            assertEquals("pure", Spawner.policyOf(ident(a, Abi.DIOS_ELF_OSABI, Abi.DIOS_BRAND_PURE), 64));
            assertEquals("limbo", Spawner.policyOf(ident(a, Abi.DIOS_ELF_OSABI, Abi.DIOS_BRAND_LIMBO), 64));
            assertEquals("legacy", Spawner.policyOf(ident(a, Abi.DIOS_ELF_OSABI, Abi.DIOS_BRAND_LEGACY_LIMBO), 64));
            assertNull(Spawner.policyOf(ident(a, Abi.DIOS_ELF_OSABI, 0x07), 64), "an unknown brand");
            assertNull(Spawner.policyOf(ident(a, 0, Abi.DIOS_BRAND_PURE), 64), "not DIOS's OSABI");
            assertNull(Spawner.policyOf(ident(a, Abi.DIOS_ELF_OSABI, Abi.DIOS_BRAND_PURE), 15), "shorter than the ident");
        }
    }

    @Test
    void aPureParentsChildRunsPureWhateverItsBrand() {
        for (String brand : new String[] {"pure", "limbo", "legacy"}) {
            assertEquals("pure", Spawner.policyFor(brand, true), brand);
        }
    }

    @Test
    void otherwiseTheBrandDecides() {
        for (String brand : new String[] {"pure", "limbo", "legacy"}) {
            assertEquals(brand, Spawner.policyFor(brand, false), brand);
        }
    }
}
