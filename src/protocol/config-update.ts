// ConfigUpdateRequest / ConfigUpdateResponse (spec §7.6, D9). `update_type` is internally tagged by
// `type` (the only form any peer uses). The response is never transmitted on UDS/reverse; its wire
// shape exists for logging and for gRPC.
import type { ConfigUpdateRequest, ConfigUpdateResponse, ConfigUpdateType, RuleDefinition } from './types.js';
import { protocolError } from './errors.js';
import { quotedPeerText } from './peer-text.js';
import {
  asStruct,
  boolOr,
  describe,
  intOr,
  isAbsent,
  optString,
  reqString,
  stringArrayOr,
  stringOr,
  type WireStruct,
} from './wire-reader.js';

const REQ = 'ConfigUpdateRequest';
const RES = 'ConfigUpdateResponse';
const REQUEST_KEYS = ['update_type', 'request_id', 'timestamp_ms'] as const;
const RESPONSE_KEYS = ['request_id', 'accepted', 'error', 'timestamp_ms'] as const;
const RULE_KEYS = ['id', 'priority', 'definition', 'enabled', 'description', 'tags'] as const;

function ruleToWire(r: RuleDefinition): Record<string, unknown> {
  return {
    id: r.id,
    priority: r.priority,
    definition: r.definition ?? null,
    enabled: r.enabled,
    description: r.description,
    tags: r.tags,
  };
}

function updateTypeToWire(u: ConfigUpdateType): Record<string, unknown> {
  switch (u.type) {
    case 'request_reload':
      return { type: 'request_reload' };
    case 'rule_update':
      return { type: 'rule_update', rule_set: u.ruleSet, rules: u.rules.map(ruleToWire), remove_rules: u.removeRules };
    case 'list_update':
      return { type: 'list_update', list_id: u.listId, add: u.add, remove: u.remove };
    case 'restart_required':
      return { type: 'restart_required', reason: u.reason, grace_period_ms: u.gracePeriodMs };
    case 'config_error':
      return { type: 'config_error', error: u.error, field: u.field };
  }
}

export function configUpdateRequestToWire(r: ConfigUpdateRequest): Record<string, unknown> {
  return { update_type: updateTypeToWire(r.updateType), request_id: r.requestId, timestamp_ms: r.timestampMs };
}

function ruleFromWire(v: unknown, what: string): RuleDefinition {
  const s = asStruct(v, RULE_KEYS, what);
  return {
    id: reqString(s, 'id', what),
    priority: intOr(s, 'priority', what, 0),
    definition: s['definition'] ?? null,
    enabled: boolOr(s, 'enabled', what, true),
    description: optString(s, 'description', what),
    tags: stringArrayOr(s, 'tags', what),
  };
}

function rulesFromWire(s: WireStruct, what: string): RuleDefinition[] {
  const v = s['rules'];
  if (isAbsent(v)) return [];
  if (!Array.isArray(v)) throw protocolError(`${what}: key 'rules' must be an array, got ${describe(v)}`);
  return v.map((r, i) => ruleFromWire(r, `${what}.rules[${i}]`));
}

function updateTypeFromWire(v: unknown): ConfigUpdateType {
  const what = `${REQ}.update_type`;
  const s = asStruct(v, [], what);
  const type = reqString(s, 'type', what);
  switch (type) {
    case 'request_reload':
      return { type };
    case 'rule_update':
      return {
        type,
        ruleSet: stringOr(s, 'rule_set', what, ''),
        rules: rulesFromWire(s, what),
        removeRules: stringArrayOr(s, 'remove_rules', what),
      };
    case 'list_update':
      return {
        type,
        listId: stringOr(s, 'list_id', what, ''),
        add: stringArrayOr(s, 'add', what),
        remove: stringArrayOr(s, 'remove', what),
      };
    case 'restart_required':
      return { type, reason: stringOr(s, 'reason', what, ''), gracePeriodMs: intOr(s, 'grace_period_ms', what, 0) };
    case 'config_error':
      return { type, error: stringOr(s, 'error', what, ''), field: optString(s, 'field', what) };
    default:
      throw protocolError(`${what}: unknown type ${quotedPeerText(type)}`);
  }
}

export function configUpdateRequestFromWire(v: unknown): ConfigUpdateRequest {
  const s = asStruct(v, REQUEST_KEYS, REQ);
  return {
    updateType: updateTypeFromWire(s['update_type']),
    requestId: reqString(s, 'request_id', REQ),
    timestampMs: intOr(s, 'timestamp_ms', REQ, 0),
  };
}

export function configUpdateResponseToWire(r: ConfigUpdateResponse): Record<string, unknown> {
  return { request_id: r.requestId, accepted: r.accepted, error: r.error, timestamp_ms: r.timestampMs };
}

export function configUpdateResponseFromWire(v: unknown): ConfigUpdateResponse {
  const s = asStruct(v, RESPONSE_KEYS, RES);
  return {
    requestId: reqString(s, 'request_id', RES),
    accepted: boolOr(s, 'accepted', RES, false),
    error: optString(s, 'error', RES),
    timestampMs: intOr(s, 'timestamp_ms', RES, 0),
  };
}

/** §7.6 rules when no `onConfigUpdate` callback is installed. */
export function defaultConfigUpdateDecision(r: ConfigUpdateRequest): { accepted: boolean; error: string | null } {
  switch (r.updateType.type) {
    case 'rule_update':
      return { accepted: false, error: 'Rule updates not supported' };
    case 'list_update':
      return { accepted: false, error: 'List updates not supported' };
    case 'request_reload':
    case 'restart_required':
    case 'config_error':
      return { accepted: true, error: null };
  }
}
