// The pool's reverse listeners (spec §9): each runs on one connection host, chosen in turn; its
// settings are kept so that the successor of a dead worker starts it again. The host's reverse-*
// reports land here: listen/stop outcomes settle their waiter, registrations join an entry
// (reverse-entries.ts) and, like refusals, reach the pool's events through the sink.
import { AgentPoolError } from '../protocol/errors.js';
import type { HostHandle, HostReport, ReverseListenerSettings, ReverseRegisteredReport } from '../contract/host-messages.js';
import type { HostSet } from './host-set.js';
import type { AgentConnectionOptions } from './pool-config.js';
import type { ReverseEntries } from './reverse-entries.js';
import { resolveReverseSettings, type ReverseListenOptions } from './reverse-settings.js';

export interface ReverseListenerHandle {
  readonly path?: string;
  /** The bound `host:port` (the real port when 0 was asked for). */
  readonly tcpAddress?: string;
  close(): Promise<void>;
}

export interface ReverseListenersSink {
  registered(report: ReverseRegisteredReport): void;
  refused(agentId: string | null, error: string): void;
}

/** The host reports this unit takes (onReport). */
export type ReverseHostReport = Extract<
  HostReport,
  { type: 'reverse-listening' | 'reverse-listen-failed' | 'reverse-stopped' | 'reverse-refused' | 'reverse-registered' }
>;

/** How long close() waits for a host to confirm a listener stopped. */
const STOP_WAIT_MS = 2_000;

interface Listener {
  hostIndex: number;
  settings: ReverseListenerSettings;
  /** Waiter for the host's next outcome report (listening / failed / stopped). */
  settle?: (report: HostReport) => void;
}

export class ReverseListeners {
  private readonly listeners = new Map<number, Listener>();
  private nextListenerId = 1;

  constructor(
    private readonly hosts: HostSet,
    private readonly entries: ReverseEntries,
    private readonly base: AgentConnectionOptions,
    private readonly sink: ReverseListenersSink,
  ) {}

  /** Starts a listener on the next host; rejects with the host's typed error when it cannot bind. */
  async listen(options: ReverseListenOptions): Promise<ReverseListenerHandle> {
    const settings = resolveReverseSettings(options, this.base);
    const listenerId = this.nextListenerId++;
    const hostIndex = this.hosts.nextIndex();
    const outcome = new Promise<HostReport>((resolve) => this.listeners.set(listenerId, { hostIndex, settings, settle: resolve }));
    this.hosts.at(hostIndex).command({ type: 'listen-reverse', listenerId, settings });
    const report = await outcome;
    if (report.type === 'reverse-listen-failed') {
      this.listeners.delete(listenerId);
      throw AgentPoolError.fromSerialized(report.error);
    }
    const bound = report as Extract<HostReport, { type: 'reverse-listening' }>;
    return {
      ...(bound.path === undefined ? {} : { path: bound.path }),
      ...(bound.tcpAddress === undefined ? {} : { tcpAddress: bound.tcpAddress }),
      close: () => this.stop(listenerId),
    };
  }

  /** Closes every listener (connections already admitted stay). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((id) => this.stop(id)));
  }

  /** The successor of dead worker `hostIndex` starts the listeners its predecessor ran. */
  relisten(hostIndex: number, successor: HostHandle): void {
    for (const [listenerId, l] of this.listeners) {
      if (l.hostIndex === hostIndex) successor.command({ type: 'listen-reverse', listenerId, settings: l.settings });
    }
  }

  /** Takes the reverse-* reports of host `hostIndex`; false for any other report. */
  onReport(hostIndex: number, report: HostReport): report is ReverseHostReport {
    switch (report.type) {
      case 'reverse-listening':
      case 'reverse-listen-failed':
      case 'reverse-stopped': {
        const entry = this.listeners.get(report.listenerId);
        const settle = entry?.settle;
        if (entry !== undefined) delete entry.settle;
        settle?.(report);
        return true;
      }
      case 'reverse-refused':
        this.sink.refused(report.agentId, report.error);
        return true;
      case 'reverse-registered': {
        const allowUndeclared = this.listeners.get(report.listenerId)?.settings.allowUndeclaredAgents ?? false;
        const record = this.entries.registered(report, this.hosts.at(hostIndex), hostIndex, allowUndeclared);
        if (record !== undefined) this.sink.registered(report);
        return true;
      }
      default:
        return false;
    }
  }

  private async stop(listenerId: number): Promise<void> {
    const entry = this.listeners.get(listenerId);
    if (entry === undefined) return;
    const stopped = new Promise<HostReport>((resolve) => (entry.settle = resolve));
    this.hosts.at(entry.hostIndex).command({ type: 'stop-reverse', listenerId });
    await Promise.race([stopped, new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
    this.listeners.delete(listenerId);
  }
}
