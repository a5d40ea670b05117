package org.dios.diosd.objects;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * A 256-bit DIOS name, held as four longs (little-endian words of the raw
 * bytes) so that hashing and equality cost four compares, not an array walk.
 */
public record Name(long w0, long w1, long w2, long w3) {

    public static Name read(MemorySegment seg, long offset) {
        return new Name(seg.get(JAVA_LONG_UNALIGNED, offset), seg.get(JAVA_LONG_UNALIGNED, offset + 8),
                seg.get(JAVA_LONG_UNALIGNED, offset + 16), seg.get(JAVA_LONG_UNALIGNED, offset + 24));
    }

    public static Name of(byte[] raw) {
        if (raw.length != 32) throw new IllegalArgumentException("a name is 32 bytes, got " + raw.length);
        return read(MemorySegment.ofArray(raw), 0);
    }

    /** Deterministic name: SHA-256 of the string's UTF-8 bytes, as dios_name_from_string does. */
    public static Name fromString(String s) {
        try {
            return of(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public boolean isZero() {
        return (w0 | w1 | w2 | w3) == 0;
    }

    public void write(MemorySegment seg, long offset) {
        seg.set(JAVA_LONG_UNALIGNED, offset, w0);
        seg.set(JAVA_LONG_UNALIGNED, offset + 8, w1);
        seg.set(JAVA_LONG_UNALIGNED, offset + 16, w2);
        seg.set(JAVA_LONG_UNALIGNED, offset + 24, w3);
    }

    public byte[] bytes() {
        byte[] b = new byte[32];
        write(MemorySegment.ofArray(b), 0);
        return b;
    }

    /** The 43-character URL-safe base64 text form, as dios_nametostr prints it. */
    public String text() {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes());
    }

    @Override
    public int hashCode() {
        // Names are random or SHA-256 output: any word is already uniformly distributed.
        return (int) (w0 ^ (w0 >>> 32));
    }

    @Override
    public String toString() {
        return text();
    }
}
