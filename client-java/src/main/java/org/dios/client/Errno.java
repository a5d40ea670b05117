package org.dios.client;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The error codes DIOS calls return (positive values, as {@link DiosException#errno()} gives them).
 *
 * <p>The numbers are the {@code DIOS_E*} constants of {@code native/include/dios/dios_abi.h}
 * (Linux errno values); {@code ErrnoTest} parses that header and fails if any constant here
 * differs or is missing. The names and descriptions are not tabulated here: they come from the C
 * library ({@code strerrorname_np}, {@code strerrordesc_np}), the same source {@code <errno.h>}
 * has, so "ENOENT (No such file or directory)" reads as it would in C.
 */
public final class Errno {
    private Errno() {}

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EIO = 5;
    public static final int E2BIG = 7;
    public static final int ENOEXEC = 8;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EPIPE = 32;
    public static final int ENOSYS = 38;
    public static final int EIDRM = 43;
    public static final int EPROTO = 71;
    public static final int EOPNOTSUPP = 95;
    public static final int ENOTCONN = 107;
    public static final int ETIMEDOUT = 110;
    public static final int EDQUOT = 122;
    public static final int EHOSTDOWN = 112;
    public static final int ESTALE = 116;

    private static final Optional<MethodHandle> NAME =
            Native.libc("strerrorname_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final Optional<MethodHandle> DESC =
            Native.libc("strerrordesc_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private static String cString(Optional<MethodHandle> fn, int e) {
        if (fn.isEmpty()) return null;
        try {
            MemorySegment p = (MemorySegment) fn.get().invokeExact(e);
            return p.equals(MemorySegment.NULL) ? null : p.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return null;
        }
    }

    /** Symbolic name of a (positive) errno, e.g. "ENOENT"; "E" and the number when the C library has none. */
    public static String name(int errno) {
        String n = cString(NAME, errno);
        return n != null ? n : "E" + errno;
    }

    /** The C library's description, e.g. "No such file or directory"; libdlibc's dios_strerror text without one. */
    public static String description(int errno) {
        String d = cString(DESC, errno);
        if (d != null) return d;
        try {
            return ((MemorySegment) Native.STRERROR.invokeExact(-errno)).reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "error " + errno;
        }
    }
}
