// `docker import`: the config Docker writes for a one-layer image made from a filesystem tarball.
import { BERTH_VERSION } from '../server/app';
import { fullContainerConfig, type ImageContainerConfig } from './config';

/**
 * The config blob, as Docker marshals it: top-level keys sorted (its Image type goes through a
 * map), container configs in Go field order, one history entry whose comment is the message.
 */
export function importConfig(diffId: string, config: ImageContainerConfig, message: string, created: Date): Buffer {
  const time = created.toISOString();
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      comment: message,
      config: fullContainerConfig(config),
      container_config: fullContainerConfig({}),
      created: time,
      docker_version: BERTH_VERSION,
      history: [{ created: time, comment: message }],
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [diffId] },
    }),
  );
}
