import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { AgentServer } from '../src/agent/agent-server.js';
import { EXAMPLES, createExampleHandler, type ExampleName } from '../src/agent/examples/index.js';
import { RawProxyClient, expectedReply, json, sampleEvents, tempSocketDir } from './support/raw-proxy-client.js';

const dir = tempSocketDir();
after(() => dir.remove());
let seq = 0;
const GATED = new URL('./support/gated-handler.ts', import.meta.url);
const servers: AgentServer[] = [];
// Close every server even when a test fails midway: live worker threads would keep the run alive.
after(() => Promise.all(servers.map((s) => s.close())));

function server(o: ConstructorParameters<typeof AgentServer>[0]): AgentServer {
  const s = new AgentServer(o);
  servers.push(s);
  return s;
}

async function start(srv: AgentServer): Promise<string> {
  const path = dir.path(`threads-${seq++}.sock`);
  srv.on('handlerError', () => {});
  await srv.listen(path);
  return path;
}

/** Request headers + body chunks covering allow and block paths of every example. */
function traffic(): Array<[number, Buffer]> {
  const base = sampleEvents('x')[0]![1];
  const out: Array<[number, Buffer]> = [];
  const requests: Array<[string, Record<string, string[]>]> = [
    ['/cart?step=2', { authorization: ['Bearer tok'] }],
    ['/search?q=%3Cscript%3E', {}],
    ["/login?u=a'+or+1=1", { authorization: ['Bearer nope'] }],
    ['/files/..%2f..%2fetc/passwd', { authorization: ['Bearer tok'], referer: ['javascript:x'] }],
  ];
  requests.forEach(([uri, headers], i) => {
    const cid = `h-${i}`;
    out.push([
      0x10,
      json({ ...base, metadata: { ...(base['metadata'] as object), correlation_id: cid }, uri, headers, correlation_id: cid }),
    ]);
  });
  ['name=bob', 'q=1 UNION SELECT 2', 'c=%3Cscript%3E'].forEach((text, i) => {
    out.push([
      0x11,
      json({
        correlation_id: `b-${i}`,
        data: Buffer.from(text).toString('base64'),
        is_last: true,
        total_size: null,
        chunk_index: 0,
        bytes_received: text.length,
      }),
    ]);
  });
  return out;
}

async function run(path: string, frames: Array<[number, Buffer]>): Promise<Map<string, string>> {
  const { client } = await RawProxyClient.open(path);
  for (const [type, payload] of frames) client.send(type, payload);
  const out = new Map<string, string>();
  for (let i = 0; i < frames.length; i++) {
    const f = await client.next();
    out.set((JSON.parse(f.payload.toString('utf8')) as { correlation_id: string }).correlation_id, f.payload.toString('utf8'));
  }
  await client.close();
  return out;
}

test('threads mode gives byte-identical replies to in-thread mode for every example agent', async () => {
  const options: Record<ExampleName, unknown> = { echo: undefined, waf: {}, auth: { token: 'tok', subject: 'alice' } };
  for (const name of ['echo', 'waf', 'auth'] as const) {
    const inThread = server({ agentId: name, handler: createExampleHandler(name, options[name]) });
    const threaded = server({ agentId: name, threads: { module: EXAMPLES[name], count: 2, options: options[name] } });
    const [a, b] = await Promise.all([run(await start(inThread), traffic()), run(await start(threaded), traffic())]);
    assert.equal(a.size, 7);
    assert.deepEqual(b, a, name);
    await Promise.all([inThread.close(), threaded.close()]);
  }
});

test('threads: the waf blocks with its audit data from a worker', async () => {
  const srv = server({ agentId: 'waf', threads: { module: EXAMPLES.waf, count: 1 } });
  const replies = await run(await start(srv), traffic());
  assert.deepEqual(
    JSON.parse(replies.get('h-1')!),
    expectedReply('h-1', {
      decision: { block: { status: 403, body: 'Forbidden', headers: { 'x-blocked-by': 'waf' } } },
      audit: { tags: ['xss'], rule_ids: ['941100'], confidence: 1, reason_codes: ['XSS_DETECTED'] },
    }),
  );
  assert.deepEqual(JSON.parse(replies.get('b-0')!), expectedReply('b-0'));
  await srv.close();
});

test('threads: options reach the worker, a throwing handler answers Block 500, a module path string works', async () => {
  const srv = server({ agentId: 'g', threads: { module: GATED.pathname, count: 1, options: { level: 3 } } });
  const path = await start(srv);
  const { client } = await RawProxyClient.open(path);
  const base = sampleEvents('t-1')[0]![1];
  client.send(0x10, json(base));
  assert.deepEqual(
    await client.nextJson(),
    expectedReply('t-1', { request_headers: [{ set: { name: 'x-options', value: '{"level":3}' } }] }),
  );
  client.send(0x10, json({ ...base, uri: '/throw' }));
  assert.deepEqual(
    await client.nextJson(),
    expectedReply('t-1', { decision: { block: { status: 500, body: 'Agent error', headers: null } } }),
  );
  await client.close();
  await srv.close();
});

test('threads: a Cancel drops the reply of the cancelled call', async () => {
  const srv = server({ agentId: 'g', threads: { module: GATED, count: 1 } });
  const path = await start(srv);
  const { client } = await RawProxyClient.open(path);
  const ev = (cid: string, uri: string) => {
    const base = sampleEvents(cid)[0]![1];
    return json({ ...base, uri });
  };
  client.send(0x10, ev('slow-1', '/slow'));
  client.send(0x40, json({ correlation_id: 'slow-1', reason: 0, timestamp_ms: 1 }));
  client.send(0x10, ev('rel-1', '/release'));
  // The slow result reaches the main thread before this one (see gated-handler.ts), so had it been
  // sent it would be the first frame here.
  assert.deepEqual(await client.nextJson(), expectedReply('rel-1', { routing_metadata: { released: 'yes' } }));
  await client.close();
  await srv.close();
});

test('threads: a handler module that fails to load makes listen() reject', async () => {
  const srv = server({ agentId: 'auth', threads: { module: EXAMPLES.auth, count: 1, options: {} } });
  await assert.rejects(srv.listen(dir.path('never.sock')), /token/);
  await srv.close();
  await assert.rejects(server({ agentId: 'x', threads: { module: EXAMPLES.echo, count: -1 } }).listen(dir.path('n2.sock')), {
    code: 'ZAP_INVALID_CONFIG',
  });
});

test('threads.count 0 imports the module and runs it in-thread', async () => {
  const srv = server({ agentId: 'echo', threads: { module: EXAMPLES.echo, count: 0 } });
  const replies = await run(await start(srv), traffic().slice(0, 1));
  assert.deepEqual(
    JSON.parse(replies.get('h-0')!),
    expectedReply('h-0', { request_headers: [{ set: { name: 'x-agent-echo', value: 'POST /cart?step=2' } }] }),
  );
  await srv.close();
});
