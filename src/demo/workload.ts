// The demo's client side: a bounded mixed workload against the gateway (benign requests with a
// valid token, uploads whose bodies stream in chunks — one in three hides an attack in a later
// chunk —, attacks with a valid token, unauthenticated requests), closed loop with a fixed number
// of concurrent clients, for a fixed duration; stops by itself.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface WorkloadResult {
  requests: number;
  byKind: Record<WorkloadKind, Record<number, number>>;
  elapsedMs: number;
  /** Responses that carried the header the echo agent sets in the response phase. */
  responsePhase: number;
}

export type WorkloadKind = 'benign' | 'streamed upload' | 'attack' | 'unauthenticated';

interface Shot {
  kind: WorkloadKind;
  method: string;
  path: string;
  body?: string;
  /** Sent chunk by chunk (chunked encoding, no content-length): the gateway streams it on. */
  chunks?: string[];
  auth: boolean;
}

const BENIGN: Shot[] = [
  { kind: 'benign', method: 'GET', path: '/products?id=42', auth: true },
  { kind: 'benign', method: 'GET', path: '/search?q=red+shoes', auth: true },
  { kind: 'benign', method: 'POST', path: '/cart', body: 'item=42&qty=2', auth: true },
  { kind: 'benign', method: 'GET', path: '/static/app.js', auth: true },
];
const ATTACKS: Shot[] = [
  { kind: 'attack', method: 'GET', path: '/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E', auth: true },
  { kind: 'attack', method: 'GET', path: '/static/../../etc/passwd', auth: true },
  { kind: 'attack', method: 'POST', path: '/login', body: "user=admin' OR 1=1 --", auth: true },
  { kind: 'attack', method: 'GET', path: '/items?id=1%20UNION%20SELECT%20password%20FROM%20users', auth: true },
];
const UPLOADS: Shot[] = [
  { kind: 'streamed upload', method: 'POST', path: '/upload', chunks: ['part one;', ' part two;', ' part three'], auth: true },
  { kind: 'streamed upload', method: 'PUT', path: '/upload/notes', chunks: ['line 1\n', 'line 2\n'], auth: true },
  { kind: 'streamed upload', method: 'POST', path: '/upload', chunks: ['harmless start;', ' then <script>alert(1)</script>'], auth: true },
];
const UNAUTHENTICATED: Shot[] = [{ kind: 'unauthenticated', method: 'GET', path: '/account', auth: false }];

/** 5 in 10 benign, 1 in 10 streamed uploads, 3 in 10 attacks, 1 in 10 unauthenticated. */
function pick(i: number): Shot {
  const slot = i % 10;
  if (slot < 5) return BENIGN[i % BENIGN.length] as Shot;
  if (slot < 6) return UPLOADS[Math.floor(i / 10) % UPLOADS.length] as Shot;
  if (slot < 9) return ATTACKS[i % ATTACKS.length] as Shot;
  return UNAUTHENTICATED[0] as Shot;
}

export async function runWorkload(
  port: number,
  token: string,
  o: { durationMs: number; concurrency: number; onProgress?: (done: number, elapsedMs: number) => void },
): Promise<WorkloadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const byKind: WorkloadResult['byKind'] = { benign: {}, 'streamed upload': {}, attack: {}, unauthenticated: {} };
  let n = 0;
  let done = 0;
  let responsePhase = 0;
  const start = performance.now();
  const deadline = start + o.durationMs;
  const progress = o.onProgress === undefined ? undefined : setInterval(() => o.onProgress?.(done, performance.now() - start), 200);
  const client = async () => {
    while (performance.now() < deadline) {
      const shot = pick(n++);
      const { status, stamped } = await send(agent, port, shot, token);
      if (stamped) responsePhase++;
      byKind[shot.kind][status] = (byKind[shot.kind][status] ?? 0) + 1;
      done++;
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, client));
  } finally {
    if (progress !== undefined) clearInterval(progress);
    agent.destroy();
  }
  return { requests: done, byKind, elapsedMs: performance.now() - start, responsePhase };
}

function send(agent: Agent, port: number, shot: Shot, token: string): Promise<{ status: number; stamped: boolean }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { host: 'shop.example' };
    if (shot.auth) headers['authorization'] = `Bearer ${token}`;
    if (shot.body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(shot.body));
    }
    const req = request({ host: '127.0.0.1', port, method: shot.method, path: shot.path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, stamped: res.headers['x-agent-echo-status'] !== undefined }));
    });
    req.on('error', () => resolve({ status: 0, stamped: false }));
    if (shot.chunks === undefined) {
      req.end(shot.body);
      return;
    }
    // Each chunk goes out on its own write (chunked encoding): the gateway sees them as they come.
    for (const chunk of shot.chunks) req.write(chunk);
    req.end();
  });
}
