// A plain @grpc/grpc-js peer built only from proto/agent_v2.proto with @grpc/proto-loader: NO project
// code on this side, so what it sends is what any protobuf peer sends and what it receives is read
// the way any protobuf peer reads it. Used by the interop tests against our client and server.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { after } from 'node:test';

const PROTO = fileURLToPath(new URL('../../proto/agent_v2.proto', import.meta.url));

// Options of a typical generated-code user, chosen here independently of the project's loader.
const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, enums: Number, defaults: false, oneofs: true });
const pkg = grpc.loadPackageDefinition(definition) as unknown as {
  zentinel: { agent: { v2: { AgentServiceV2: grpc.ServiceClientConstructor & { service: grpc.ServiceDefinition } } } };
};
export const AgentServiceV2 = pkg.zentinel.agent.v2.AgentServiceV2;

// A loose view of the decoded messages (whatever proto-loader gives under the options above).
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- proto-loader's messages are untyped; tests read any field
export type Msg = Record<string, any>;

export interface PlainServerHandlers {
  /** Called with every ProxyToAgent read on a ProcessStream, and the call to answer on. */
  onStreamMessage(call: grpc.ServerDuplexStream<Msg, Msg>, msg: Msg): void;
}

/** A plain AgentServiceV2 server on 127.0.0.1:<free port>; closed after the test file. */
export async function startPlainServer(
  handlers: PlainServerHandlers,
): Promise<{ address: string; server: grpc.Server; calls: Set<grpc.ServerDuplexStream<Msg, Msg>> }> {
  const server = new grpc.Server();
  const calls = new Set<grpc.ServerDuplexStream<Msg, Msg>>();
  server.addService(AgentServiceV2.service, {
    ProcessStream: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
      calls.add(call);
      call.on('data', (msg: Msg) => handlers.onStreamMessage(call, msg));
      call.on('error', () => {});
      call.on('end', () => call.end());
      call.on('close', () => calls.delete(call));
    },
    ProcessEvent: (_call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => cb({ code: grpc.status.UNIMPLEMENTED }),
    ControlStream: (call: grpc.ServerDuplexStream<Msg, Msg>) => call.end(),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  after(() => server.forceShutdown());
  return { address: `127.0.0.1:${port}`, server, calls };
}

/** A handshake answer as a Rust agent writes it: success, version 2, some capabilities. */
export function plainHandshakeOk(agentId: string, features: Msg = {}): Msg {
  return {
    handshake: {
      protocol_version: 2,
      success: true,
      capabilities: {
        protocol_version: 2,
        agent_id: agentId,
        name: agentId,
        version: '1.0.0',
        supported_events: [1, 2, 3, 4, 5, 6, 7],
        features,
      },
    },
  };
}

/** A copy without proto-loader's synthetic oneof keys of proto3 `optional` fields (`_body: 'body'`). */
export function withoutSynthetic(m: Msg): Msg {
  return Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith('_')));
}

/** A plain client of `address` (cleartext). */
export function plainClient(address: string): InstanceType<typeof AgentServiceV2> {
  const client = new AgentServiceV2(address, grpc.credentials.createInsecure());
  after(() => client.close());
  return client;
}

/** Opens ProcessStream on a plain client and collects what comes back. */
export function plainStream(client: InstanceType<typeof AgentServiceV2>): {
  call: grpc.ClientDuplexStream<Msg, Msg>;
  received: Msg[];
  next(predicate?: (m: Msg) => boolean, timeoutMs?: number): Promise<Msg>;
  status: Promise<grpc.StatusObject>;
} {
  const call = (client as unknown as { ProcessStream(): grpc.ClientDuplexStream<Msg, Msg> }).ProcessStream();
  const received: Msg[] = [];
  const waiters: Array<{ predicate: (m: Msg) => boolean; resolve: (m: Msg) => void }> = [];
  call.on('data', (m: Msg) => {
    received.push(m);
    const at = waiters.findIndex((w) => w.predicate(m));
    if (at >= 0) waiters.splice(at, 1)[0]!.resolve(m);
  });
  call.on('error', () => {});
  // Not events.once: that would reject on the 'error' event a non-OK status also emits.
  const status = new Promise<grpc.StatusObject>((resolve) => call.once('status', resolve));
  return {
    call,
    received,
    status,
    next(predicate = () => true, timeoutMs = 5_000) {
      const seen = received.find(predicate);
      if (seen !== undefined) {
        received.splice(received.indexOf(seen), 1);
        return Promise.resolve(seen);
      }
      return new Promise<Msg>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching message in time')), timeoutMs);
        waiters.push({
          predicate,
          resolve: (m) => {
            clearTimeout(timer);
            received.splice(received.indexOf(m), 1);
            resolve(m);
          },
        });
      });
    },
  };
}

/** Unary ProcessEvent on a plain client. */
export function plainUnary(
  client: InstanceType<typeof AgentServiceV2>,
  msg: Msg,
): Promise<{ error: grpc.ServiceError | null; reply: Msg | undefined }> {
  return new Promise((resolve) => {
    (client as unknown as { ProcessEvent(m: Msg, cb: (e: grpc.ServiceError | null, r?: Msg) => void): void }).ProcessEvent(
      msg,
      (error, reply) => resolve({ error, reply }),
    );
  });
}

/**
 * A plain server whose ProcessStream moves raw bytes (identity (de)serializers, grpc-js only): for
 * sending bytes no protobuf encoder would produce. `onMessage` gets each raw ProxyToAgent.
 */
export async function startRawBytesServer(
  onMessage: (call: grpc.ServerDuplexStream<Buffer, Buffer>, bytes: Buffer) => void,
): Promise<{ address: string }> {
  const raw = (b: Buffer) => b;
  const method = (path: string, requestStream: boolean, responseStream: boolean) => ({
    path: `/zentinel.agent.v2.AgentServiceV2/${path}`,
    requestStream,
    responseStream,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  });
  const server = new grpc.Server();
  server.addService(
    {
      ProcessStream: method('ProcessStream', true, true),
      ProcessEvent: method('ProcessEvent', false, false),
      ControlStream: method('ControlStream', true, true),
    },
    {
      ProcessStream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on('data', (b: Buffer) => onMessage(call, b));
        call.on('error', () => {});
      },
      ProcessEvent: (_c: unknown, cb: grpc.sendUnaryData<Buffer>) => cb({ code: grpc.status.UNIMPLEMENTED }),
      ControlStream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => call.end(),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  after(() => server.forceShutdown());
  return { address: `127.0.0.1:${port}` };
}

/** The plain loader's encoder for one message type of the package (for raw-bytes tests). */
export function plainEncode(type: 'ProxyToAgent' | 'AgentToProxy', msg: Msg): Buffer {
  const t = definition[`zentinel.agent.v2.${type}`] as protoLoader.MessageTypeDefinition<Msg, Msg>;
  return t.serialize(msg);
}

/** The plain loader's decoder. */
export function plainDecode(type: 'ProxyToAgent' | 'AgentToProxy', bytes: Buffer): Msg {
  const t = definition[`zentinel.agent.v2.${type}`] as protoLoader.MessageTypeDefinition<Msg, Msg>;
  return t.deserialize(bytes) as Msg;
}
