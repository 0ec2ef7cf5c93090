// Issue 11 item 5, gRPC side: `maxConnections` caps open ProcessStreams (RESOURCE_EXHAUSTED past
// it), and the grpc-js server runs with bounded defaults instead of grpc-js's unlimited ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { grpcServerOptionsOf } from '../../src/agent/grpc-agent-listener.js';
import { plainClient, plainStream, plainUnary } from '../support/grpc-plain-peer.js';
import { startGrpcAgent, waitFor } from '../support/grpc-agents.js';

const HANDSHAKE = { handshake: { supported_versions: [2], proxy_id: 'hostile', proxy_version: '1', config_json: '{}' } };

function address(endpoint: string): string {
  return endpoint.replace('grpc://', '');
}

async function openStream(client: ReturnType<typeof plainClient>): Promise<ReturnType<typeof plainStream>> {
  const s = plainStream(client);
  s.call.write(HANDSHAKE);
  assert.equal((await s.next())['handshake']['success'], true);
  return s;
}

test('gRPC stream cap: past maxConnections a new ProcessStream ends with RESOURCE_EXHAUSTED; open streams keep working', async () => {
  const { endpoint, server } = await startGrpcAgent({}, { maxConnections: 2 });
  const warnings: string[] = [];
  server.on('warning', (w: string) => warnings.push(w));
  const client = plainClient(address(endpoint));
  const first = await openStream(client);
  const second = await openStream(client);
  const refused = [plainStream(client), plainStream(client), plainStream(client)];
  for (const s of refused) s.call.write(HANDSHAKE);
  for (const s of refused) {
    const status = await s.status;
    assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(status.details, /maximum number of streams/);
  }
  assert.equal(server.stats.connectionsRefused, 3);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /refused gRPC peer '?127\.0\.0\.1:\d+'?: 2 connections open \(maxConnections\)/);
  // Served streams still answer; a freed slot is usable again.
  first.call.write({ ping: { sequence: 7, timestamp_ms: 1 } });
  assert.equal(Number((await first.next((m) => m['pong'] !== undefined))['pong']['sequence']), 7);
  second.call.end();
  await second.status;
  await waitFor(() => server.connections === 1);
  const third = await openStream(client);
  third.call.end();
  first.call.end();
  await Promise.all([third.status, first.status]);
  await server.close();
});

test('gRPC server options: bounded defaults where grpc-js has none; overrides win', () => {
  assert.deepEqual(grpcServerOptionsOf(), {
    'grpc.max_concurrent_streams': 100,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.max_connection_idle_ms': 60_000,
  });
  assert.equal(grpcServerOptionsOf({ 'grpc.max_concurrent_streams': 8 })['grpc.max_concurrent_streams'], 8);
});

test('gRPC server options: grpcServerOptions reach the listener (a message over the receive limit is refused)', async () => {
  const { endpoint, server } = await startGrpcAgent({}, { grpcServerOptions: { 'grpc.max_receive_message_length': 1024 } });
  const client = plainClient(address(endpoint));
  const small = await plainUnary(client, { ping: { sequence: 1, timestamp_ms: 1 } });
  assert.equal(small.error, null);
  const big = await plainUnary(client, { handshake: { supported_versions: [2], proxy_id: 'x'.repeat(4096) } });
  assert.equal(big.error?.code, grpc.status.RESOURCE_EXHAUSTED);
  await server.close();
});
