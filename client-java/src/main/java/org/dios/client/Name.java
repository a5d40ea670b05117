package org.dios.client;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/** A 256-bit DIOS name. {@link #toString()} is the 43-character text form of dios_nametostr. */
public final class Name {
    /** Bytes of a name (dios_abi.h; AbiMirrorTest holds both to it). */
    static final int DIOS_NAME_BYTES = 32;
    /** Bytes of its text form, NUL included. */
    static final int DIOS_NAME_STRLEN = 44;

    private final byte[] raw;

    Name(byte[] raw) {
        this.raw = raw.clone();
    }

    /** The deterministic name of s: SHA-256, computed by libdlibc (dios_name_from_string). */
    public static Name fromString(String s) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(Layouts.NAME);
            Native.check("dios_name_from_string", (int) Native.NAME_FROM_STRING.invokeExact(a.allocateFrom(s), out));
            return new Name(out.toArray(JAVA_BYTE));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** 256 random bits (SecureRandom): a name nobody has bound, e.g. to create under or to probe with. */
    public static Name random() {
        byte[] b = new byte[DIOS_NAME_BYTES];
        RANDOM.nextBytes(b);
        return new Name(b);
    }

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    /** Parses the text form; throws DiosException (EINVAL) if it is not one. */
    public static Name parse(String text) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(Layouts.NAME);
            Native.check("dios_strtoname", (int) Native.STRTONAME.invokeExact(a.allocateFrom(text), out));
            return new Name(out.toArray(JAVA_BYTE));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    MemorySegment copyTo(Arena a) {
        return a.allocateFrom(JAVA_BYTE, raw);
    }

    public byte[] bytes() {
        return raw.clone();
    }

    @Override
    public String toString() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dst = a.allocate(DIOS_NAME_STRLEN);
            MemorySegment r = (MemorySegment) Native.NAMETOSTR.invokeExact(copyTo(a), dst);
            if (r.equals(MemorySegment.NULL)) throw new IllegalStateException("dios_nametostr failed");
            return dst.getString(0);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Name n && Arrays.equals(raw, n.raw);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(raw);
    }
}
