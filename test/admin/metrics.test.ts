// GET /metrics: Prometheus text with every documented zkgate_* metric and Node's process metrics.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';

const NAMES = [
  'zkgate_requests_total',
  'zkgate_request_duration_seconds',
  'zkgate_znodes',
  'zkgate_data_bytes',
  'zkgate_sessions',
  'zkgate_watches',
  'zkgate_ws_connections',
  'zkgate_role',
  'zkgate_term',
  'zkgate_commit_index',
  'zkgate_applied_index',
  'zkgate_follower_lag_entries',
  'zkgate_fsync_duration_seconds',
  'zkgate_elections_total',
  'zkgate_stalls_total',
  'zkgate_stalled_seconds_total',
];

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  if (line === undefined) return NaN;
  return Number(line.slice(series.length + 1));
}

t.test('every documented metric is exposed with its type, plus process metrics', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const r = await fetch(`${s.url}/metrics`);
  t.equal(r.status, 200);
  t.match(r.headers.get('content-type'), /^text\/plain/);
  const text = await r.text();
  for (const n of NAMES) t.match(text, new RegExp(`^# TYPE ${n} (counter|gauge|histogram)$`, 'm'), n);
  t.match(text, /^# TYPE zkgate_request_duration_seconds histogram$/m);
  t.match(text, /^# TYPE zkgate_fsync_duration_seconds histogram$/m);
  t.match(text, /^process_cpu_user_seconds_total /m);
  t.match(text, /^nodejs_heap_size_used_bytes /m);
  t.equal(value(text, 'zkgate_role{role="standalone"}'), 1);
  t.equal(value(text, 'zkgate_role{role="leader"}'), 0);
  t.equal(value(text, 'zkgate_znodes'), 4);
  t.equal(value(text, 'zkgate_term'), 0);
});

t.test('requests are counted by op and status; writes feed the fsync histogram and the gauges', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const before = await (await fetch(`${s.url}/metrics`)).text();
  const fsyncBefore = value(before, 'zkgate_fsync_duration_seconds_count');
  await fetch(`${s.url}/v1/znodes/m`, { method: 'POST', body: 'hello' });
  await fetch(`${s.url}/v1/znodes/m`);
  await fetch(`${s.url}/v1/znodes/m?children`);
  await fetch(`${s.url}/v1/znodes/nope`);
  await fetch(`${s.url}/v1/znodes/m`, { method: 'PUT', body: 'x', headers: { 'if-match': '9' } });
  await fetch(`${s.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const text = await (await fetch(`${s.url}/metrics`)).text();
  t.equal(value(text, 'zkgate_requests_total{op="create",code="201"}'), 1);
  t.equal(value(text, 'zkgate_requests_total{op="getData",code="200"}'), 1);
  t.equal(value(text, 'zkgate_requests_total{op="getData",code="404"}'), 1);
  t.equal(value(text, 'zkgate_requests_total{op="getChildren",code="200"}'), 1);
  t.equal(value(text, 'zkgate_requests_total{op="setData",code="412"}'), 1);
  t.equal(value(text, 'zkgate_request_duration_seconds_count{op="getData"}'), 2);
  t.ok(value(text, 'zkgate_fsync_duration_seconds_count') >= fsyncBefore + 2, 'each durable batch is timed');
  t.equal(value(text, 'zkgate_znodes'), 5);
  t.equal(value(text, 'zkgate_data_bytes'), 5);
  t.equal(value(text, 'zkgate_sessions'), 1);
  t.equal(value(text, 'zkgate_applied_index'), value(text, 'zkgate_commit_index'));
  t.ok(value(text, 'zkgate_applied_index') >= 2);
});

t.test('every route has its documented op label: recipes, sessions read, other routes, no route', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const created = await (await fetch(`${s.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json();
  await fetch(`${s.url}/v1/sessions/${created.sessionId}`);
  await fetch(`${s.url}/v1/recipes/queues/q`, { method: 'POST', body: 'job' });
  await fetch(`${s.url}/openapi.json`);
  await fetch(`${s.url}/no/such/route`);
  const text = await (await fetch(`${s.url}/metrics`)).text();
  t.equal(value(text, 'zkgate_requests_total{op="getSession",code="200"}'), 1);
  t.equal(value(text, 'zkgate_requests_total{op="recipe",code="201"}'), 1);
  t.equal(value(text, 'zkgate_requests_total{op="other",code="200"}'), 1);
  t.equal(value(text, 'zkgate_requests_total{op="unknown",code="404"}'), 1);
});

t.test('a blocking read is counted as a request but not timed: its wait is not latency', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  await fetch(`${s.url}/v1/znodes/bw`, { method: 'POST', body: 'x' });
  const text = async () => (await fetch(`${s.url}/metrics`)).text();
  const num = (body: string, re: RegExp) => Number(re.exec(body)?.[1] ?? 0);
  const before = await text();
  const zxid = (await fetch(`${s.url}/v1/znodes/bw?stat`)).headers.get('zk-zxid');
  const r = await fetch(`${s.url}/v1/znodes/bw?wait=1s&index=${zxid}`);
  t.equal(r.status, 200, 'the wait ends with the data unchanged');
  const after = await text();
  const requests = /zkgate_requests_total\{op="getData",code="200"\} (\d+)/;
  const timed = /zkgate_request_duration_seconds_count\{op="getData"\} (\d+)/;
  t.equal(num(after, requests) - num(before, requests), 1, 'counted once more as a getData');
  t.equal(num(after, timed), num(before, timed), 'not in the duration histogram');
  const srvr = (await (await fetch(`${s.url}/v1/admin/srvr`)).json()) as { latency: { max: number } };
  t.type(srvr.latency.max, 'number');
  t.ok(srvr.latency.max < 1000, `nor in srvr's max latency (${srvr.latency.max} ms)`);
});
