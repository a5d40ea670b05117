package org.dios.abi;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Values of dios_abi.h that the daemon's side restates outside {@link Abi}'s constants (which
 * {@link AbiLayoutTest} holds): the errno name table of {@link Abi} (op names: OpTableTest) and the systemd unit's socket path.
 * Each test reports every mismatch at once.
 */
class AbiRestatedTest {
    private static List<Field> constants(String prefix) {
        List<Field> out = new ArrayList<>();
        for (Field f : Abi.class.getDeclaredFields()) {
            int m = f.getModifiers();
            if (Modifier.isPublic(m) && Modifier.isStatic(m) && Modifier.isFinal(m) && f.getType() == int.class
                    && f.getName().startsWith(prefix)) out.add(f);
        }
        return out;
    }

    @Test
    void everyErrorCodeHasItsName() throws IllegalAccessException {
        List<String> problems = new ArrayList<>();
        List<Field> codes = new ArrayList<>();
        for (Field f : constants("DIOS_E")) if (f.getName().matches("DIOS_E[A-Z0-9]+")) codes.add(f);
        for (Field f : codes) {
            String want = f.getName().substring("DIOS_".length());
            String got = Abi.errnoName(f.getInt(null));
            if (!want.equals(got)) problems.add("Abi.errnoName(" + f.getName() + " = " + f.getInt(null) + ") is \"" + got + "\", not \"" + want + "\"");
        }
        assertTrue(codes.size() >= 20, "found only " + codes.size() + " DIOS_E* in Abi");
        assertTrue(problems.isEmpty(), problems.size() + " errno name(s) wrong:\n  " + String.join("\n  ", problems));
    }

    /**
     * The system service listens where the shim looks last (DIOS_SYSTEM_SOCKET): the unit's
     * {@code --socket %t/...}, with %t = /run for a system unit.
     */
    @Test
    void theSystemdUnitListensAtTheSystemSocket() throws IOException {
        Path unit = Path.of(System.getProperty("dios.root", ".."), "systemd", "diosd.service.in");
        String text = Files.readString(unit);
        Matcher m = Pattern.compile("(?m)^ExecStart=.*\\s--socket\\s+(\\S+)").matcher(text);
        assertTrue(m.find(), unit + ": no ExecStart= with --socket");
        String socket = m.group(1).replace("%t", "/run");
        assertEquals(Abi.DIOS_SYSTEM_SOCKET, socket,
                unit + " ExecStart= --socket " + m.group(1) + " is not DIOS_SYSTEM_SOCKET of dios_abi.h");
    }
}
