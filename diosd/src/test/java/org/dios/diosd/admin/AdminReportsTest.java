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
        assertEquals("a\\x9b2Jb\\x85c\\x9fd\u00a0e", AdminReports.field("a\u009b2Jb\u0085c\u009fd\u00a0e"),
                "C1 controls (8-bit CSI, NEL) are escaped; U+00A0 is text");
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
        a.argv = org.dios.diosd.objects.Argv.text(new String[] {"/test", "-n", "3"});
        b.parentTask = 1;
        b.argv = org.dios.diosd.objects.Argv.text(new String[] {"/test", "two words", "", "it's", "\u001b]0;pwned\u0007"});
        String s = ask("tasks");
        assertEquals("""
                ok
                columns\ttask\tpid\tparent\tuid\trefs\tbuffers\tprivmem\tparked\tstate\texe\targv
                row\t1\t1001\t-\t1000\t1\t0\t0\t0\tdormant\t/test\t/test -n 3
                row\t2\t1002\t1\t1000\t0\t0\t0\t0\tdormant\t/test\t/test 'two words' '' 'it'\\\\''s' \\x1b]0;pwned\\x07
                end\t2\t2
                """, s);
    }

    @Test
    void objectsComeInIdOrderAcrossTypesUpToTheLimit() {
        TaskSession a = tasks.session(1);
        sessions.add(a);
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
    void anObjectsOwnerIsShownOnlyWhileThatTaskIsRegistered() {
        TaskSession a = tasks.session(1);
        TaskSession b = tasks.session(2);
        sessions.addAll(List.of(a, b));
        MemoryObject ma = shmem(a, 64);
        MemoryObject mb = shmem(b, 64);
        MemoryObject daemons = new MemoryObject(om.newObjectId(), Abi.D_OBJ_SHMEM, 0, 64);
        om.adopt(daemons);
        om.addReference(b, daemons, Abi.D_PERM_READ); // held by b, made by the daemon
        sessions.remove(a);
        a.dead = true;
        String s = ask("objects");
        assertTrue(s.contains("row\t" + ma.id + "\tshmem\t64\t1\tno\tlive\t-\n"), "a's object, a gone: " + s);
        assertTrue(s.contains("row\t" + mb.id + "\tshmem\t64\t1\tno\tlive\t2\n"), "b's object, b registered: " + s);
        assertTrue(s.contains("row\t" + daemons.id + "\tshmem\t64\t1\tno\tlive\t0\n"), "the daemon's: " + s);
        sessions.add(a); // a dead session in the list counts as gone too
        assertTrue(ask("objects").contains("row\t" + ma.id + "\tshmem\t64\t1\tno\tlive\t-\n"));
    }

    @Test
    void argvIsQuotedWhereAShellWouldSplitAndCut() {
        assertEquals("", org.dios.diosd.objects.Argv.text(new String[0]));
        assertEquals("a 'b c' '' 'd\"' 'e\\f'", org.dios.diosd.objects.Argv.text(new String[] {"a", "b c", "", "d\"", "e\\f"}));
        String big = "x".repeat(10_000);
        String t = org.dios.diosd.objects.Argv.text(new String[] {"/bin/prog", big, big});
        assertEquals(org.dios.diosd.objects.Argv.MAX_CHARS, t.length());
        assertTrue(t.startsWith("/bin/prog xxx") && t.endsWith("..."), t);
        String self = org.dios.diosd.objects.Argv.ofProcess((int) ProcessHandle.current().pid());
        assertTrue(self.contains("java") || self.contains("surefire"), "this JVM's own argv: " + self);
        assertEquals("?", org.dios.diosd.objects.Argv.ofProcess(Integer.MAX_VALUE), "no such process");
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
