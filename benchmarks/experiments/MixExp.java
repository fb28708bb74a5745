// How well a table hash spreads structured keys (counters, numbered hosts, IP addresses) over a SealedMap-shaped
// table (linear probing, load 1/4 to 1/2, slot = top bits of a secret odd multiplier times the mixed NH hash),
// with no mix, one round (multiply by an odd constant, fold the high half into the low), fold-multiply-fold (the
// mix TableHash uses) and MurmurHash3's whole finaliser. Prints the mean probe count of a successful lookup (over fresh secrets: mean, worst) and the
// largest displacement. Run: java benchmarks/experiments/MixExp.java
import java.lang.invoke.*; import java.nio.ByteOrder; import java.security.SecureRandom; import java.nio.charset.StandardCharsets; import java.util.*;
public class MixExp {
  static final VarHandle LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  static long[] K = new long[9]; static long[] tail = new long[9]; static long mult;
  static long term(long w, long k){ return ((w + k) & 0xffffffffL) * (((w >>> 32) + (k >>> 32)) & 0xffffffffL); }
  static long nh(byte[] key){ int n=key.length; long sum=0; int words=n>>>3; for(int i=0;i<words;i++) sum+=term((long)LE.get(key,i<<3),K[i]);
    if((n&7)!=0){ long last=0; for(int j=n-1;j>=words*8;j--) last=last<<8|(key[j]&0xff); sum+=term(last,K[words++]); }
    long lk=K[8]; return sum + tail[words] + ((n+lk)&0xffffffffL)*(lk>>>32); }
  static long full(long h){ h^=h>>>33; h*=0xff51afd7ed558ccdL; h^=h>>>33; h*=0xc4ceb9fe1a85ec53L; h^=h>>>33; return h; }
  static long one(long h){ h*=0xff51afd7ed558ccdL; h^=h>>>32; return h; }
  static long xmx(long h){ h^=h>>>32; h*=0xff51afd7ed558ccdL; h^=h>>>32; return h; }
  static long none(long h){ return h; }
  interface Mix { long m(long h); }
  static double[] run(List<byte[]> keys, Mix mix){ int n=keys.size(); long cap=Math.max(2, Long.highestOneBit(2L*n-1)<<1); int shift=64-Long.numberOfTrailingZeros(cap);
    long[] t=new long[(int)cap]; boolean[] used=new boolean[(int)cap]; long total=0, max=0;
    for(byte[] k: keys){ long h=mult*mix.m(nh(k)); int idx=(int)(h>>>shift); int d=0; while(used[idx]){ idx=(idx+1)&(int)(cap-1); d++; } used[idx]=true; total+=d+1; max=Math.max(max,d); }
    return new double[]{ (double) total/n, max }; }
  public static void main(String[] a){ SecureRandom r=new SecureRandom();
    int[] sizes={1000, 100000, 1000000};
    String[] shapes={"k%d","server.auth.k3x9w2q.%06d","%08d","user-%d@example.com","10.%d.%d.%d"};
    for(int n: sizes) for(String shape: shapes){ List<byte[]> keys=new ArrayList<>(); for(int i=0;i<n;i++){ String s = shape.startsWith("10.") ? String.format(shape, (i>>16)&255,(i>>8)&255,i&255) : String.format(shape,i); keys.add(s.getBytes(StandardCharsets.US_ASCII)); }
      StringBuilder out=new StringBuilder(String.format("n=%d %-28s", n, shape));
      for(String name: new String[]{"none","one","xmx","full"}){ Mix mix = name.equals("none")? MixExp::none : name.equals("one")? MixExp::one : name.equals("xmx")? MixExp::xmx : MixExp::full; double avg=0, mx=0, worstAvg=0; int trials=n>=1000000?3:20;
        for(int t=0;t<trials;t++){ for(int i=0;i<9;i++) K[i]=r.nextLong(); for(int j=7;j>=0;j--) tail[j]=tail[j+1]+(K[j]&0xffffffffL)*(K[j]>>>32); mult=r.nextLong()|1; double[] res=run(keys,mix); avg+=res[0]; mx=Math.max(mx,res[1]); worstAvg=Math.max(worstAvg,res[0]); }
        out.append(String.format(" | %s avg %.3f worstAvg %.3f maxDisp %.0f", name, avg/trials, worstAvg, mx)); }
      System.out.println(out); }
  }
}
