// What the builder needs from the rest of the daemon, assembled from the container manager,
// the volumes and the registry client: build containers made as POST /containers/create makes
// them (the image's volumes included), and base images pulled with the client's credentials.
import type { Logger } from 'pino';
import { buildContainer } from '../containers/create';
import type { ContainerManager } from '../containers/manager';
import { generateName } from '../containers/names';
import type { EventBus } from '../events/bus';
import { familiar, parseReference, tagNameOnly } from '../images/reference';
import type { ImageStore } from '../images/store';
import type { AuthConfig } from '../registry/auth';
import type { RegistryConfig } from '../registry/endpoints';
import type { BlobOrigins } from '../registry/origins';
import { pullError, pullImage } from '../registry/pull';
import type { ContainerMounts } from '../volumes/container-mounts';
import type { BuildContainers } from './builder';

export function buildContainers(d: { images: ImageStore; containers: ContainerManager; mounts: ContainerMounts; containerDir(id: string): string }): BuildContainers {
  return {
    create: (body) => {
      const img = typeof body.Image === 'string' && body.Image ? d.images.get(body.Image) : undefined;
      const record = buildContainer(body, generateName((n) => d.containers.nameTaken(n)), { id: img?.id ?? '', config: img?.config.config ?? {} });
      record.MountPoints = d.mounts.plan(record, d.images.layerDirs(record.Image), (ref) => d.containers.find(ref));
      const made = d.mounts.materialize(record.MountPoints);
      try {
        d.containers.add(record);
      } catch (e) {
        d.mounts.undo(made);
        throw e;
      }
      return record;
    },
    start: (c) => d.containers.start(c),
    listen: (c, l) => d.containers.listen(c, l),
    wait: (c) => d.containers.wait(c, 'not-running'),
    remove: (c) => d.containers.remove(c, { force: true, volumes: true }),
    upperDir: (c) => `${d.containerDir(c.Id)}/rw/upper`,
  };
}

/** X-Registry-Config: base64url JSON of registry -> credentials; the entry for the image's registry. */
function authFor(header: string | undefined, domain: string): AuthConfig {
  if (!header) return {};
  let all: Record<string, AuthConfig>;
  try {
    all = JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as Record<string, AuthConfig>;
  } catch {
    return {};
  }
  const host = (key: string): string => key.replace(/^https?:\/\//, '').split('/')[0];
  const want = domain === 'docker.io' ? ['index.docker.io', 'docker.io', 'registry-1.docker.io'] : [domain];
  const key = Object.keys(all ?? {}).find((k) => want.includes(host(k)));
  return key ? all[key] : {};
}

export function pullForBuild(d: { images: ImageStore; log: Logger; events: EventBus; registry: RegistryConfig; origins: BlobOrigins }) {
  return async (name: string, authHeader: string | undefined, emit: (m: Record<string, unknown>) => void): Promise<void> => {
    const ref = tagNameOnly(parseReference(name));
    try {
      const result = await pullImage({ ref, auth: authFor(authHeader, ref.domain), registry: d.registry, store: d.images, origins: d.origins, log: d.log, emit });
      emit({ status: `Digest: ${result.digest}` });
      emit({ status: `Status: Downloaded newer image for ${familiar(ref)}` });
      d.events.emit('image', 'pull', familiar(ref), { name: familiar(ref) });
    } catch (e) {
      throw pullError(e, ref);
    }
  };
}
