package org.dios.perf;

import java.util.SplittableRandom;

/** Fisher-Yates with a fixed seed, so every run walks the same order. */
final class Shuffle {
    private Shuffle() {
    }

    static void shuffle(long[] a, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            long t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    static <T> void shuffle(T[] a, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            T t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
