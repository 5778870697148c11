// The V8 flags a zkgate server process runs with (bin/zkgate, `npm start`, the Dockerfile through bin/zkgate, and
// every test and bench that spawns a server). The tree lives in LMDB, so the JS heap only holds connections, watches
// and requests in flight; V8's defaults (16 MB semi-spaces, the old generation allowed to grow up to 4× between full
// collections) let bursts of in-flight work promoted to the old generation sit there as garbage: 10,000 WebSockets
// with 100,000 watches measured 340 MB RSS with the defaults and 190 MB with these (bench/RESULTS.md), at a cost of
// a few per cent of request throughput. ZKGATE_NODE_FLAGS replaces them in bin/zkgate (empty = V8's defaults).
//
// --v8-pool-size=1: one background thread for V8 (concurrent marking and sweeping, parallel scavenges) instead of
// Node's 4 whatever the machine. A heap this small (4 MB semi-spaces, no tree) gains little from more; on 2 cores
// the 4 ran beside the main thread and the log's fsync thread, and the durable write p99 halved with 1
// (bench/RESULTS.md, session 12).
//
// --initial-old-space-size=96: a floor under the old generation's collection limit, which is otherwise 1.2× what
// survived the last full collection. A write-loaded node has ~30 MB live, so 20 % growth meant a full (incremental)
// collection for every ~6 MB promoted, up to 4 a second; with the floor it waits for 96 MB. A large live heap (the
// watch bench's ~100 MB) is above the floor and keeps the 20 % rule, so its memory does not change (bench/RESULTS.md,
// session 13: standalone sets +31 %, median of 7 pairs, 37–47 µs of CPU against 50–66; 100,000 watches 190–195 MB
// against 193–195; ~60 MB more anonymous RSS on a node that holds little).
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=20', '--initial-old-space-size=96', '--v8-pool-size=1'];
