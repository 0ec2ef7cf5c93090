// The router's share of a call to a worker connection, on one thread and without the noise of the
// others: the real Router, AgentEntry, metrics, event encoder and send batch, with a stand-in host
// that answers every send of a tick with the echo agent's reply in a results batch (the CPU it spends
// writing that batch is read around it and taken off). What it prints is the main thread's CPU per
// call of the worker path minus the thread hand-offs, the figure issue 13's headline is about. The
// best round moves by a few per cent from run to run, the end-to-end rows of `pool-uds` by ±10 % on
// 2 cores: small changes need several runs of both builds, alternated.
// Run: npm run build && node dist/bench/main-thread-path.js   (N=… K=… ROUNDS=… to change the counts)
import { Router } from '../src/pool/router.js';
import { AgentEntry, ConnectionRecord } from '../src/pool/agent-entry.js';
import { DEFAULT_AGENT_OPTIONS, resolveAgentOptions } from '../src/pool/pool-config.js';
import { PoolMetrics } from '../src/metrics/pool-metrics.js';
import { routerEventsFor } from '../src/pool/router-metrics.js';
import { SendBatchWriter } from '../src/contract/send-batch.js';
import { ResultBatchWriter, readResultBatch } from '../src/contract/result-batch.js';
import type { CancelItem, HostCommand, HostHandle, SendItem } from '../src/contract/host-messages.js';
import { allowResponse } from '../src/protocol/agent-response.js';
import type { AgentResponse } from '../src/protocol/types.js';
import type { EventEncoder } from '../src/transport/event-encoder.js';
import { mainThreadCpu } from './measure.js';
import { sampleRequestHeaders } from './sample-request.js';

const N = Number(process.env['N'] ?? 400_000);
const K = Number(process.env['K'] ?? 256);
const ROUNDS = Number(process.env['ROUNDS'] ?? 7);
const CONNECTIONS = 4;

/** The host of every connection: collects a tick's sends as the worker host does, answers them all at flush. */
class LoopbackHost implements HostHandle {
  readonly onOtherThread = true;
  readonly batch = new SendBatchWriter();
  /** Request id and reply correlation id of each send since the last tick. */
  readonly sent: Array<[number, string]> = [];
  /** As WorkerHost: JSON events are packed straight into the send batch. */
  eventEncoder(encoding: string): EventEncoder | undefined {
    return encoding === 'json' ? this.batch.jsonEncoder : undefined;
  }
  command(_command: HostCommand): void {}
  send(item: SendItem): void {
    this.batch.send(item);
    this.sent.push([item[0], item[2]]);
  }
  cancel(item: CancelItem): void {
    this.batch.cancel(item);
  }
  async terminate(): Promise<void> {}
}

/** The echo agent's reply as a host decodes it from the wire (the SDK echoes the cid in audit.custom too). */
function echoReply(cid: string): AgentResponse {
  const reply = allowResponse();
  reply.requestHeaders.push({ op: 'set', name: 'x-agent-echo', value: 'GET /products/42?ref=home&utm_source=newsletter' });
  reply.audit.custom = { correlation_id: cid };
  reply.correlationId = cid;
  return reply;
}

async function main(): Promise<void> {
  const options = resolveAgentOptions(DEFAULT_AGENT_OPTIONS, {}, 'bench');
  const router = new Router(routerEventsFor(new PoolMetrics({}), { report: () => {}, ready: () => {} }));
  const agent = new AgentEntry('echo', { transport: 'uds', path: '/nonexistent' }, options);
  router.addAgent(agent);
  const host = new LoopbackHost();
  for (let id = 1; id <= CONNECTIONS; id++) {
    router.registerConnection(new ConnectionRecord(id, agent, host, 0));
    router.onReport({ type: 'state', connectionId: id, state: 'ready', encoding: 'json', lastError: null, attempt: 0 });
  }
  const cpu = mainThreadCpu();
  const results = new ResultBatchWriter();
  /** CPU the stand-in host spends writing results: the worker's share, taken off the total. */
  let hostCpu = 0;

  let issued = 0;
  let completed = 0;
  const onDone = (): void => {
    completed++;
    if (issued < N) issue();
  };
  const issue = (): void => {
    const cid = `r${issued++}`;
    router.send('echo', 'request_headers', sampleRequestHeaders(cid), cid, {}).then(
      (response) => {
        // The reply must be the one the host wrote for this call (a smoke test runs this file).
        if (response.correlationId !== cid || response.audit.custom['correlation_id'] !== cid || response.requestHeaders.length !== 1)
          throw new Error(`call ${cid} settled with another reply: ${JSON.stringify(response)}`);
        // As the pool's callers end a request (AgentPool.endRequest).
        for (const entry of router.agentEntries()) entry.endRequest(cid);
        onDone();
      },
      (err: unknown) => {
        throw err;
      },
    );
  };
  /** One worker tick: every send of the last turn comes back answered. */
  const tick = (): void => {
    // Every call left is sent or settled by now: nothing sent means one was lost, and the loop would never end.
    if (host.sent.length === 0) throw new Error(`stalled at ${completed} of ${N} calls: nothing was sent in the last turn`);
    const before = cpu.read();
    // As the worker does: the batch is read, and its buffer goes back for the router's next batches.
    host.batch.giveBack(host.batch.take());
    for (const [id, cid] of host.sent.splice(0)) results.add([id, echoReply(cid)], cid);
    const batch = results.take();
    hostCpu += cpu.read() - before;
    readResultBatch(
      batch,
      (item) => router.onResult(item),
      (id) => router.replyIdOf(id),
    );
  };

  const perRound: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    issued = 0;
    completed = 0;
    hostCpu = 0;
    const start = cpu.read();
    for (let i = 0; i < K; i++) issue();
    while (completed < N) {
      tick();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    perRound.push((cpu.read() - start - hostCpu) / N);
  }
  router.dispose();
  const sorted = [...perRound].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  console.log(
    `main-thread path: ${N} calls × ${ROUNDS} rounds, ${K} in flight, ${cpu.source} CPU: ` +
      `median ${median.toFixed(3)}, min ${(sorted[0] as number).toFixed(3)} µs/call ` +
      `(rounds: ${perRound.map((v) => v.toFixed(3)).join(' ')})`,
  );
}

await main();
