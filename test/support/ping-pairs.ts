// Two pings in flight on one connection, answered in reverse order by a peer the test drives: each
// Pong settles the ping of its own sequence and no other, each Ping carries its send time, and the
// rtt lies within the measured round trip. Shared by the UDS and gRPC client tests.
import assert from 'node:assert/strict';
import { waitFor } from './wait-for.js';

export interface SeenPing {
  sequence: number;
  timestamp_ms: number;
}

/**
 * `seen()` lists the Pings the peer received (wire fields), `answer(k)` makes the peer send the
 * Pong of the k-th one.
 */
export async function checkPongsMatchTheirPing(
  conn: { ping(timeoutMs?: number): Promise<number> },
  seen: () => readonly SeenPing[],
  answer: (k: number) => void,
): Promise<void> {
  const t0 = Date.now();
  const settled: string[] = [];
  const first = conn.ping(5_000).finally(() => settled.push('first'));
  const second = conn.ping(5_000).finally(() => settled.push('second'));
  await waitFor(() => seen().length === 2);
  const t1 = Date.now();
  const [p0, p1] = seen() as [SeenPing, SeenPing];
  assert.notEqual(p0.sequence, p1.sequence, 'each ping has its own sequence');
  for (const p of [p0, p1]) assert.ok(p.timestamp_ms >= t0 && p.timestamp_ms <= t1, `timestamp_ms ${p.timestamp_ms} is the send time`);
  answer(1);
  const rtt2 = await second;
  assert.deepEqual(settled, ['second'], 'the first ping still waits for its own Pong');
  assert.ok(rtt2 >= 0 && rtt2 <= Date.now() - t0, `rtt ${rtt2} within the measured round trip`);
  answer(0);
  assert.ok((await first) >= 0);
  assert.deepEqual(settled, ['second', 'first']);
}
