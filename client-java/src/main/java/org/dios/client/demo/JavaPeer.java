package org.dios.client.demo;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.nio.charset.StandardCharsets;

import org.dios.client.Buffer;
import org.dios.client.Dios;
import org.dios.client.Name;
import org.dios.client.Ref;

/**
 * The Java part of the demo workload: looks up the shared-memory object a C
 * task created under a well-known name, reads its greeting in place, and
 * answers into an object of its own under another well-known name.
 */
public final class JavaPeer {
    private JavaPeer() {}

    public static void main(String[] args) {
        String in = args.length > 0 ? args[0] : "demo/greeting";
        String out = args.length > 1 ? args[1] : "demo/answer/java";
        Name inName = Name.fromString(in);
        String greeting;
        try (Ref r = Dios.lookup(inName, true); Buffer b = r.acquireRead(0)) {
            byte[] bytes = b.segment().toArray(JAVA_BYTE);
            int len = 0;
            while (len < bytes.length && bytes[len] != 0) len++;
            greeting = new String(bytes, 0, len, StandardCharsets.UTF_8);
            if (!b.validate()) throw new IllegalStateException("greeting changed while it was read");
        }
        System.out.println("java: read \"" + greeting + "\" from " + in + " (" + inName + ")");
        byte[] answer = ("java saw: " + greeting).getBytes(StandardCharsets.UTF_8);
        Ref mine = Dios.createNamed(Dios.D_OBJ_SHMEM, 4096, Name.fromString(out));
        try (Buffer b = mine.acquireWrite(0)) {
            b.segment().fill((byte) 0);
            java.lang.foreign.MemorySegment.copy(answer, 0, b.segment(), JAVA_BYTE, 0, answer.length);
            b.commit(answer.length);
        }
        System.out.println("java: answered under " + out + "; waiting for the reader to pick it up");
        // Stream 16 MiB through the FIFO the C task made, written in place 64 KiB at a time.
        long total = 16L << 20;
        try (Ref stream = Dios.lookup(Name.fromString("demo/stream/java"), false)) {
            for (long pos = 0; pos < total; pos += 65536) {
                try (Buffer b = stream.acquireWrite(65536)) {
                    java.lang.foreign.MemorySegment s = b.segment();
                    for (long k = 0; k < 65536; k++) {
                        long p = pos + k;
                        s.set(JAVA_BYTE, k, (byte) (p ^ (p >>> 8) ^ (p >>> 16)));
                    }
                    b.commit(65536);
                }
            }
        } // closing the writer end: the reader sees the end of the stream
        System.out.println("java: streamed " + total + " bytes through demo/stream/java");
        // Keep the answer alive until stdin closes (the demo script closes it once checked).
        try {
            while (System.in.read() >= 0) { /* wait */ }
        } catch (java.io.IOException ignored) {
            // stdin gone: done
        }
        mine.close();
    }
}
