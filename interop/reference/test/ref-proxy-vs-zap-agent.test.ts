// The reference crate's own proxy side (ref-proxy: its AgentPool and clients) against zap's
// AgentServer serving each example agent, on UDS (JSON and MessagePack, as the crate negotiates
// them) and on gRPC. ref-proxy reports every answer in the crate's own types; a reply the crate
// could not read shows up there as an error.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { AgentServer } from '../../../src/agent/agent-server.js';
import { createExampleHandler, type ExampleName } from '../../../src/agent/examples/index.js';
import type { EncodingSetting } from '../../../src/protocol/types.js';
import { socketPath } from '../../../test/support/tmp.js';
import { runRefProxy } from './support/ref-peers.js';
import { refCancelled, refUri, type RefCheckReport, type RefRequest } from './support/ref-report.js';

const REQUESTS = 20;
/** The exact pin of Cargo.toml: ref-proxy reports the version it was built against. */
const PINNED = /zentinel-agent-protocol = \{ version = "=([0-9.]+)"/.exec(
  readFileSync(new URL('../Cargo.toml', import.meta.url), 'utf8'),
)?.[1];
const TOKEN = 's3cret';
const XSS = '<script>alert(1)</script>';

type Wire = { transport: 'uds'; encoding: EncodingSetting } | { transport: 'grpc' };
const WIRES: Wire[] = [{ transport: 'uds', encoding: 'json' }, { transport: 'uds', encoding: 'msgpack' }, { transport: 'grpc' }];

async function startZapAgent(example: ExampleName, wire: Wire): Promise<{ server: AgentServer; endpoint: string }> {
  const server = new AgentServer({
    agentId: `zap-${example}`,
    handler: createExampleHandler(example, example === 'auth' ? { token: TOKEN } : undefined),
    ...(wire.transport === 'uds' ? { encoding: wire.encoding } : {}),
  });
  const endpoint = await server.listen(wire.transport === 'uds' ? `unix:${socketPath(`zap-${example}`)}` : 'grpc://127.0.0.1:0');
  return { server, endpoint };
}

async function check(example: ExampleName, wire: Wire, extra: string[] = []): Promise<RefCheckReport> {
  const { server, endpoint } = await startZapAgent(example, wire);
  try {
    const report = (await runRefProxy(['--endpoint', endpoint, '--requests', String(REQUESTS), ...extra])) as unknown as RefCheckReport;
    assert.equal(report.mode, 'check');
    assert.equal(report.crate_version, PINNED);
    assert.equal(report.transport, wire.transport);
    assert.equal(report.capabilities?.agent_id, `zap-${example}`);
    if (wire.transport === 'uds') assert.equal(report.encoding, wire.encoding);
    assert.equal(report.requests.length, REQUESTS);
    report.requests.forEach((r, i) => {
      assert.equal(r.uri, refUri(i));
      assert.equal(r.headers.error, undefined, `${r.cid}: ${r.headers.error}`);
    });
    return report;
  } finally {
    await server.close();
  }
}

/** Body chunk and response headers answered Allow, or the cancel accepted, as the check planned. */
function assertRestAllowed(r: RefRequest, i: number): void {
  if (refCancelled(i)) {
    assert.deepEqual(r.cancel, { ok: true, error: null }, r.cid);
    return;
  }
  assert.equal(r.body_chunk?.response?.decision, 'allow', `${r.cid} body: ${JSON.stringify(r.body_chunk)}`);
  assert.equal(r.response_headers?.response?.decision, 'allow', `${r.cid} response headers: ${JSON.stringify(r.response_headers)}`);
}

describe('reference proxy (ref-proxy) → zap AgentServer', () => {
  for (const wire of WIRES) {
    const label = wire.transport === 'uds' ? `uds ${wire.encoding}` : 'grpc';

    test(`reference interop: ${label}: echo example: every header op and event answered as the crate reads it`, async () => {
      const report = await check('echo', wire);
      report.requests.forEach((r, i) => {
        assert.equal(r.headers.response?.decision, 'allow', r.cid);
        assert.deepEqual(r.headers.response?.request_headers, [{ set: { name: 'x-agent-echo', value: `POST ${refUri(i)}` } }], r.cid);
        assertRestAllowed(r, i);
      });
      assert.equal(report.after_cancels.response?.decision, 'allow');
    });

    test(`reference interop: ${label}: waf example: a body chunk with a script tag is blocked, with headers and audit`, async () => {
      const report = await check('waf', wire, ['--body', XSS]);
      report.requests.forEach((r, i) => {
        assert.equal(r.headers.response?.decision, 'allow', r.cid);
        if (refCancelled(i)) return assert.deepEqual(r.cancel, { ok: true, error: null });
        const body = r.body_chunk?.response;
        assert.deepEqual(body?.decision, { block: { status: 403, body: 'Forbidden', headers: { 'x-blocked-by': 'waf' } } }, r.cid);
        assert.deepEqual(body?.audit.rule_ids, ['941100'], r.cid);
        assert.deepEqual(body?.audit.tags, ['xss'], r.cid);
      });
    });

    test(`reference interop: ${label}: auth example: the bearer token passes, its subject header set`, async () => {
      const report = await check('auth', wire, ['--header', `authorization:Bearer ${TOKEN}`]);
      report.requests.forEach((r, i) => {
        assert.equal(r.headers.response?.decision, 'allow', r.cid);
        assert.deepEqual(r.headers.response?.request_headers, [{ set: { name: 'x-auth-subject', value: 'authenticated' } }], r.cid);
        assertRestAllowed(r, i);
      });
    });
  }

  test('reference interop: uds json: auth example without a token: 401 with its challenge header', async () => {
    const report = await check('auth', { transport: 'uds', encoding: 'json' });
    for (const r of report.requests) {
      assert.deepEqual(
        r.headers.response?.decision,
        { block: { status: 401, body: 'Unauthorized', headers: { 'www-authenticate': 'Bearer' } } },
        r.cid,
      );
      assert.deepEqual(r.headers.response?.audit.reason_codes, ['AUTH_REQUIRED'], r.cid);
    }
  });
});
