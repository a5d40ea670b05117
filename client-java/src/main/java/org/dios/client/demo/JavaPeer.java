package org.dios.client.demo;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import org.dios.client.Buffer;
import org.dios.client.Channel;
import org.dios.client.Dios;
import org.dios.client.DiosIOException;
import org.dios.client.Errno;
import org.dios.client.Name;
import org.dios.client.Ref;

/**
 * The Java part of the demo workload: looks up the shared-memory object a C
 * task created under a well-known name, reads its greeting in place, and
 * answers into an object of its own under another well-known name, streams
 * 16 MiB into the C task's FIFO through an OutputStream, and runs a Channel
 * between two of its own threads.
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
        // Stream 16 MiB through the FIFO the C task made, as an OutputStream (each write is
        // copied into the FIFO's free space in place and committed).
        long total = 16L << 20;
        try (OutputStream stream = Dios.lookup(Name.fromString("demo/stream/java"), false).outputStream()) {
            byte[] chunk = new byte[65536];
            for (long pos = 0; pos < total; pos += chunk.length) {
                for (int k = 0; k < chunk.length; k++) {
                    long p = pos + k;
                    chunk[k] = (byte) (p ^ (p >>> 8) ^ (p >>> 16));
                }
                stream.write(chunk);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } // closing the writer end: the reader sees the end of the stream
        System.out.println("java: streamed " + total + " bytes through demo/stream/java");
        channelDemo();
        // Keep the answer alive until stdin closes (the demo script closes it once checked).
        try {
            while (System.in.read() >= 0) { /* wait */ }
        } catch (java.io.IOException ignored) {
            // stdin gone: done
        }
        mine.close();
    }

    /** A Channel between two Java threads: the worker answers fib(n) for each n it receives. */
    private static void channelDemo() {
        Channel[] ends = Channel.pair();
        Thread worker = Thread.ofPlatform().name("fib-worker").start(() -> {
            try (Channel c = ends[1]) {
                for (;;) {
                    long n = c.recvLong();
                    long a = 0, b = 1;
                    for (long i = 0; i < n; i++) {
                        long t = a + b;
                        a = b;
                        b = t;
                    }
                    c.send(a);
                }
            } catch (DiosIOException e) {
                if (e.errno() != Errno.EPIPE) throw new UncheckedIOException(e);   // EPIPE: the other end closed
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        StringBuilder got = new StringBuilder();
        try (Channel c = ends[0]) {
            for (long n = 1; n <= 10; n++) {
                c.send(n);
                got.append(n == 1 ? "" : " ").append(c.recvLong());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!got.toString().equals("1 1 2 3 5 8 13 21 34 55")) throw new IllegalStateException("channel: got " + got);
        System.out.println("java: a Channel between two threads computed fib(1..10) = " + got);
    }
}
