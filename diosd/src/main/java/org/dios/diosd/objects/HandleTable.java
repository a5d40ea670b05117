package org.dios.diosd.objects;

import java.util.Arrays;
import java.util.function.Consumer;

import org.dios.abi.Abi;

/**
 * A per-task table of handles (references or buffers) whose ids mean nothing
 * outside the task.
 *
 * <pre>
 *   63        48 47                      20 19              0
 *   +-----------+--------------------------+----------------+
 *   |  tag (16) |     generation (28)      |   index (20)   |
 *   +-----------+--------------------------+----------------+
 * </pre>
 *
 * The tag is random per table and never 0, so an id is never 0 (NULL in C);
 * a value from another task fails the tag check with probability 1 - 2^-16
 * and the entry check otherwise. The generation changes on every reuse of an
 * index, so a released or stale id fails. A lookup costs an array read and
 * two compares.
 */
public final class HandleTable<T> {
    private static final int INDEX_BITS = 20;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
    private static final int GEN_BITS = 28;
    private static final long GEN_MASK = (1L << GEN_BITS) - 1;
    public static final int MAX_CAPACITY = 1 << INDEX_BITS;

    private final long tag;
    private final int capacity;
    private Object[] entries;
    private int[] generations;
    private int[] freeList;
    private int freeCount;
    private int highWater;
    private int size;

    public HandleTable(int capacity, long tag) {
        if (capacity <= 0 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("table capacity must be 1.." + MAX_CAPACITY + ": " + capacity);
        }
        if (tag <= 0 || tag > 0xffff) throw new IllegalArgumentException("tag must be 1..65535: " + tag);
        this.capacity = capacity;
        this.tag = tag;
        int initial = Math.min(capacity, 16);
        entries = new Object[initial];
        generations = new int[initial];
        freeList = new int[initial];
    }

    public int size() {
        return size;
    }

    public int capacity() {
        return capacity;
    }

    /** Adds an entry; returns its id, or 0 if the table is full. */
    public long add(T value) {
        int index;
        if (freeCount > 0) {
            index = freeList[--freeCount];
        } else {
            if (highWater == capacity) return 0;
            if (highWater == entries.length) grow();
            index = highWater++;
        }
        entries[index] = value;
        size++;
        return (tag << Abi.DIOS_REF_TAG_SHIFT) | ((generations[index] & GEN_MASK) << INDEX_BITS) | index;
    }

    private void grow() {
        int n = Math.min(capacity, entries.length * 2);
        entries = Arrays.copyOf(entries, n);
        generations = Arrays.copyOf(generations, n);
        freeList = Arrays.copyOf(freeList, n);
    }

    /** The entry for id, or null if id is not a live handle of this table. */
    @SuppressWarnings("unchecked")
    public T get(long id) {
        if ((id >>> Abi.DIOS_REF_TAG_SHIFT) != tag) return null;
        long index = id & INDEX_MASK;
        if (index >= highWater) return null;
        int i = (int) index;
        if (((id >>> INDEX_BITS) & GEN_MASK) != (generations[i] & GEN_MASK)) return null;
        return (T) entries[i];
    }

    /** Removes id; returns the entry or null if it was not live. */
    public T remove(long id) {
        T v = get(id);
        if (v == null) return null;
        int i = (int) (id & INDEX_MASK);
        entries[i] = null;
        generations[i]++;
        freeList[freeCount++] = i;
        size--;
        return v;
    }

    /** Visits every live entry (order unspecified). */
    @SuppressWarnings("unchecked")
    public void forEach(Consumer<T> action) {
        for (int i = 0; i < highWater; i++) {
            Object o = entries[i];
            if (o != null) action.accept((T) o);
        }
    }
}
