// `zap demo` (npm start): starts the three example agents as child processes, sends each a few
// sample events through the proxy-side client, and prints the decisions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectUdsAgent } from '../connection/uds-agent-client.js';
import type { AgentResponse, EventKind, EventMap } from '../protocol/types.js';
import { startChildAgent, type ChildAgent } from './child-agent.js';

const DEMO_TOKEN = 'demo-token';

interface Step<K extends EventKind = EventKind> {
  agent: 'echo' | 'waf' | 'auth';
  label: string;
  kind: K;
  event: (cid: string) => EventMap[K];
}

function headers(cid: string, method: string, uri: string, extra: Record<string, string[]> = {}): EventMap['request_headers'] {
  return {
    metadata: {
      correlationId: cid,
      requestId: cid,
      clientIp: '127.0.0.1',
      clientPort: 40000,
      serverName: null,
      protocol: 'HTTP/1.1',
      tlsVersion: null,
      tlsCipher: null,
      routeId: 'demo',
      upstreamId: null,
      timestamp: new Date().toISOString(),
    },
    method,
    uri,
    headers: { host: ['demo.local'], ...extra },
  };
}

function body(cid: string, text: string): EventMap['request_body_chunk'] {
  const data = Buffer.from(text);
  return { correlationId: cid, data, isLast: true, totalSize: data.length, chunkIndex: 0, bytesReceived: data.length };
}

const STEPS: Step[] = [
  { agent: 'echo', label: 'GET /hello', kind: 'request_headers', event: (c) => headers(c, 'GET', '/hello') },
  { agent: 'waf', label: 'GET /products?id=7', kind: 'request_headers', event: (c) => headers(c, 'GET', '/products?id=7') },
  { agent: 'waf', label: 'GET /search?q=<script>', kind: 'request_headers', event: (c) => headers(c, 'GET', '/search?q=%3Cscript%3Ealert(1)%3C/script%3E') },
  { agent: 'waf', label: 'GET /../../etc/passwd', kind: 'request_headers', event: (c) => headers(c, 'GET', '/static/../../etc/passwd') },
  { agent: 'waf', label: "body: name=x' OR 1=1 --", kind: 'request_body_chunk', event: (c) => body(c, "name=x' OR 1=1 --") },
  { agent: 'auth', label: 'GET /account (no token)', kind: 'request_headers', event: (c) => headers(c, 'GET', '/account') },
  { agent: 'auth', label: 'GET /account (wrong token)', kind: 'request_headers', event: (c) => headers(c, 'GET', '/account', { authorization: ['Bearer nope'] }) },
  { agent: 'auth', label: 'GET /account (good token)', kind: 'request_headers', event: (c) => headers(c, 'GET', '/account', { authorization: [`Bearer ${DEMO_TOKEN}`] }) },
];

export function describeResponse(r: AgentResponse): string {
  const d = r.decision;
  const parts: string[] = [];
  if (d.type === 'block') parts.push(`block ${d.status}${d.body === null ? '' : ` "${d.body}"`}`);
  else if (d.type === 'redirect') parts.push(`redirect ${d.status} ${d.url}`);
  else if (d.type === 'challenge') parts.push(`challenge ${d.challengeType}`);
  else parts.push('allow');
  if (r.audit.ruleIds.length > 0) parts.push(`rules ${r.audit.ruleIds.join(',')}`);
  for (const op of r.requestHeaders) parts.push(op.op === 'remove' ? `-${op.name}` : `${op.name}: ${op.value}`);
  return parts.join('  ');
}

export async function runDemo(_argv: string[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'zap-demo-'));
  const agents: ChildAgent[] = [];
  const cleanup = async () => {
    await Promise.all(agents.map((a) => a.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => {
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    process.stdout.write('zap demo: starting example agents (echo, waf, auth) as child processes…\n');
    const specs: Array<[Step['agent'], string[]]> = [
      ['echo', ['--example', 'echo']],
      ['waf', ['--example', 'waf']],
      ['auth', ['--example', 'auth', '--token', DEMO_TOKEN]],
    ];
    const started = await Promise.all(specs.map(([name, args]) => startChildAgent(args, join(dir, `${name}.sock`))));
    agents.push(...started);
    const connections = new Map(
      await Promise.all(
        specs.map(async ([name], i) => [name, await connectUdsAgent(started[i]!.endpoint, { agentId: name })] as const),
      ),
    );
    let n = 0;
    for (const step of STEPS) {
      const cid = `demo-${++n}`;
      const connection = connections.get(step.agent)!;
      const started = process.hrtime.bigint();
      const reply = await connection.send(step.kind, step.event(cid) as never, cid, { timeoutMs: 2_000 });
      const us = Number(process.hrtime.bigint() - started) / 1_000;
      process.stdout.write(`${step.agent.padEnd(5)} ${step.label.padEnd(30)} → ${describeResponse(reply)}  (${us.toFixed(0)} µs)\n`);
    }
    for (const c of connections.values()) c.close();
    process.stdout.write('zap demo: done.\n');
    return 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    await cleanup();
  }
}
