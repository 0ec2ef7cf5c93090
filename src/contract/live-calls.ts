// Live calls by call id: the router's, and a connection host's (by the ids the router gave them). Ids
// are handed out in sequence and most calls end within a few hundred of their successors, so a call
// lives in the slot `id & mask` of a power-of-two array: a lookup is an index and an id check, where a
// Map hashed the number on every lookup (the router makes four a call: admit, reply id, result,
// settle). A call whose slot is held by an older live call waits in an overflow Map, unless the array
// is at least half full: then it doubles (up to MAX_SLOTS) and every call is placed again. Memory stays
// bounded by the live calls (and the largest array a burst needed, 16 bytes a slot). Each slot's call
// id is kept beside it as well, so get() answers without reading a call that went cold in flight (the
// deadline queue's sweep asks it of every entry).

const INITIAL_SLOTS = 1024;
/** 1 MiB of slots at most; past it, colliding calls go to the overflow Map. */
const MAX_SLOTS = 1 << 17;

export class LiveCalls<C extends { readonly id: number }> {
  private slots: Array<C | undefined> = new Array<C | undefined>(INITIAL_SLOTS).fill(undefined);
  /** The id of the call in each slot; NaN, which equals no id, when empty. */
  private slotIds = new Float64Array(INITIAL_SLOTS).fill(Number.NaN);
  private mask = INITIAL_SLOTS - 1;
  /** Calls whose slot an older live call holds. */
  private readonly overflow = new Map<number, C>();
  size = 0;

  /** Adds a call; its id must not be live already. */
  add(call: C): void {
    const i = call.id & this.mask;
    if (this.slots[i] === undefined) {
      this.slots[i] = call;
      this.slotIds[i] = call.id;
    } else if (this.size * 2 < this.slots.length || this.slots.length >= MAX_SLOTS) this.overflow.set(call.id, call);
    else {
      this.grow();
      return this.add(call);
    }
    this.size++;
  }

  /** The live call with this id, found without reading any call (the slot's id says). */
  get(id: number): C | undefined {
    const i = id & this.mask;
    if (this.slotIds[i] === id) return this.slots[i];
    return this.overflow.size === 0 ? undefined : this.overflow.get(id);
  }

  /** Removes the call with this id; false when none was live. */
  delete(id: number): boolean {
    const i = id & this.mask;
    if (this.slotIds[i] === id) {
      this.slots[i] = undefined;
      this.slotIds[i] = Number.NaN;
    } else if (this.overflow.size === 0 || !this.overflow.delete(id)) return false;
    this.size--;
    return true;
  }

  /** Every live call, oldest (lowest id) first: a snapshot, for drain, removal and host loss, not the call path. */
  values(): C[] {
    return this.filter(() => true);
  }

  /** The live calls `keep` accepts, oldest first (a snapshot; only those are sorted). */
  filter(keep: (call: C) => boolean): C[] {
    const out: C[] = [];
    for (const call of this.overflow.values()) if (keep(call)) out.push(call);
    for (const call of this.slots) if (call !== undefined && keep(call)) out.push(call);
    return out.sort((a, b) => a.id - b.id);
  }

  /** Twice the slots; every call is placed again, overflow included (it may fit now). */
  private grow(): void {
    const calls = this.values();
    this.slots = new Array<C | undefined>(this.slots.length * 2).fill(undefined);
    this.slotIds = new Float64Array(this.slots.length).fill(Number.NaN);
    this.mask = this.slots.length - 1;
    this.overflow.clear();
    this.size = 0;
    for (const call of calls) this.add(call);
  }
}
