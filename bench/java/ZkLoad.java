// ZooKeeper load with its own Java client (async API), to tell the server's limit from the Node client's.
// One ZooKeeper handle per simulated client, each closed-loop with one request outstanding.
// Usage: java -cp <zookeeper classpath> ZkLoad.java <host:port> <conns> <durationS> <warmupS> <valueBytes> <phase,phase,...>
// Prints "START <phase>" when a measured window opens and "RESULT <json>" when it closes.
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public class ZkLoad {
  static final int HOT_NODES = 1000;

  static final class Loop implements AsyncCallback.StringCallback, AsyncCallback.StatCallback, AsyncCallback.DataCallback {
    final ZooKeeper zk; final String phase; final byte[] v; final String tag; final long endNs; final AtomicLong n;
    final CountDownLatch done; final boolean record;
    long ok, errors, t0; long[] lat = new long[1 << 14]; int nl;

    Loop(ZooKeeper zk, String phase, byte[] v, String tag, long endNs, AtomicLong n, CountDownLatch done, boolean record) {
      this.zk = zk; this.phase = phase; this.v = v; this.tag = tag; this.endNs = endNs; this.n = n; this.done = done; this.record = record;
    }

    void next() {
      if (System.nanoTime() >= endNs) { done.countDown(); return; }
      long i = n.getAndIncrement();
      String hot = "/bench/hot/n" + (i % HOT_NODES);
      t0 = System.nanoTime();
      switch (phase) {
        case "create": zk.create("/bench/c/" + tag + "-" + i, v, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, (AsyncCallback.StringCallback) this, null); break;
        case "set": zk.setData(hot, v, -1, (AsyncCallback.StatCallback) this, null); break;
        case "get": zk.getData(hot, false, (AsyncCallback.DataCallback) this, null); break;
        case "mix":
          if (i % 10 == 9) zk.setData("/bench/hot/n" + ((i * 7) % HOT_NODES), v, -1, (AsyncCallback.StatCallback) this, null);
          else zk.getData(hot, false, (AsyncCallback.DataCallback) this, null);
          break;
        default: throw new IllegalArgumentException(phase);
      }
    }

    void finish(int rc) {
      if (rc == 0) {
        ok++;
        if (record) {
          if (nl == lat.length) lat = Arrays.copyOf(lat, nl * 2);
          lat[nl++] = System.nanoTime() - t0;
        }
      } else errors++;
      next();
    }

    public void processResult(int rc, String path, Object ctx, String name) { finish(rc); }
    public void processResult(int rc, String path, Object ctx, Stat stat) { finish(rc); }
    public void processResult(int rc, String path, Object ctx, byte[] data, Stat stat) { finish(rc); }
  }

  static String run(ZooKeeper[] zks, String phase, double seconds, byte[] v, String tag, boolean record) throws InterruptedException {
    long start = System.nanoTime();
    long end = start + (long) (seconds * 1e9);
    AtomicLong n = new AtomicLong();
    CountDownLatch done = new CountDownLatch(zks.length);
    Loop[] loops = new Loop[zks.length];
    for (int i = 0; i < zks.length; i++) loops[i] = new Loop(zks[i], phase, v, tag, end, n, done, record);
    for (Loop l : loops) l.next();
    done.await();
    double wall = (System.nanoTime() - start) / 1e9;
    long ok = 0, errors = 0; int total = 0;
    for (Loop l : loops) { ok += l.ok; errors += l.errors; total += l.nl; }
    long[] all = new long[total]; int k = 0;
    for (Loop l : loops) { System.arraycopy(l.lat, 0, all, k, l.nl); k += l.nl; }
    Arrays.sort(all);
    double p50 = total == 0 ? -1 : all[(int) Math.min(total - 1, (long) (0.50 * total))] / 1e6;
    double p99 = total == 0 ? -1 : all[(int) Math.min(total - 1, (long) (0.99 * total))] / 1e6;
    return String.format("{\"phase\":\"%s\",\"ok\":%d,\"errors\":%d,\"durationS\":%.3f,\"p50Ms\":%.3f,\"p99Ms\":%.3f}", phase, ok, errors, wall, p50, p99);
  }

  public static void main(String[] a) throws Exception {
    String connect = a[0];
    int conns = Integer.parseInt(a[1]);
    double dur = Double.parseDouble(a[2]);
    double warm = Double.parseDouble(a[3]);
    byte[] v = new byte[Integer.parseInt(a[4])];
    Arrays.fill(v, (byte) 'x');
    ZooKeeper[] zks = new ZooKeeper[conns];
    for (int i = 0; i < conns; i++) {
      CountDownLatch up = new CountDownLatch(1);
      zks[i] = new ZooKeeper(connect, 30000, e -> { if (e.getState() == Watcher.Event.KeeperState.SyncConnected) up.countDown(); });
      up.await();
    }
    String tag = "j" + ProcessHandle.current().pid();
    for (String phase : a[5].split(",")) {
      if (warm > 0) run(zks, phase, warm, v, tag + phase + "w", false);
      System.out.println("START " + phase);
      System.out.flush();
      System.out.println("RESULT " + run(zks, phase, dur, v, tag + phase, true));
      System.out.flush();
    }
    for (ZooKeeper zk : zks) zk.close();
  }
}
