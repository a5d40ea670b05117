package org.dios.diosd.trace;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.dios.abi.Abi;
import org.dios.diosd.ops.Op;


/**
 * A call's flags by name, as {@code dios trace} prints them:
 * {@code D_CREATE_NAME_GIVEN|D_CREATE_NAMED}, {@code 0}, or with the bits no
 * name covers in hex ({@code D_NONBLOCK|0x10000000000}).
 *
 * <p>The names come from {@link Abi} (the Java face of dios_abi.h, held to it
 * by AbiRestatedTest), found by reflection: every {@code long} constant named
 * {@code D_...} with one bit set is a call flag ({@code D_FLAGS_*_MASK} are
 * masks, {@code DIOS_*} sizes). A flag added to the header and to Abi.java
 * is decoded with no change here. Two flags may share a bit (D_LOOKUP_READONLY
 * and D_COPY_READONLY are both bit 12): for an op, the name that starts with
 * the op's own name wins ({@code D_COPY_} for copy), then one that starts
 * with no op's name (D_NONBLOCK), then the first in declaration order.
 */
public final class FlagNames {
    private FlagNames() {}

    private record Flag(String name, long bit) {}

    private static final List<Flag> FLAGS = new ArrayList<>();
    /** Per op code, per bit: the name shown, or null. */
    private static final String[][] BY_OP = new String[Abi.D_OP_LAST][64];

    static {
        for (Field f : Abi.class.getDeclaredFields()) {
            int m = f.getModifiers();
            if (f.getType() != long.class || !Modifier.isStatic(m) || !Modifier.isFinal(m)) continue;
            String n = f.getName();
            if (!n.startsWith("D_") || n.startsWith("D_FLAGS_") || n.endsWith("_MASK")) continue;
            long v;
            try {
                v = f.getLong(null);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
            if (Long.bitCount(v) == 1) FLAGS.add(new Flag(n, v));
        }
        for (int op = 0; op < Abi.D_OP_LAST; op++) {
            String own = "D_" + Op.name(op).toUpperCase(Locale.ROOT) + "_";
            Op row = Op.of(op);
            long accepted = row == null ? 0 : row.flags();
            for (int bit = 0; bit < 64; bit++) {
                long b = 1L << bit;
                if ((accepted & b) == 0) continue; // a bit the op refuses (-EINVAL) shows in hex
                String best = null;
                int rank = 0;
                for (Flag f : FLAGS) {
                    if (f.bit != b) continue;
                    int r = f.name.startsWith(own) ? 3 : ofNoOp(f.name) ? 2 : 1;
                    if (r > rank) {
                        best = f.name;
                        rank = r;
                    }
                }
                BY_OP[op][bit] = best;
            }
        }
    }

    /** True if the name starts with no op's name (a flag of any call, such as D_NONBLOCK). */
    private static boolean ofNoOp(String name) {
        for (int op = 0; op < Abi.D_OP_LAST; op++) {
            if (name.startsWith("D_" + Op.name(op).toUpperCase(Locale.ROOT) + "_")) return false;
        }
        return true;
    }

    /** Appends flags of a call of op to b: names joined by '|', unnamed bits in hex, "0" for none. */
    public static StringBuilder append(StringBuilder b, int op, long flags) {
        if (flags == 0) return b.append('0');
        String[] names = op >= 0 && op < BY_OP.length ? BY_OP[op] : null;
        long rest = 0;
        boolean first = true;
        for (long f = flags; f != 0; f &= f - 1) {
            long bit = Long.lowestOneBit(f);
            String n = names == null ? null : names[Long.numberOfTrailingZeros(bit)];
            if (n == null) {
                rest |= bit;
                continue;
            }
            if (!first) b.append('|');
            b.append(n);
            first = false;
        }
        if (rest != 0) {
            if (!first) b.append('|');
            b.append("0x").append(Long.toHexString(rest));
        }
        return b;
    }

    public static String of(int op, long flags) {
        return append(new StringBuilder(), op, flags).toString();
    }
}
