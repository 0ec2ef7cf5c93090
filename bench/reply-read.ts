// What reading an agent's JSON reply costs a connection, on one thread (src/protocol/json-reply-scanner.ts):
//   general  parseResponse (strict UTF-8, bounds pre-scan, JSON.parse, the cid) + agentResponseFromWire
//   readReply  what the connections call: the scanner, the general path when the scanner leaves the text
// for the echo agent's Allow (the reply every pool-uds row reads), a WAF's Block, and a reply the
// scanner leaves (one space in it), each over 1 000 distinct correlation ids.
// Run: npm run build && node dist/bench/reply-read.js   (N=… to change the count)
import { agentResponseFromWire, allowResponse } from '../src/protocol/agent-response.js';
import { jsonCodec } from '../src/protocol/json-codec.js';
import type { AgentResponse } from '../src/protocol/types.js';
import { nsPerCall as timed } from './ns-per-call.js';

const N = Number(process.env['N'] ?? 300_000);
const ROUNDS = 3;
const IDS = 1_000;

/** ns per call of `step`, the best of ROUNDS rounds of N calls. */
const nsPerCall = (step: (i: number) => number): number => timed(step, N, ROUNDS);

function replies(response: AgentResponse, edit: (json: string) => string = (json) => json): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < IDS; i++) out.push(Buffer.from(edit(jsonCodec.encodeResponse(response, `p${100_000 + i}`).toString())));
  return out;
}

const echo = allowResponse();
echo.requestHeaders.push({ op: 'set', name: 'x-agent-echo', value: 'GET /products/42?ref=home&utm_source=newsletter' });
const block = allowResponse();
block.decision = { type: 'block', status: 403, body: 'Forbidden', headers: { 'x-blocked-by': 'waf' } };
block.audit.tags.push('sqli');
block.audit.ruleIds.push('942100');
const cases: Array<[string, Buffer[]]> = [
  ['echo Allow', replies(echo)],
  ['WAF Block', replies(block)],
  ['echo Allow, one space', replies(echo, (json) => json.replace('"version":2', '"version": 2'))],
];

console.log(`reading a JSON reply, ${N} calls, best of ${ROUNDS} rounds:`);
for (const [name, payloads] of cases) {
  if (jsonCodec.readReply(payloads[0] as Buffer).correlationId === null) throw new Error(`${name}: no correlation id`);
  const general = nsPerCall((i) => agentResponseFromWire(jsonCodec.parseResponse(payloads[i % IDS] as Buffer).body).version);
  const read = nsPerCall((i) => {
    const r = jsonCodec.readReply(payloads[i % IDS] as Buffer);
    return (r.response ?? agentResponseFromWire(r.body)).version;
  });
  console.log(`  ${name.padEnd(24)} general ${general.toFixed(0).padStart(5)} ns   readReply ${read.toFixed(0).padStart(5)} ns`);
}
