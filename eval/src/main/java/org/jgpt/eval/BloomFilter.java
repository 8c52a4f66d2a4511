package org.jgpt.eval;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.jgpt.io.AtomicFiles;

/**
 * A Bloom filter over 64-bit keys, sized for a target false-positive rate. Each key sets {@code k} bits chosen by
 * double hashing (Kirsch and Mitzenmacher): bit_i = h1 + i * h2, with h1 and h2 two independent mixes of the key,
 * mapped onto [0, m) by a multiply-high instead of a modulo.
 */
public final class BloomFilter implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final long MAGIC = 0x4a4750544d4c4231L; // "JGPTMLB1"

    private final long bitCount;
    private final int hashCount;
    private final long[] words;
    private long added;

    private BloomFilter(long bitCount, int hashCount, long[] words, long added) {
        this.bitCount = bitCount;
        this.hashCount = hashCount;
        this.words = words;
        this.added = added;
    }

    /** A filter for {@code capacity} keys whose false-positive rate stays at or below {@code rate} when full. */
    public static BloomFilter forCapacity(long capacity, double rate) {
        if (capacity < 1) capacity = 1;
        if (!(rate > 0 && rate < 1)) throw new IllegalArgumentException("false-positive rate must be in (0, 1): " + rate);
        double ln2 = Math.log(2);
        long m = (long) Math.ceil(-capacity * Math.log(rate) / (ln2 * ln2));
        int k = Math.max(1, (int) Math.round((double) m / capacity * ln2));
        while (falsePositiveRate(m, k, capacity) > rate) m += Math.max(64, m / 1000);
        m = (m + 63) / 64 * 64;
        if (m / 64 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(capacity + " keys at a false-positive rate of " + rate + " need " + m
                    + " bits, more than one Java array holds");
        }
        return new BloomFilter(m, k, new long[(int) (m / 64)], 0);
    }

    /**
     * Adds every key of {@code other}, a filter of the same shape: the union of filters filled with parts of the
     * keys is, bit for bit, the filter filled with all of them.
     */
    public void or(BloomFilter other) {
        if (other.bitCount != bitCount || other.hashCount != hashCount) {
            throw new IllegalArgumentException("filters differ in shape: " + bitCount + " bits, " + hashCount
                    + " hashes against " + other.bitCount + ", " + other.hashCount);
        }
        for (int i = 0; i < words.length; i++) words[i] |= other.words[i];
        added += other.added;
    }

    /** (1 - e^(-k n / m))^k: the chance that a key never added is reported present after n keys. */
    public static double falsePositiveRate(long bits, int hashes, long keys) {
        return Math.pow(-Math.expm1(-(double) hashes * keys / bits), hashes);
    }

    public void add(long key) {
        long h1 = mix(key);
        long h2 = mix(key ^ 0x9e3779b97f4a7c15L) | 1;
        for (int i = 0; i < hashCount; i++) {
            long bit = Math.unsignedMultiplyHigh(h1 + i * h2, bitCount);
            words[(int) (bit >>> 6)] |= 1L << bit;
        }
        added++;
    }

    public boolean mightContain(long key) {
        long h1 = mix(key);
        long h2 = mix(key ^ 0x9e3779b97f4a7c15L) | 1;
        for (int i = 0; i < hashCount; i++) {
            long bit = Math.unsignedMultiplyHigh(h1 + i * h2, bitCount);
            if ((words[(int) (bit >>> 6)] & (1L << bit)) == 0) return false;
        }
        return true;
    }

    /** The false-positive rate for the keys added so far. */
    public double falsePositiveRate() {
        return falsePositiveRate(bitCount, hashCount, added);
    }

    public long bitCount() {
        return bitCount;
    }

    public int hashCount() {
        return hashCount;
    }

    /** Keys added (with repeats). */
    public long added() {
        return added;
    }

    /** Stafford's Mix13 finalizer (as in SplittableRandom): every input bit affects every output bit. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Writes the filter to a temporary file beside {@code file}, then moves it into place. */
    public void save(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        AtomicFiles.write(file, tmp -> {
            try (OutputStream os = Files.newOutputStream(tmp);
                 DataOutputStream out = new DataOutputStream(new BufferedOutputStream(os, 1 << 20))) {
                out.writeLong(MAGIC);
                out.writeLong(bitCount);
                out.writeInt(hashCount);
                out.writeLong(added);
                for (long w : words) out.writeLong(w);
            }
        });
    }

    public static BloomFilter load(Path file) throws IOException {
        try (InputStream is = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(new BufferedInputStream(is, 1 << 20))) {
            if (in.readLong() != MAGIC) throw new IOException(file + " is not a jgpt Bloom filter (bad magic)");
            long bits = in.readLong();
            int hashes = in.readInt();
            long added = in.readLong();
            if (bits <= 0 || bits % 64 != 0 || bits / 64 > Integer.MAX_VALUE - 8 || hashes < 1 || hashes > 64 || added < 0) {
                throw new IOException(file + ": corrupt Bloom filter header (bits " + bits + ", hashes " + hashes + ")");
            }
            long expected = 28 + bits / 8;
            if (Files.size(file) != expected) {
                throw new IOException(file + " is " + Files.size(file) + " bytes, its header says " + expected);
            }
            long[] words = new long[(int) (bits / 64)];
            for (int i = 0; i < words.length; i++) words[i] = in.readLong();
            return new BloomFilter(bits, hashes, words, added);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file");
        } catch (EOFException e) {
            throw new IOException(file + ": truncated Bloom filter");
        }
    }
}
