// Container events as dockerd logs them: the container's labels, then its image and name.
import type { ContainerRecord } from '../containers/record';
import type { EventBus } from './bus';

export function containerEvent(bus: EventBus, c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
  const attrs: Record<string, string> = { ...c.Config.Labels, image: c.Config.Image, name: c.Name.slice(1), ...extra };
  // Go marshals a map with its keys sorted; the JSON on the wire matches dockerd's.
  const sorted = Object.fromEntries(Object.entries(attrs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  bus.emit('container', action, c.Id, sorted);
}
