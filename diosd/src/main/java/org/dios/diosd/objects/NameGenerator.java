package org.dios.diosd.objects;

import java.security.DrbgParameters;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

import static java.security.DrbgParameters.Capability.NONE;

/**
 * Fresh random names from a CSPRNG (NIST Hash_DRBG at 256-bit strength,
 * seeded by the OS). Bytes are drawn in blocks of 64 names to amortise the
 * generator's per-call cost; a block is used once and then overwritten.
 */
public final class NameGenerator {
    private static final int BLOCK_NAMES = 64;
    private final SecureRandom random;
    private final byte[] block = new byte[32 * BLOCK_NAMES];
    private final java.lang.foreign.MemorySegment blockSeg = java.lang.foreign.MemorySegment.ofArray(block);
    private int next = BLOCK_NAMES;

    public NameGenerator() {
        try {
            random = SecureRandom.getInstance("DRBG", DrbgParameters.instantiation(256, NONE, null));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no DRBG SecureRandom in this JDK", e);
        }
    }

    /** The generator, as the JDK describes it ("Hash_DRBG,SHA-256,256,reseed_only"): for tests and logs. */
    String describe() {
        return random.toString();
    }

    public Name next() {
        if (next == BLOCK_NAMES) {
            random.nextBytes(block);
            next = 0;
        }
        Name n = Name.read(blockSeg, 32L * next++);
        return n.isZero() ? next() : n; // the all-zero name is reserved as "no name"
    }
}
