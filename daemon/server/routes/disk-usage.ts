// GET /system/df (images, containers, volumes, build cache, with sizes).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ContainerRecord } from '../../containers/record';
import type { ImageRecord } from '../../images/store';
import { imageSummary } from '../../images/shapes';
import { dirSize } from '../../util/disk-usage';
import type { VolumeStore } from '../../volumes/store';
import { badRequest } from '../errors';

export interface DiskUsageDeps {
  images(): ImageRecord[];
  containers(): ContainerRecord[];
  /** The container's writable layer on disk. */
  upperDir(c: ContainerRecord): string;
  summarize(c: ContainerRecord): Record<string, unknown>;
  volumes: VolumeStore;
  usedBy(volume: string): string[];
}

const TYPES = ['container', 'image', 'volume', 'build-cache'];

export function registerDiskUsageRoutes(app: FastifyInstance, deps: DiskUsageDeps): void {
  app.get('/system/df', async (req: FastifyRequest<{ Querystring: { type?: string | string[] } }>) => {
    const asked = req.query.type === undefined ? TYPES : ([] as string[]).concat(req.query.type);
    for (const t of asked) if (!TYPES.includes(t)) throw badRequest(`unknown object type: ${t}`);
    const want = (t: string): boolean => asked.includes(t);
    const out: Record<string, unknown> = {};
    const containers = deps.containers();

    if (want('image')) {
      const images = deps.images();
      // A layer is shared when more than one image stacks it.
      const uses = new Map<string, number>();
      const sizes = new Map<string, number>();
      for (const img of images) {
        for (const l of img.layers) {
          uses.set(l.chainId, (uses.get(l.chainId) ?? 0) + 1);
          sizes.set(l.chainId, l.size);
        }
      }
      out.LayersSize = [...sizes.values()].reduce((a, b) => a + b, 0);
      out.Images = images.map((img) => ({
        ...imageSummary(img),
        Containers: containers.filter((c) => c.Image === img.id).length,
        SharedSize: img.layers.filter((l) => (uses.get(l.chainId) ?? 0) > 1).reduce((a, l) => a + l.size, 0),
      }));
    }
    if (want('container')) {
      const imageSize = new Map(deps.images().map((i) => [i.id, i.size]));
      out.Containers = containers.map((c) => {
        const rw = dirSize(deps.upperDir(c));
        return { ...deps.summarize(c), SizeRw: rw, SizeRootFs: rw + (imageSize.get(c.Image) ?? 0) };
      });
    }
    if (want('volume')) {
      out.Volumes = deps.volumes.list().map((v) => ({
        ...deps.volumes.view(v),
        UsageData: { Size: dirSize(deps.volumes.dataDir(v.Name)), RefCount: deps.usedBy(v.Name).length },
      }));
    }
    // The classic builder keeps its cache as images (listed above), as dockerd does: BuildKit's records stay empty.
    if (want('build-cache')) out.BuildCache = [];
    return out;
  });
}
