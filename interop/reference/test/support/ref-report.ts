// The JSON line ref-proxy prints in check mode (see interop/reference/src/check.rs), in the crate's
// own serde forms: a decision is "allow" or {"block": {...}}, a header op {"set": {name, value}}.
export interface RefAnswer {
  response?: {
    version: number;
    decision: unknown;
    request_headers: unknown[];
    response_headers: unknown[];
    audit: { tags: string[]; rule_ids: string[]; reason_codes: string[]; custom: Record<string, unknown> };
  };
  error?: string;
}

export interface RefRequest {
  cid: string;
  uri: string;
  headers: RefAnswer;
  body_chunk?: RefAnswer;
  response_headers?: RefAnswer;
  cancel?: { ok: boolean; error: string | null };
}

export interface RefCheckReport {
  mode: 'check';
  transport: 'uds' | 'grpc' | 'reverse';
  crate_version: string;
  encoding: 'json' | 'msgpack' | null;
  capabilities: { agent_id: string; name: string; supported_events: unknown[] } | null;
  requests: RefRequest[];
  after_cancels: RefAnswer;
}

/** Request i of the check: every fourth goes to /blocked/i, every fifth allowed one is cancelled. */
export const refUri = (i: number) => (i % 4 === 3 ? `/blocked/${i}` : `/item/${i}`);
export const refCancelled = (i: number) => i % 5 === 4;
