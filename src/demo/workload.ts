// The demo's client side: a bounded mixed workload against the gateway (benign requests with a
// valid token, attacks with a valid token, unauthenticated requests), closed loop with a fixed
// number of concurrent clients, for a fixed duration; stops by itself.
import { Agent, request } from 'node:http';

export interface WorkloadResult {
  requests: number;
  byKind: Record<WorkloadKind, Record<number, number>>;
  elapsedMs: number;
}

export type WorkloadKind = 'benign' | 'attack' | 'unauthenticated';

interface Shot {
  kind: WorkloadKind;
  method: string;
  path: string;
  body?: string;
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
const UNAUTHENTICATED: Shot[] = [{ kind: 'unauthenticated', method: 'GET', path: '/account', auth: false }];

/** 6 in 10 benign, 3 in 10 attacks, 1 in 10 unauthenticated. */
function pick(i: number): Shot {
  const slot = i % 10;
  if (slot < 6) return BENIGN[i % BENIGN.length] as Shot;
  if (slot < 9) return ATTACKS[i % ATTACKS.length] as Shot;
  return UNAUTHENTICATED[0] as Shot;
}

export async function runWorkload(
  port: number,
  token: string,
  o: { durationMs: number; concurrency: number; onProgress?: (done: number, elapsedMs: number) => void },
): Promise<WorkloadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const byKind: WorkloadResult['byKind'] = { benign: {}, attack: {}, unauthenticated: {} };
  let n = 0;
  let done = 0;
  const start = performance.now();
  const deadline = start + o.durationMs;
  const progress = o.onProgress === undefined ? undefined : setInterval(() => o.onProgress?.(done, performance.now() - start), 200);
  const client = async () => {
    while (performance.now() < deadline) {
      const shot = pick(n++);
      const status = await send(agent, port, shot, token);
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
  return { requests: done, byKind, elapsedMs: performance.now() - start };
}

function send(agent: Agent, port: number, shot: Shot, token: string): Promise<number> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { host: 'shop.example' };
    if (shot.auth) headers['authorization'] = `Bearer ${token}`;
    if (shot.body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(shot.body));
    }
    const req = request({ host: '127.0.0.1', port, method: shot.method, path: shot.path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(shot.body);
  });
}
