package org.dios.diosd.admin;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.dios.abi.Abi;
import org.dios.diosd.objects.MemoryObject;
import org.dios.diosd.objects.Name;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.objects.SyntheticTasks;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.ops.CallStats;
import org.dios.diosd.ops.DaemonSnapshot;

import static org.junit.jupiter.api.Assertions.*;

/** The admin socket's answers, built from state the test sets up (no socket). */
class AdminReportsTest {
    private final Stats stats = new Stats();
    private final ObjectManager om = new ObjectManager(stats);
    private final SyntheticTasks tasks = new SyntheticTasks();
    private final List<TaskSession> sessions = new ArrayList<>();
    private final AdminReports.Info info = new AdminReports.Info("1.2.3", "/run/dios/diosd.sock", "off", 4242, 1000,
            Instant.parse("2026-01-02T03:04:05.678Z"));

    @AfterEach
    void close() {
        tasks.close();
    }

    private String ask(String request) {
        DaemonSnapshot snap = new DaemonSnapshot(0, 93_784_500, stats, new CallStats(), sessions.size(), 0, 0, 0);
        return AdminReports.answer(request, info, snap, sessions, om);
    }

    private MemoryObject shmem(TaskSession owner, long size) {
        MemoryObject m = new MemoryObject(om.newObjectId(), Abi.D_OBJ_SHMEM, owner.taskId, size);
        om.adopt(m);
        om.addReference(owner, m, Abi.D_PERM_READ | Abi.D_PERM_WRITE | Abi.D_PERM_DELETE);
        return m;
    }

    @Test
    void fieldsNeverHoldTabsNewlinesOrControlCharacters() {
        assertEquals("plain /usr/bin/x", AdminReports.field("plain /usr/bin/x"));
        assertEquals("a\\tb\\nc\\rd\\\\e\\x1bf\\x7fg", AdminReports.field("a\tb\nc\rd\\e\u001bf\u007fg"));
        assertEquals("résumé", AdminReports.field("résumé"), "UTF-8 text stays as it is");
    }

    @Test
    void statusTellsTheDaemonsFactsAndCounts() {
        TaskSession a = tasks.session(1);
        sessions.add(a);
        shmem(a, 4096);
        String s = ask("status");
        assertTrue(s.startsWith("ok\ncolumns\tkey\tvalue\n"), s);
        assertTrue(s.contains("row\tversion\t1.2.3\n"), s);
        assertTrue(s.contains("row\tpid\t4242\n"), s);
        assertTrue(s.contains("row\tsocket\t/run/dios/diosd.sock\n"), s);
        assertTrue(s.contains("row\tuptime\t1d 02:03:04\n"), s);
        assertTrue(s.contains("row\tstarted\t2026-01-02T03:04:05Z\n"), s);
        assertTrue(s.contains("row\tobjects\t1\n"), s);
        assertTrue(s.contains("row\tobjects.shmem\t1\n"), s);
        assertTrue(s.contains("row\tobjects.fifo\t0\n"), s);
        assertTrue(s.contains("row\treferences\t1\n"), s);
        long rows = s.lines().filter(l -> l.startsWith("row\t")).count();
        assertTrue(s.endsWith("end\t" + rows + "\t" + rows + "\n"), s);
    }

    @Test
    void tasksAreListedByIdWithTheirExecutableEscaped() {
        TaskSession b = tasks.session(2);
        TaskSession a = tasks.session(1);
        TaskSession hidden = tasks.session(3);
        hidden.quiet = true; // the start-up warm-up's task
        sessions.addAll(List.of(b, a, hidden));
        shmem(a, 64);
        String s = ask("tasks");
        assertEquals("""
                ok
                columns\ttask\tpid\tuid\trefs\tbuffers\tprivmem\tparked\tstate\texe
                row\t1\t1001\t1000\t1\t0\t0\t0\tdormant\t/test
                row\t2\t1002\t1000\t0\t0\t0\t0\tdormant\t/test
                end\t2\t2
                """, s);
    }

    @Test
    void objectsComeInIdOrderAcrossTypesUpToTheLimit() {
        TaskSession a = tasks.session(1);
        MemoryObject m1 = shmem(a, 4096);
        MemoryObject p = new MemoryObject(om.newObjectId(), Abi.D_OBJ_PRIVMEM, a.taskId, 64);
        om.adopt(p);
        long pr = om.addReference(a, p, Abi.D_PERM_READ | Abi.D_PERM_DELETE);
        MemoryObject m2 = shmem(a, 8192);
        Name n = om.bindRandom(m2);
        om.zombify(p);
        String s = ask("objects");
        assertEquals("ok\ncolumns\tid\ttype\tsize\trefs\tnamed\tstate\towner\n"
                + "row\t" + m1.id + "\tshmem\t4096\t1\tno\tlive\t1\n"
                + "row\t" + p.id + "\tprivmem\t64\t1\tno\tzombie\t1\n"
                + "row\t" + m2.id + "\tshmem\t8192\t1\tyes\tlive\t1\n"
                + "end\t3\t3\n", s);
        String two = ask("objects 2");
        assertTrue(two.endsWith("end\t2\t3\n"), two);
        assertFalse(two.contains("\t" + m2.id + "\tshmem"), "the limit keeps the lowest ids");
        om.removeReference(a, a.refs.get(pr));
        assertTrue(ask("objects").endsWith("end\t2\t2\n"));
        assertTrue(ask("names").contains("row\t" + n.text() + "\t" + m2.id + "\tshmem\n"));
    }

    @Test
    void namesAreTheirTextFormAndTheLimitHolds() {
        TaskSession a = tasks.session(1);
        for (int i = 0; i < 50; i++) om.bindRandom(shmem(a, 64));
        String s = ask("names 7");
        assertEquals(7, s.lines().filter(l -> l.startsWith("row\t")).count());
        assertTrue(s.endsWith("end\t7\t50\n"), s);
        String all = ask("names");
        assertEquals(50, all.lines().filter(l -> l.startsWith("row\t")).count());
        for (String line : all.lines().filter(l -> l.startsWith("row\t")).toList()) {
            String text = line.split("\t")[1];
            assertEquals(43, text.length(), "dios_nametostr's 43 characters: " + text);
            assertTrue(text.matches("[A-Za-z0-9_-]+"), "URL-safe base64: " + text);
        }
    }

    @Test
    void badRequestsGetOneErrorLine() {
        for (String bad : new String[] {"", "bogus", "status 5", "names 0", "names 100001", "names x", "names 1 2",
                "tasks -1", "names\u001b[2J"}) {
            String s = ask(bad);
            assertTrue(s.startsWith("error\tEINVAL\t") && s.endsWith("\n") && s.indexOf('\n') == s.length() - 1, bad + ": " + s);
            assertFalse(s.contains("\u001b"), "no control character comes back: " + s);
        }
        assertTrue(ask("  names   3  ").startsWith("ok\n"), "spaces around words are fine");
    }
}
