// `promtool check metrics` when promtool is installed (Debian: apt-get install prometheus): the
// exposition linter Prometheus itself ships. Tests skip that check where it is absent; the parser in
// prometheus-text.ts still checks the format there.
import { spawnSync } from 'node:child_process';

/** Whether a `promtool` runs here (looked up once). */
export const hasPromtool: boolean = spawnSync('promtool', ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;

/** promtool's findings on `text` (stdout and stderr); '' when it is clean. Throws on a crash or timeout. */
export function promtoolFindings(text: string): string {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  if (r.error !== undefined) throw r.error;
  const findings = `${r.stdout}${r.stderr}`.trim();
  if (r.status !== 0 && findings === '') throw new Error(`promtool exited ${String(r.status)} without findings`);
  return findings;
}
