// --log-level debug adds one line per request, at debug, with its request id (operations.md §1); at info there
// is none (server/request-log.ts).
import t from 'tap';
import { logInto } from '../helpers/log.js';
import { startTestServer } from '../helpers/server.js';

interface Line {
  level: number;
  msg: string;
  reqId?: string;
  req?: { method: string; url: string };
  res?: { statusCode: number };
}

async function linesFor(level: string, requests: (url: string) => Promise<unknown>): Promise<Line[]> {
  const lines: Line[] = [];
  const s = await startTestServer({}, logInto(lines, level));
  try {
    await requests(s.url);
  } finally {
    await s.destroy();
  }
  return lines;
}

t.test('at debug: one line per request, at level debug, naming the request, its id and its status', async (t) => {
  const lines = await linesFor('debug', async (url) => {
    await fetch(`${url}/v1/znodes/a`, { method: 'POST', body: 'x', headers: { 'x-request-id': 'create-1' } });
    await fetch(`${url}/v1/znodes/a`, { headers: { 'x-request-id': 'read-1' } });
    await fetch(`${url}/v1/znodes/nope`, { headers: { 'x-request-id': 'read-2' } });
  });
  for (const [id, method, path, status] of [
    ['create-1', 'POST', '/v1/znodes/a', 201],
    ['read-1', 'GET', '/v1/znodes/a', 200],
    ['read-2', 'GET', '/v1/znodes/nope', 404],
  ] as const) {
    const mine = lines.filter((l) => l.reqId === id);
    t.equal(mine.length, 1, `${id}: one line`);
    t.match(mine[0], { level: 20, msg: 'request completed', req: { method, url: path }, res: { statusCode: status } }, `${id}: at debug`);
  }
});

t.test('at info: no per-request line', async (t) => {
  const lines = await linesFor('info', async (url) => {
    await fetch(`${url}/v1/znodes/a`, { method: 'POST', body: 'x', headers: { 'x-request-id': 'create-1' } });
    await fetch(`${url}/v1/znodes/nope`, { headers: { 'x-request-id': 'read-2' } });
  });
  t.same(lines.filter((l) => l.reqId !== undefined), []);
});
