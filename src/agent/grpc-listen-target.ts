// Whether an AgentServer listen endpoint is a gRPC one. Apart from the listener so that AgentServer
// can tell without loading grpc-js (the listener loads on the first gRPC listen).
import { parseEndpoint } from '../transport/endpoint.js';

/** A gRPC endpoint to listen on (spec §10.13 forms), or undefined for anything else (UDS, invalid). */
export function grpcListenTarget(endpoint: string, tls: boolean): { address: string; tls: boolean } | undefined {
  let parsed;
  try {
    parsed = parseEndpoint(endpoint, { tls });
  } catch {
    return undefined;
  }
  return parsed.transport === 'grpc' ? { address: parsed.address, tls: parsed.tls } : undefined;
}
