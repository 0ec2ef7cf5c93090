// Control frames an agent sends right behind its handshake reply (often in the same write) are
// decoded before the connection's owner has attached its listeners: the handshake resolves, the
// same push() decodes the next frame, and an EventEmitter with no listener drops it. So a control
// event with nobody listening yet is held, in order, and delivered just after the first listener
// for it is attached (a microtask later, when the owner's synchronous set-up — e.g. reporting the
// connection ready — is done). Bounded: a connection whose owner never listens drops the excess.
import type { EventEmitter } from 'node:events';
import type { ConfigUpdateRequest, FlowControlSignal, HealthStatus, MetricsReport } from '../protocol/types.js';

export interface ControlEvents {
  health: [HealthStatus];
  metrics: [MetricsReport];
  'config-update': [ConfigUpdateRequest];
  'flow-control': [FlowControlSignal];
}

type ControlEvent = keyof ControlEvents;
type Held = { [K in ControlEvent]: { event: K; value: ControlEvents[K][0] } }[ControlEvent];

/** Events held per connection before the owner listens; beyond this they are dropped (and counted). */
export const MAX_HELD_CONTROL_EVENTS = 16;

const CONTROL_EVENTS: ReadonlySet<string> = new Set<ControlEvent>(['health', 'metrics', 'config-update', 'flow-control']);

export class HeldControlEvents {
  readonly #emitter: EventEmitter;
  #held: Held[] = [];
  /** Events that have had a listener: emitted directly once nothing of theirs is held any more. */
  readonly #listened = new Set<ControlEvent>();
  /** Held events dropped because the hold was full. */
  dropped = 0;

  /** `emitter`: the connection, an EventEmitter whose events include ControlEvents. */
  constructor(emitter: EventEmitter) {
    this.#emitter = emitter;
    this.#emitter.on('newListener', (event: string | symbol) => {
      if (typeof event !== 'string' || !CONTROL_EVENTS.has(event) || this.#listened.has(event as ControlEvent)) return;
      this.#listened.add(event as ControlEvent);
      // 'newListener' fires before the listener is added; deliver once the owner's set-up is done.
      if (this.#pending(event)) queueMicrotask(() => this.#release(event as ControlEvent));
    });
  }

  emit<K extends ControlEvent>(event: K, value: ControlEvents[K][0]): void {
    const listened = this.#listened.has(event) || this.#emitter.listenerCount(event) > 0;
    if (listened && !this.#pending(event)) {
      this.#emitter.emit(event, value);
      return;
    }
    // Behind held ones of the same kind, in order. Once the owner listens their release is one
    // microtask away, so those are kept whatever the count; only a hold nobody listens to is capped.
    if (!listened && this.#held.length >= MAX_HELD_CONTROL_EVENTS) {
      this.dropped++;
      return;
    }
    this.#held.push({ event, value } as Held);
  }

  #pending(event: string): boolean {
    return this.#held.some((h) => h.event === event);
  }

  #release(event: ControlEvent): void {
    const mine = this.#held.filter((h) => h.event === event);
    this.#held = this.#held.filter((h) => h.event !== event);
    for (const h of mine) this.#emitter.emit(h.event, h.value);
  }
}
