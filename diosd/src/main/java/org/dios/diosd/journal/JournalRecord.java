package org.dios.diosd.journal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * One entry of the durable journal: the creation of a named blob, a change
 * of its committed size, or its deletion.
 *
 * <p>Encoded as fixed little-endian fields and closed by a CRC-32C, so an
 * entry that was cut short (the daemon killed while writing it, a truncated
 * file that Chronicle grows back with zeros) or otherwise damaged is detected
 * and skipped instead of being replayed as garbage:
 * <pre>
 *   0  u32 magic "DJR1"      4  u8 kind   5  u8 0   6  u16 file-name length n
 *   8  u64 blob id          16  u64 size            24  u64 created (ms since the epoch)
 *  32  u8[32] name (zero: none)                     64  u32 reason (DELETE); creator and group (CREATE)
 *  68  n bytes file name (ASCII)                    68+n  u32 CRC-32C of bytes 0 .. 68+n
 * </pre>
 *
 * <p>A CREATE's word at 64: bits 0-30 its creator's uid plus one (0: not
 * recorded; its quota is then charged to nobody after a restart), bit 31 set
 * if the name is in that uid's default group, clear for the public group.
 * Journals written before either was recorded hold 0 there: public, creator
 * unknown, which is what those blobs were.
 */
public final class JournalRecord {
    public static final int MAGIC = 0x31524a44; // "DJR1"
    public static final int CREATE = 1;
    public static final int SIZE = 2;
    public static final int DELETE = 3;

    /** DELETE reasons. */
    public static final int REASON_ZOMBIFIED = 1;

    static final int FIXED = 72;
    static final int MAX_FILE_NAME = 64;
    public static final int MAX_ENCODED = FIXED + MAX_FILE_NAME;
    /** Largest size a record may carry: DIOS_MAX_OBJECT_SIZE (checked again by the store). */
    static final long MAX_SIZE = 1L << 36;

    public final int kind;
    public final long blobId;
    public final long size;
    public final long createdMillis;
    private final byte[] name; // 32 bytes, or null
    public final String fileName; // CREATE only, else ""
    public final int reason;

    private JournalRecord(int kind, long blobId, long size, long createdMillis, byte[] name, String fileName,
                          int reason) {
        this.kind = kind;
        this.blobId = blobId;
        this.size = size;
        this.createdMillis = createdMillis;
        this.name = name;
        this.fileName = fileName;
        this.reason = reason;
    }

    /** Bit 31 of a CREATE's word at 64: the name is in its creator's default group. */
    static final int IN_USER_GROUP = 0x8000_0000;
    /** uids the word can record: below 2^31 - 1. */
    public static final int MAX_RECORDED_UID = 0x7fff_ffff;

    public static JournalRecord create(long blobId, byte[] name, long size, String fileName, long createdMillis) {
        return create(blobId, name, size, fileName, createdMillis, -1, false);
    }

    /**
     * A CREATE recording its creator's uid (-1: not recorded) and whether its
     * name is in that uid's default group (else the public group).
     */
    public static JournalRecord create(long blobId, byte[] name, long size, String fileName, long createdMillis,
                                       int creatorUid, boolean inUserGroup) {
        if (name == null || name.length != 32) throw new IllegalArgumentException("a durable blob needs a 32-byte name");
        if (!validFileName(fileName)) throw new IllegalArgumentException("bad blob file name '" + fileName + "'");
        if (creatorUid < -1 || creatorUid >= MAX_RECORDED_UID) {
            throw new IllegalArgumentException("creator uid out of the journal's range: " + creatorUid);
        }
        if (inUserGroup && creatorUid < 0) throw new IllegalArgumentException("a user group's name needs its uid");
        int word = (creatorUid + 1) | (inUserGroup ? IN_USER_GROUP : 0);
        return checked(new JournalRecord(CREATE, blobId, size, createdMillis, name.clone(), fileName, word));
    }

    /** A CREATE's owner: the uid whose default group holds the name, or -1 for the public group. */
    public int ownerUid() {
        return kind == CREATE && (reason & IN_USER_GROUP) != 0 ? creatorUid() : -1;
    }

    /** The uid of the task that created the blob (CREATE), or -1 if the record does not say. */
    public int creatorUid() {
        return kind == CREATE ? (reason & ~IN_USER_GROUP) - 1 : -1;
    }

    public static JournalRecord size(long blobId, long size) {
        return checked(new JournalRecord(SIZE, blobId, size, 0, null, "", 0));
    }

    public static JournalRecord delete(long blobId, int reason) {
        return checked(new JournalRecord(DELETE, blobId, 0, 0, null, "", reason));
    }

    private static JournalRecord checked(JournalRecord r) {
        String why = r.invalid();
        if (why != null) throw new IllegalArgumentException(why);
        return r;
    }

    /** The same CREATE with another size (what a SIZE entry does to it). */
    public JournalRecord withSize(long newSize) {
        if (kind != CREATE) throw new IllegalStateException("withSize on a " + kindName());
        return checked(new JournalRecord(CREATE, blobId, newSize, createdMillis, name, fileName, reason));
    }

    /** The 32 name bytes (a copy), or null. */
    public byte[] name() {
        return name == null ? null : name.clone();
    }

    /** File names a record may carry: plain names in the blob directory, never a path. */
    public static boolean validFileName(String f) {
        if (f == null || f.isEmpty() || f.length() > MAX_FILE_NAME || f.charAt(0) == '.') return false;
        for (int i = 0; i < f.length(); i++) {
            char c = f.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
                    || c == '_' || c == '-';
            if (!ok) return false;
        }
        return true;
    }

    /** Why this record is not one the store may apply, or null. */
    private String invalid() {
        if (blobId <= 0) return "blob id " + blobId;
        if (size < 0 || size > MAX_SIZE) return "size " + size;
        return switch (kind) {
            case CREATE -> name == null || isZero(name) ? "CREATE without a name"
                    : !validFileName(fileName) ? "CREATE with file name '" + fileName + "'"
                    : createdMillis < 0 ? "CREATE with creation time " + createdMillis : null;
            case SIZE -> name != null || !fileName.isEmpty() || reason != 0 ? "SIZE with CREATE fields" : null;
            case DELETE -> name != null || !fileName.isEmpty() || size != 0 ? "DELETE with CREATE fields" : null;
            default -> "kind " + kind;
        };
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) if (x != 0) return false;
        return true;
    }

    public byte[] encode() {
        byte[] f = fileName.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(FIXED + f.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).put((byte) kind).put((byte) 0).putShort((short) f.length);
        b.putLong(blobId).putLong(size).putLong(createdMillis);
        b.put(name == null ? new byte[32] : name);
        b.putInt(reason);
        b.put(f);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /** Thrown by {@link #decode} for bytes that are not an intact record. */
    public static final class Damaged extends Exception {
        Damaged(String why) {
            super(why, null, false, false);
        }
    }

    public static JournalRecord decode(byte[] a) throws Damaged {
        if (a.length < FIXED) throw new Damaged(a.length + " bytes, shorter than any entry");
        ByteBuffer b = ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt();
        if (magic != MAGIC) throw new Damaged("bad magic " + Integer.toHexString(magic));
        int kind = b.get() & 0xff;
        int zero = b.get();
        int n = b.getShort() & 0xffff;
        if (FIXED + n != a.length) throw new Damaged(a.length + " bytes where the header says " + (FIXED + n));
        CRC32C crc = new CRC32C();
        crc.update(a, 0, a.length - 4);
        int want = ByteBuffer.wrap(a, a.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if ((int) crc.getValue() != want) throw new Damaged("checksum mismatch");
        if (zero != 0) throw new Damaged("reserved byte " + zero);
        long id = b.getLong(), size = b.getLong(), created = b.getLong();
        byte[] name = new byte[32];
        b.get(name);
        int reason = b.getInt();
        byte[] f = new byte[n];
        b.get(f);
        for (byte c : f) if (c < 0x20 || c > 0x7e) throw new Damaged("file name is not printable ASCII");
        JournalRecord r = new JournalRecord(kind, id, size, created, isZero(name) ? null : name,
                new String(f, StandardCharsets.US_ASCII), reason);
        String why = r.invalid();
        if (why != null) throw new Damaged(why);
        return r;
    }

    public String kindName() {
        return switch (kind) {
            case CREATE -> "CREATE";
            case SIZE -> "SIZE";
            case DELETE -> "DELETE";
            default -> "kind" + kind;
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JournalRecord r && r.kind == kind && r.blobId == blobId && r.size == size
                && r.createdMillis == createdMillis && Arrays.equals(r.name, name) && r.fileName.equals(fileName)
                && r.reason == reason;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(blobId) * 31 + kind;
    }

    @Override
    public String toString() {
        return kindName() + "(blob " + blobId + (kind != DELETE ? ", size " + size : ", reason " + reason)
                + (name != null ? ", name " + HexFormat.of().formatHex(name, 0, 6) + "…" : "")
                + (fileName.isEmpty() ? "" : ", file " + fileName) + ")";
    }
}
