// The daemon's event log: every component reports what happened here, `GET /events` reads it.
// Kept in memory (the last MAX events) for `since`/`until` replays, as dockerd does.
import { EventEmitter } from 'events';

export type EventType = 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'builder';

/** A message as `GET /events` sends it (the EventMessage of the Engine API, with the legacy keys). */
export interface EventMessage {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  status?: string;
  id?: string;
  from?: string;
}

const MAX = 1024;

export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly recent: EventMessage[] = [];
  /** timeNano exactly (a double cannot hold it), for since/until and for the wire. */
  private readonly nanos = new WeakMap<EventMessage, bigint>();

  constructor() {
    // One listener per open `/events` stream.
    this.emitter.setMaxListeners(0);
  }

  /** Records an event. Container and image events carry Docker's legacy status/id/from keys. */
  emit(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): EventMessage {
    const nano = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    const msg: EventMessage = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nano / 1_000_000_000n),
      timeNano: Number(nano),
    };
    if (type === 'container' || type === 'image') {
      Object.assign(msg, { status: action, id });
      if (type === 'container' && attributes.image) msg.from = attributes.image;
    }
    this.nanos.set(msg, nano);
    this.recent.push(msg);
    if (this.recent.length > MAX) this.recent.shift();
    this.emitter.emit('event', msg);
    return msg;
  }

  /** Events still remembered, oldest first. */
  history(): readonly EventMessage[] {
    return this.recent;
  }

  nanoOf(msg: EventMessage): bigint {
    return this.nanos.get(msg) ?? BigInt(msg.timeNano);
  }

  /** The message as dockerd encodes it: legacy keys first, timeNano exact. */
  encode(msg: EventMessage): string {
    const { status, id, from, Type, Action, Actor, scope, time } = msg;
    // Go's encoder escapes <, > and & in strings.
    const head = JSON.stringify({ status, id, from, Type, Action, Actor, scope, time }).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
    return `${head.slice(0, -1)},"timeNano":${this.nanoOf(msg)}}`;
  }

  subscribe(fn: (msg: EventMessage) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}
