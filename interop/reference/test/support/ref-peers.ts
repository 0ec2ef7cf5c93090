// Test-side helpers around the reference peers (bench/reference-peers.ts): every process started
// here is stopped when its test file ends.
import { after } from 'node:test';
import { RefProcess } from '../../../../bench/reference-peers.js';

const started: RefProcess[] = [];
after(async () => {
  await Promise.all(started.map((p) => p.stop()));
});

/** A reference peer that is stopped at the end of the test file at the latest. */
export function refProcess(binary: 'ref-agent' | 'ref-proxy', args: readonly string[]): RefProcess {
  const p = new RefProcess(binary, args);
  started.push(p);
  return p;
}

/** The crate's agent server on a Unix socket or on gRPC (127.0.0.1, any free port), with its debug log. */
export async function startRefAgent(transport: 'uds' | 'grpc', socketPath: string): Promise<{ agent: RefProcess; endpoint: string }> {
  const args = transport === 'uds' ? ['--uds', socketPath] : ['--grpc', '127.0.0.1:0'];
  const agent = refProcess('ref-agent', [...args, '--trace']);
  return { agent, endpoint: await agent.ready() };
}

/** ref-proxy in check mode: its JSON report. */
export function runRefProxy(args: readonly string[]): Promise<Record<string, unknown>> {
  return refProcess('ref-proxy', args).result();
}

export type { RefProcess };
