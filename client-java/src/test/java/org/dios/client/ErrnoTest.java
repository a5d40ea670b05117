package org.dios.client;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Errno is held to dios_abi.h, the one definition of the codes; names come from the C library. */
@ExtendWith(Daemon.class)
class ErrnoTest {
    /** DIOS_E* of the ABI header: name without DIOS_ -> value. */
    static Map<String, Integer> headerCodes() throws Exception {
        String h = Files.readString(Daemon.ROOT.resolve("native/include/dios/dios_abi.h"));
        Matcher m = Pattern.compile("(?m)^#define\\s+DIOS_(E[A-Z0-9]+)\\s+(\\d+)\\b").matcher(h);
        Map<String, Integer> codes = new LinkedHashMap<>();
        while (m.find()) codes.put(m.group(1), Integer.parseInt(m.group(2)));
        return codes;
    }

    @Test
    void everyCodeOfTheHeaderIsAnErrnoConstantWithItsValueAndName() throws Exception {
        Map<String, Integer> codes = headerCodes();
        assertTrue(codes.size() >= 20, "parsed the header: " + codes);
        for (var e : codes.entrySet()) {
            Field f = Errno.class.getField(e.getKey());
            assertEquals(e.getValue(), f.getInt(null), e.getKey());
            assertEquals(e.getKey(), Errno.name(e.getValue()), "the C library names " + e.getValue());
        }
        for (Field f : Errno.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
                assertTrue(codes.containsKey(f.getName()), f.getName() + " is not in dios_abi.h");
            }
        }
    }

    @Test
    void messagesNameTheCallTheCodeAndItsMeaning() {
        DiosException e = assertThrows(DiosException.class, () -> Dios.lookup(Name.random(), false));
        assertEquals("dios_lookup: ENOENT (No such file or directory)", e.getMessage());
        assertEquals("ENOENT", e.errnoName());
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("E9999", Errno.name(9999), "a number no C library names");
    }
}
