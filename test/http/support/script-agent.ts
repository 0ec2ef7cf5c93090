// A real agent process for the HTTP engine tests, scripted per request by headers. It serves one
// AgentServer per id given (`script-agent <id>=<socket> …`) and prints "listening" when ready.
//   x-test-id: <tag>          reported with everything this agent saw of the request (IPC, at request_complete)
//   (a held event is reported at once as the record of `<tag>#hang`, a Cancel as that of `<tag>#cancel`)
//   x-script-<id>: <phase>=<action>,…
//     phase: rh (request headers), rb (request body), sh (response headers), sb (response body)
//     action: block, redirect, challenge, ratelimit, hang (answer only on Cancel: a timeout or a
//       disconnect), ops (rh: set request header x-from-<id>, response header x-resp-<id>),
//       upper (body: replace with upper case), double (body: each chunk twice), drop (body: drop chunks),
//       provisional (body: Block with needs_more on every chunk but the last, which allows),
//       insist (body: Block with needs_more on every chunk, the last included)
import type { AgentHandler, HandlerContext, Reply } from '../../../src/agent/handler.js';
import { AgentServer } from '../../../src/agent/agent-server.js';
import type { Decision } from '../../../src/protocol/types.js';

/** What the agent saw of one request; sent to the parent process. */
export interface AgentRecord {
  agent: string;
  testId: string;
  /** The correlation id of the request. */
  cid: string;
  events: string[];
  cancels: string[];
  complete?: { status: number; requestBodySize: number; responseBodySize: number; error: string | null };
}

const BLOCK: Decision = { type: 'block', status: 403, body: 'blocked by script', headers: { 'x-blocked-by': 'script' } };
const DECISIONS: Record<string, Decision> = {
  block: BLOCK,
  redirect: { type: 'redirect', url: 'https://login.example/', status: 302 },
  challenge: { type: 'challenge', challengeType: 'captcha', params: { site_key: 'k<1>' } },
  ratelimit: { type: 'challenge', challengeType: 'rate_limit', params: { retry_after: '3' } },
};
const MAX_TRACKED = 1_000;

function createHandler(id: string): AgentHandler {
  const scripts = new Map<string, Map<string, string>>();
  const records = new Map<string, AgentRecord>();

  const record = (cid: string): AgentRecord | undefined => records.get(cid);
  const hang = (ctx: HandlerContext): Promise<Reply> =>
    new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({}), { once: true }));

  function act(
    cid: string,
    phase: string,
    ctx: HandlerContext,
    body?: { data: Uint8Array; isLast: boolean; index: number },
  ): Reply | Promise<Reply> {
    const action = scripts.get(cid)?.get(phase);
    if (action === undefined) return {};
    if (action === 'hang') {
      // Tells the test the event is held, so it can disconnect or wait for the timeout.
      const rec = records.get(cid);
      if (rec !== undefined) process.send?.({ agent: id, testId: `${rec.testId}#hang`, cid, events: [phase], cancels: [] });
      return hang(ctx);
    }
    const decision = DECISIONS[action];
    if (decision !== undefined) return { decision };
    if (body === undefined) {
      if (action === 'ops') {
        return {
          requestHeaders: [{ op: 'set', name: `x-from-${id}`, value: '1' }],
          responseHeaders: [{ op: 'set', name: `x-resp-${id}`, value: '1' }],
        };
      }
      return {};
    }
    const text = Buffer.from(body.data).toString('latin1');
    const mutate = (out: string | null): Reply =>
      phase === 'rb'
        ? { requestBodyMutation: { data: out, chunkIndex: body.index } }
        : { responseBodyMutation: { data: out === null ? null : Buffer.from(out, 'latin1').toString('base64'), chunkIndex: body.index } };
    switch (action) {
      case 'upper':
        return mutate(text.toUpperCase());
      case 'double':
        return mutate(text + text);
      case 'drop':
        return mutate('');
      case 'provisional':
        return body.isLast ? {} : { decision: BLOCK, needsMore: true };
      case 'insist':
        return { decision: BLOCK, needsMore: true };
      default:
        return {};
    }
  }

  return {
    onRequestHeaders(e, ctx) {
      const cid = e.metadata.correlationId;
      const script = new Map<string, string>();
      for (const part of (e.headers[`x-script-${id}`]?.[0] ?? '').split(',')) {
        const [phase, action] = part.split('=');
        if (phase && action) script.set(phase, action);
      }
      if (scripts.size >= MAX_TRACKED) {
        scripts.clear();
        records.clear();
      }
      scripts.set(cid, script);
      records.set(cid, { agent: id, testId: e.headers['x-test-id']?.[0] ?? '', cid, events: [`rh ${e.method} ${e.uri}`], cancels: [] });
      return act(cid, 'rh', ctx);
    },
    onRequestBodyChunk(e, ctx) {
      record(e.correlationId)?.events.push(`rb ${e.chunkIndex} ${e.data.length} ${e.isLast} ${e.bytesReceived}`);
      return act(e.correlationId, 'rb', ctx, { data: e.data, isLast: e.isLast, index: e.chunkIndex });
    },
    onResponseHeaders(e, ctx) {
      record(e.correlationId)?.events.push(`sh ${e.status}`);
      return act(e.correlationId, 'sh', ctx);
    },
    onResponseBodyChunk(e, ctx) {
      record(e.correlationId)?.events.push(`sb ${e.chunkIndex} ${e.data.length} ${e.isLast} ${e.bytesSent}`);
      return act(e.correlationId, 'sb', ctx, { data: e.data, isLast: e.isLast, index: e.chunkIndex });
    },
    onRequestComplete(e) {
      const rec = records.get(e.correlationId);
      if (rec !== undefined) {
        const { status, requestBodySize, responseBodySize, error } = e;
        rec.complete = { status, requestBodySize, responseBodySize, error };
        process.send?.(rec);
        records.delete(e.correlationId);
        scripts.delete(e.correlationId);
      }
    },
    onCancel(c) {
      const rec = record(c.correlationId);
      if (rec === undefined) return;
      rec.cancels.push(c.reason ?? 'none');
      // At once too: a later event of the request may travel on another connection and arrive first.
      process.send?.({ agent: id, testId: `${rec.testId}#cancel`, cid: rec.cid, events: [], cancels: [c.reason ?? 'none'] });
    },
  };
}

const servers: AgentServer[] = [];
for (const arg of process.argv.slice(2)) {
  const [id, path] = arg.split('=') as [string, string];
  const server = new AgentServer({ agentId: id, handler: createHandler(id) });
  await server.listen(path);
  servers.push(server);
}
process.on('disconnect', () => void Promise.all(servers.map((s) => s.close())).then(() => process.exit(0)));
process.stdout.write('listening\n');
