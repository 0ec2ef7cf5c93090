// What a consumer writes: every entry imported by the package's name, and the types a user needs
// to name (pool events and their report payloads, errors by code). Type-checked, never run.
import {
  AgentPool,
  AgentPoolError,
  AgentServer,
  ErrorCode,
  allow,
  block,
  type AgentHandler,
  type AgentPoolEvents,
  type AgentResponse,
  type ControlReport,
  type HostReport,
  type RequestHeadersEvent,
  type ReverseRefusedReport,
  type StateReport,
} from 'zentinel-agent-zap';
import { FrameDecoder, encodeFrame, jsonCodec, type PayloadCodec } from 'zentinel-agent-zap/protocol';
import { loadConfig, type ZapConfig } from 'zentinel-agent-zap/config';
import { killWorker } from 'zentinel-agent-zap/testing';

const pool = new AgentPool({ workers: 1 });
declare const request: RequestHeadersEvent;

function describeReport(report: HostReport): string {
  switch (report.type) {
    case 'state': {
      const state: StateReport = report;
      return `${state.connectionId} ${state.state}`;
    }
    case 'reverse-refused': {
      const refused: ReverseRefusedReport = report;
      return refused.error;
    }
    default:
      return report.type;
  }
}

const onReport = (...[agentId, report]: AgentPoolEvents['report']): void => {
  console.log(agentId, describeReport(report));
};
pool.on('report', onReport);
pool.on('circuit-state', (agentId: string, state: number) => console.log(agentId, state));

const control: ControlReport['type'][] = ['health', 'pong'];

const handler: AgentHandler = {
  onRequestHeaders: (event) => (event.uri.startsWith('/admin') ? block(403) : allow()),
};
const server = new AgentServer({ agentId: 'consumer', handler });

export async function check(): Promise<void> {
  try {
    const reply: AgentResponse = await pool.sendRequestHeaders('waf', 'c1', request, { timeoutMs: 100 });
    console.log(reply.decision);
  } catch (err) {
    if (err instanceof AgentPoolError && err.code === ErrorCode.Timeout) console.log('timed out');
  }
  const codec: PayloadCodec = jsonCodec;
  const decoder = new FrameDecoder((type, payload) => console.log(type, payload.byteLength));
  console.log(codec, decoder, encodeFrame, control);
  const config: ZapConfig = loadConfig('agents {}', 'consumer.kdl');
  console.log(config);
  await killWorker(pool, 0);
  await server.close();
  await pool.close();
}
