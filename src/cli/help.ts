// `zap --help` and `zap <command> --help`, printed from the command table (command-table.ts).
import { COMMAND_TABLE, type CommandSpec, type OptionSpec } from './command-table.js';

/** The top-level usage: every command with its summary. */
export function mainUsage(): string {
  const width = Math.max(...COMMAND_TABLE.map((c) => c.name.length));
  const lines = COMMAND_TABLE.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'usage: zap <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    "'zap <command> --help' lists a command's options; 'zap --version' prints the version.",
    '',
  ].join('\n');
}

function optionLabel(name: string, o: OptionSpec): string {
  return o.type === 'boolean' ? `--${name}` : `--${name} ${o.value ?? 'VALUE'}`;
}

function optionHelp(o: OptionSpec): string {
  const notes: string[] = [];
  if (o.choices !== undefined) notes.push(`one of ${o.choices.join(', ')}`);
  if (typeof o.default === 'string') notes.push(`default ${o.default}`);
  if (o.multiple === true) notes.push('repeatable');
  return notes.length === 0 ? o.help : `${o.help} (${notes.join('; ')})`;
}

/** `zap <command> --help`: usage, summary, every option with its default, and examples. */
export function commandHelp(c: CommandSpec): string {
  const rows: Array<[string, string]> = Object.entries(c.options).map(([name, o]) => [optionLabel(name, o), optionHelp(o)]);
  rows.push(['-h, --help', 'print this help']);
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    `usage: zap ${c.usage}`,
    '',
    c.summary,
    '',
    'options:',
    ...rows.map(([label, text]) => `  ${label.padEnd(width)}  ${text}`),
    '',
    c.examples.length === 1 ? 'example:' : 'examples:',
    ...c.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}
