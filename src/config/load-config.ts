// loadConfig: KDL text → typed ZapConfig (spec §13), or ZAP_INVALID_CONFIG `<file>:<line>: <what>`.
import { readFile } from 'node:fs/promises';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { globMatch } from '../protocol/registration.js';
import { configError, configLocation } from './config-error.js';
import type { ZapConfig } from './config-types.js';
import { TOP_BLOCK, type DocumentDraft } from './document-schema.js';
import { resolveGateway } from './gateway-references.js';
import { parseKdl } from './kdl-document.js';
import { readBlock, type LoadContext } from './schema-kit.js';

/** Parses and validates a configuration; `fileName` is only used in messages. */
export function loadConfig(text: string, fileName: string): ZapConfig {
  const nodes = parseKdl(text, fileName);
  const cx: LoadContext = { file: fileName, where: 'the top level', warnings: [] };
  const doc: DocumentDraft = { agents: [], agentLines: new Map(), reverseLines: new Map() };
  readBlock(TOP_BLOCK, nodes, doc, cx);
  const listener = doc.reverseListener;
  for (const [id, line] of doc.reverseLines) {
    if (listener === undefined) {
      throw configError(fileName, line, `agent "${id}" uses the reverse transport but there is no reverse-listener block`);
    }
    // Not an error (the listener also serves agents it has no block for), but this one would be refused.
    const allowed = listener.allowedAgents;
    if (allowed.length > 0 && !allowed.some((p) => p === id || globMatch(p, id))) {
      cx.warnings.push(
        `${configLocation(fileName, line)}: reverse agent "${id}" does not match reverse-listener ` +
          `allowed-agents, so its registrations will be refused`,
      );
    }
  }
  const config: ZapConfig = { file: fileName, agents: doc.agents, warnings: cx.warnings };
  if (doc.reverseListener !== undefined) config.reverseListener = doc.reverseListener;
  if (doc.gateway !== undefined) config.gateway = resolveGateway(doc.gateway, doc.agentLines, fileName);
  return config;
}

/** Reads `path` and loads it; messages name the path as given. */
export async function loadConfigFile(path: string): Promise<ZapConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw zapError(ErrorCode.InvalidConfig, `${path}: cannot read the file (${code ?? String(err)})`, { cause: err });
  }
  return loadConfig(text, path);
}
