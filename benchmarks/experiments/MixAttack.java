// Structured key families (written in attack round 8) against three fixed mixes between NH and the secret
// multiply-shift: ONE (multiply, fold: TableHash at 8954b29), the mix selected by -Dmix (two: MurmurHash3's
// two-round finaliser, TableHash before 8954b29; xmx: fold, multiply, fold, TableHash now), and random hashes.
// The table is replicated exactly (capacity, linear probing, insertion in put order); the NH/SipHash part is
// the real io.github.mseal4j.internal.TableHash, reached with a SecureRandom whose bytes we know, so the pre-mix
// value is recovered exactly: pre = mix^-1(hash * multiplier^-1). Same secret for every mix (paired). Prints
// the mean probes per lookup over secrets (mean, 99th percentile, worst) and the largest displacement.
// Run against the library's classes: java -Dmix=xmx -cp target/classes benchmarks/experiments/MixAttack.java
//   [secrets] [family-filter] [sizes, comma-separated]
import io.github.mseal4j.internal.TableHash;
import java.nio.*; import java.nio.charset.StandardCharsets; import java.security.SecureRandom; import java.util.*;

public class MixAttack {
    static long one(long h) { h *= 0xff51afd7ed558ccdL; return h ^ (h >>> 32); }
    static final String MIX = System.getProperty("mix", "two"); static long two(long h) { switch (MIX) { case "xmx": h ^= h >>> 32; h *= 0xff51afd7ed558ccdL; return h ^ (h >>> 32); case "mx29": h *= 0xff51afd7ed558ccdL; h ^= h >>> 29; return h; default: h ^= h >>> 33; h *= 0xff51afd7ed558ccdL; h ^= h >>> 33; h *= 0xc4ceb9fe1a85ec53L; h ^= h >>> 33; return h; } }
    static long invOdd(long a) { long x = a; for (int i = 0; i < 6; i++) x *= 2 - a * x; return x; }
    static final long C1INV = invOdd(0xff51afd7ed558ccdL);
    /** The inverse of TableHash's mix (fold, multiply, fold): each fold by 32 is its own inverse. */
    static long unCurrent(long y) { long h = (y ^ (y >>> 32)) * C1INV; return h ^ (h >>> 32); }
    static long current(long h) { h ^= h >>> 32; h *= 0xff51afd7ed558ccdL; return h ^ (h >>> 32); }

    static final class Known extends SecureRandom { byte[] b; Known(byte[] b){ this.b=b; } @Override public void nextBytes(byte[] out){ System.arraycopy(b,0,out,0,out.length);} }

    /** [meanProbes, maxDisp] of the map's table for these hashes (insertion in order). */
    static double[] probe(long[] h, int n) {
        long cap = Math.max(2, Long.highestOneBit(2L * n - 1) << 1); int shift = 64 - Long.numberOfTrailingZeros(cap);
        boolean[] used = new boolean[(int) cap]; long total = 0; int max = 0; int m = (int) cap - 1;
        for (int i = 0; i < n; i++) { int idx = (int) (h[i] >>> shift); int d = 0; while (used[idx]) { idx = (idx + 1) & m; d++; } used[idx] = true; total += d + 1; if (d > max) max = d; }
        return new double[]{ (double) total / n, max };
    }

    static byte[] le64(long v){ return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array(); }
    static byte[] be64(long v){ return ByteBuffer.allocate(8).putLong(v).array(); }
    static byte[] be32(int v){ return ByteBuffer.allocate(4).putInt(v).array(); }
    static byte[] ascii(String s){ return s.getBytes(StandardCharsets.US_ASCII); }

    static Map<String, List<byte[]>> families(int n) {
        Map<String, List<byte[]>> f = new LinkedHashMap<>();
        java.util.function.BiConsumer<String, java.util.function.IntFunction<byte[]>> add = (name, g) -> { List<byte[]> l = new ArrayList<>(); for (int i = 0; i < n; i++) l.add(g.apply(i)); f.put(name, l); };
        add.accept("LE64 i", i -> le64(i));
        add.accept("BE64 i", i -> be64(i));
        add.accept("LE64 i<<32", i -> le64((long) i << 32));
        add.accept("LE64 i<<24", i -> le64((long) i << 24));
        add.accept("LE64 i<<48", i -> le64((long) i << 48));
        add.accept("LE64 i<<8", i -> le64((long) i << 8));
        add.accept("BE32 i", i -> be32(i));
        add.accept("BE32 i<<8", i -> be32(i << 8));
        add.accept("LE64 i*2^20", i -> le64((long) i << 20));
        add.accept("BE128 low i (uuid)", i -> { byte[] b = new byte[16]; System.arraycopy(be64(i), 0, b, 8, 8); return b; });
        add.accept("16B word0=word1=i", i -> { byte[] b = new byte[16]; System.arraycopy(le64(i), 0, b, 0, 8); System.arraycopy(le64(i), 0, b, 8, 8); return b; });
        add.accept("16B word0=i word1=-i", i -> { byte[] b = new byte[16]; System.arraycopy(le64(i), 0, b, 0, 8); System.arraycopy(le64(-i), 0, b, 8, 8); return b; });
        int s = (int) Math.ceil(Math.sqrt(n));
        add.accept("grid lo(w0)=i lo(w1)=j", i -> { byte[] b = new byte[16]; System.arraycopy(le64(i % s), 0, b, 0, 8); System.arraycopy(le64(i / s), 0, b, 8, 8); return b; });
        add.accept("grid lo(w0)=i hi(w0)=j", i -> le64((i % s) | ((long) (i / s) << 32)));
        add.accept("grid b3=i b7=j (bilinear top)", i -> { byte[] b = new byte[8]; b[3] = (byte) (i % s); b[7] = (byte) (i / s); return b; });
        add.accept("grid b3 of w0,w1", i -> { byte[] b = new byte[16]; b[3] = (byte) (i % s); b[11] = (byte) (i / s); return b; });
        int c = (int) Math.ceil(Math.cbrt(n));
        add.accept("cube b3,b11,b19", i -> { byte[] b = new byte[24]; b[3] = (byte) (i % c); b[11] = (byte) (i / c % c); b[19] = (byte) (i / c / c); return b; });
        add.accept("hyper b3,b11,b19,b27", i -> { int q = (int) Math.ceil(Math.pow(n, 0.25)); byte[] b = new byte[32]; b[3] = (byte) (i % q); b[11] = (byte) (i / q % q); b[19] = (byte) (i / q / q % q); b[27] = (byte) (i / q / q / q); return b; });
        add.accept("cube b0,b8,b16", i -> { byte[] b = new byte[24]; b[0] = (byte) (i % c); b[8] = (byte) (i / c % c); b[16] = (byte) (i / c / c); return b; });
        add.accept("cube b0,b4 (pair) ,b8", i -> { byte[] b = new byte[16]; b[0] = (byte) (i % c); b[4] = (byte) (i / c % c); b[8] = (byte) (i / c / c); return b; });
        add.accept("BE16 at b2-3 (top of lo)", i -> { byte[] b = new byte[8]; b[2] = (byte) (i >> 8); b[3] = (byte) i; return b; });
        add.accept("BE16 at b6-7 (top of hi)", i -> { byte[] b = new byte[8]; b[6] = (byte) (i >> 8); b[7] = (byte) i; return b; });
        add.accept("IPv4 10.x.y.z", i -> new byte[]{10, (byte) (i >> 16), (byte) (i >> 8), (byte) i});
        add.accept("IPv6 ::i", i -> { byte[] b = new byte[16]; b[0] = 0x20; b[1] = 0x01; b[14] = (byte) (i >> 8); b[15] = (byte) i; return b; });
        add.accept("LE double i", i -> le64(Double.doubleToLongBits(i)));
        add.accept("BE double i", i -> be64(Double.doubleToLongBits(i)));
        add.accept("LE float i", i -> { byte[] b = new byte[4]; int v = Float.floatToIntBits(i); for (int k = 0; k < 4; k++) b[k] = (byte) (v >> (8 * k)); return b; });
        add.accept("%08d", i -> ascii(String.format("%08d", i)));
        add.accept("%016d", i -> ascii(String.format("%016d", i)));
        add.accept("%024d", i -> ascii(String.format("%024d", i)));
        add.accept("%032d", i -> ascii(String.format("%032d", i)));
        add.accept("%064d", i -> ascii(String.format("%064d", i)));
        add.accept("%063d", i -> ascii(String.format("%063d", i)));
        add.accept("%065d (sip)", i -> ascii(String.format("%065d", i)));
        add.accept("%x 8-pad", i -> ascii(String.format("%8x", i)));
        add.accept("k%d", i -> ascii("k" + i));
        add.accept("%d-%d-%d same ctr", i -> ascii(i + "-" + i + "-" + i));
        add.accept("%04d%04d%04d%04d grid", i -> ascii(String.format("%08d%08d", i % s, i / s)));
        add.accept("ctr at 4 positions", i -> ascii(String.format("%03d.xxxx%03d.xxxx%03d.xxxx%03d", i % 10, i / 10 % 10, i / 100 % 10, i / 1000)));
        add.accept("len varies a*L + ctr", i -> { int L = i % 64 + 1; byte[] b = new byte[L]; Arrays.fill(b, (byte) ('a' + (i / 64) % 26)); if (i / 64 / 26 > 0) b[0] = (byte) ('A' + i / 64 / 26); return b; });
        add.accept("zeros of len L + byte", i -> { int L = i % 64 + 1; byte[] b = new byte[L]; b[L - 1] = (byte) (i / 64); return b; });
        add.accept("prefix of zeros, len+last", i -> { int L = i % 65; byte[] b = new byte[L]; if (L > 0) b[0] = (byte) (i / 65); return b; });
        add.accept("1-bit keys LE64 1<<k|1<<j", i -> { int a = i % 64, bb = (i / 64) % 64; long v = (1L << a) | (1L << bb) | ((long) (i / 4096) << 1); return le64(v); });
        add.accept("i*0x0101010101010101", i -> le64(i * 0x0101010101010101L));
        add.accept("i*2^32+i (both halves)", i -> le64(((long) i << 32) | i));
        add.accept("i<<32|(-i lo)", i -> le64(((long) i << 32) | ((-i) & 0xffffffffL)));
        return f;
    }

    public static void main(String[] a) {
        int secrets = a.length > 0 ? Integer.parseInt(a[0]) : 200;
        String filter = a.length > 1 ? a[1] : "";
        int[] sizes = a.length > 2 ? Arrays.stream(a[2].split(",")).mapToInt(Integer::parseInt).toArray() : new int[]{1000, 1024, 16384};
        SecureRandom rnd = new SecureRandom();
        for (int n : sizes) {
            for (var e : families(n).entrySet()) {
                if (!e.getKey().contains(filter)) continue;
                List<byte[]> keys = e.getValue();
                if (new HashSet<>(keys.stream().map(ByteBuffer::wrap).toList()).size() != keys.size()) { System.out.println("dup keys in " + e.getKey()); continue; }
                double[] sum = new double[2], worst = new double[2], maxd = new double[2], avgMax = new double[2];
                double[][] means = new double[2][secrets];
                long[] h1 = new long[n], h2 = new long[n], hr = new long[n];
                double sumR = 0, worstR = 0, maxR = 0;
                for (int t = 0; t < secrets; t++) {
                    byte[] seed = new byte[13 * 8]; rnd.nextBytes(seed); for (String z : System.getProperty("zero", "").split(",")) if (!z.isEmpty()) seed[Integer.parseInt(z)] = 0;
                    TableHash th = TableHash.random(new Known(seed));
                    long mult = ByteBuffer.wrap(seed, 11 * 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong() | 1;
                    long minv = invOdd(mult);
                    for (int i = 0; i < n; i++) {
                        long hash = th.hash(keys.get(i));
                        long pre = unCurrent(hash * minv);
                        if (current(pre) * mult != hash) throw new AssertionError();
                        h1[i] = one(pre) * mult; h2[i] = two(pre) * mult; hr[i] = rnd.nextLong();
                    }
                    double[] r1 = probe(h1, n), r2 = probe(h2, n), rr = probe(hr, n);
                    double[][] rs = {r1, r2};
                    if (r1[0] > Double.parseDouble(System.getProperty("show", "9"))) { ByteBuffer sb2 = ByteBuffer.wrap(seed).order(ByteOrder.LITTLE_ENDIAN); long k0 = sb2.getLong(0), k1 = sb2.getLong(8); long A = k0 >>> 32, B = k1 >>> 32;
                      System.out.printf("  bad secret: ONE %.3f TWO %.3f  A=%08x B=%08x tz(A)=%d tz(B)=%d tz(A-B)=%d tz(A+B)=%d K0lo=%08x K1lo=%08x%n", r1[0], r2[0], A, B, Long.numberOfTrailingZeros(A), Long.numberOfTrailingZeros(B), Long.numberOfTrailingZeros((A - B) & 0xffffffffL), Long.numberOfTrailingZeros((A + B) & 0xffffffffL), k0 & 0xffffffffL, k1 & 0xffffffffL); }
                    for (int m = 0; m < 2; m++) { sum[m] += rs[m][0]; worst[m] = Math.max(worst[m], rs[m][0]); maxd[m] = Math.max(maxd[m], rs[m][1]); avgMax[m] += rs[m][1]; means[m][t] = rs[m][0]; }
                    sumR += rr[0]; worstR = Math.max(worstR, rr[0]); maxR = Math.max(maxR, rr[1]);
                }
                StringBuilder sb = new StringBuilder(String.format("n=%-6d %-32s", n, e.getKey()));
                String[] nm = {"ONE", "TWO"};
                for (int m = 0; m < 2; m++) { Arrays.sort(means[m]); sb.append(String.format(" | %s mean %.3f p99 %.3f worst %.3f maxDisp %3.0f avgMaxDisp %5.1f", nm[m], sum[m] / secrets, means[m][(int) (secrets * 0.99)], worst[m], maxd[m], avgMax[m] / secrets)); }
                sb.append(String.format(" | RANDOM mean %.3f worst %.3f maxDisp %.0f", sumR / secrets, worstR, maxR));
                System.out.println(sb);
            }
        }
    }
}
