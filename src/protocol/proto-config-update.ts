// gRPC mapping of ConfigUpdateRequest (spec §7.6: oneof `update_type`, fields 10–14) and of
// ConfigUpdateResponse (ProxyControl.config_response; not transmitted until §14.2 is decided),
// both directions. A rule's `definition` (any JSON) travels as the text `definition_json`.
import type { ConfigUpdateRequest, ConfigUpdateResponse, ConfigUpdateType, RuleDefinition } from './types.js';
import type { PbAgentToProxy, PbConfigUpdateRequest, PbConfigUpdateResponse, PbProxyControl, PbRuleDefinition } from './proto-messages.js';
import { protocolError } from './errors.js';
import { jsonText, listOf, num, optStr, parseJsonText, str } from './proto-values.js';
import { quotedPeerText } from './peer-text.js';

function ruleToProto(r: RuleDefinition): PbRuleDefinition {
  return {
    id: r.id || undefined,
    priority: r.priority || undefined,
    definition_json: jsonText(r.definition),
    enabled: r.enabled || undefined,
    description: r.description,
    tags: r.tags,
  };
}

export function configUpdateToProto(r: ConfigUpdateRequest): PbAgentToProxy {
  const u: ConfigUpdateType = r.updateType;
  const msg: PbConfigUpdateRequest = {
    request_id: r.requestId || undefined,
    timestamp_ms: r.timestampMs || undefined,
    request_reload: u.type === 'request_reload' ? {} : undefined,
    rule_update:
      u.type === 'rule_update'
        ? { rule_set: u.ruleSet || undefined, rules: u.rules.map(ruleToProto), remove_rules: u.removeRules }
        : undefined,
    list_update: u.type === 'list_update' ? { list_id: u.listId || undefined, add: u.add, remove: u.remove } : undefined,
    restart_required:
      u.type === 'restart_required' ? { reason: u.reason || undefined, grace_period_ms: u.gracePeriodMs || undefined } : undefined,
    config_error: u.type === 'config_error' ? { error: u.error || undefined, field: u.field } : undefined,
  };
  return { config_update: msg };
}

/** `definition_json` '' reads as null; bad JSON → ZAP_PROTOCOL_ERROR. */
function ruleFromProto(p: PbRuleDefinition): RuleDefinition {
  return {
    id: str(p.id),
    priority: num(p.priority),
    definition: parseJsonText(p.definition_json, `RuleDefinition ${quotedPeerText(str(p.id))}.definition_json`, null),
    enabled: p.enabled === true,
    description: optStr(p.description),
    tags: listOf(p.tags),
  };
}

function updateTypeFromProto(p: PbConfigUpdateRequest): ConfigUpdateType {
  // `update_type` is the oneof key proto-loader adds; without it, look for the member that is set.
  const which =
    p.update_type ??
    (p.request_reload
      ? 'request_reload'
      : p.rule_update
        ? 'rule_update'
        : p.list_update
          ? 'list_update'
          : p.restart_required
            ? 'restart_required'
            : p.config_error
              ? 'config_error'
              : undefined);
  switch (which) {
    case 'request_reload':
      return { type: 'request_reload' };
    case 'rule_update': {
      const u = p.rule_update ?? {};
      return {
        type: 'rule_update',
        ruleSet: str(u.rule_set),
        rules: listOf(u.rules).map(ruleFromProto),
        removeRules: listOf(u.remove_rules),
      };
    }
    case 'list_update': {
      const u = p.list_update ?? {};
      return { type: 'list_update', listId: str(u.list_id), add: listOf(u.add), remove: listOf(u.remove) };
    }
    case 'restart_required': {
      const u = p.restart_required ?? {};
      return { type: 'restart_required', reason: str(u.reason), gracePeriodMs: num(u.grace_period_ms) };
    }
    case 'config_error': {
      const u = p.config_error ?? {};
      return { type: 'config_error', error: str(u.error), field: optStr(u.field) };
    }
    default:
      throw protocolError('ConfigUpdateRequest: no update_type set');
  }
}

/** No update_type set, or a bad rule definition → ZAP_PROTOCOL_ERROR (log and drop, §2.2 step 6). */
export function configUpdateFromProto(p: PbConfigUpdateRequest): ConfigUpdateRequest {
  return { updateType: updateTypeFromProto(p), requestId: str(p.request_id), timestampMs: num(p.timestamp_ms) };
}

/** As ProxyControl.config_response (the only envelope the schema has for it). */
export function configUpdateResponseToProto(r: ConfigUpdateResponse): PbProxyControl {
  const msg: PbConfigUpdateResponse = {
    request_id: r.requestId || undefined,
    accepted: r.accepted || undefined,
    error: r.error,
    timestamp_ms: r.timestampMs || undefined,
  };
  return { config_response: msg };
}

export function configUpdateResponseFromProto(p: PbConfigUpdateResponse): ConfigUpdateResponse {
  return {
    requestId: str(p.request_id),
    accepted: p.accepted === true,
    error: optStr(p.error),
    timestampMs: num(p.timestamp_ms),
  };
}
