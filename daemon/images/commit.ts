// `docker commit`: the config of an image made from a container's changes on top of its image,
// as Docker writes it (keys sorted, a history entry; an empty diff adds no layer).
import { BERTH_VERSION } from '../server/app';
import { applyChanges } from './changes';
import { fullContainerConfig, type ImageContainerConfig, type OciImageConfig } from './config';

/** sha256 of an empty tar (two zero blocks): a commit without changes. */
export const EMPTY_TAR_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface CommitRequest {
  containerId: string;
  /** The container's Config. */
  containerConfig: ImageContainerConfig;
  /** The Config sent with the request, if any. */
  config: ImageContainerConfig | null;
  changes: string[];
  author: string;
  comment: string;
}

/** Docker's merge(userConf, imageConf): what the user's config leaves unset comes from the container. */
function merge(user: ImageContainerConfig, from: ImageContainerConfig): ImageContainerConfig {
  const c = { ...user };
  c.User ||= from.User;
  if (from.ExposedPorts) c.ExposedPorts = { ...from.ExposedPorts, ...c.ExposedPorts };
  if (!c.Env?.length) c.Env = from.Env;
  else {
    const keys = new Set(c.Env.map((e) => e.split('=')[0]));
    c.Env = [...c.Env, ...(from.Env ?? []).filter((e) => !keys.has(e.split('=')[0]))];
  }
  if (from.Labels) c.Labels = { ...from.Labels, ...c.Labels };
  if (!c.Entrypoint?.length) {
    if (!c.Cmd?.length) c.Cmd = from.Cmd;
    if (c.Entrypoint === undefined || c.Entrypoint === null) c.Entrypoint = from.Entrypoint;
  }
  c.WorkingDir ||= from.WorkingDir;
  if (from.Volumes) c.Volumes = { ...from.Volumes, ...c.Volumes };
  c.StopSignal ||= from.StopSignal;
  c.Healthcheck ??= from.Healthcheck;
  c.Shell ??= from.Shell;
  c.OnBuild ??= from.OnBuild;
  return c;
}

/** The new image's config bytes; `diffId` of the container's changes (EMPTY_TAR_DIFF_ID for none). */
export function commitConfig(parent: OciImageConfig | undefined, req: CommitRequest, diffId: string, now: Date): Buffer {
  const config = merge(applyChanges(req.config ?? req.containerConfig, req.changes), req.containerConfig);
  const empty = diffId === EMPTY_TAR_DIFF_ID;
  const created = now.toISOString();
  const history = [
    ...(parent?.history ?? []),
    {
      created,
      ...(req.author ? { author: req.author } : {}),
      created_by: (req.containerConfig.Cmd ?? []).join(' '),
      ...(req.comment ? { comment: req.comment } : {}),
      ...(empty ? { empty_layer: true } : {}),
    },
  ];
  return Buffer.from(
    JSON.stringify({
      architecture: parent?.architecture || 'amd64',
      ...(req.author ? { author: req.author } : {}),
      ...(req.comment ? { comment: req.comment } : {}),
      config: fullContainerConfig(config),
      container: req.containerId,
      container_config: fullContainerConfig(req.containerConfig),
      created,
      docker_version: BERTH_VERSION,
      history,
      os: parent?.os || 'linux',
      rootfs: { type: 'layers', diff_ids: [...(parent?.rootfs.diff_ids ?? []), ...(empty ? [] : [diffId])] },
      ...(parent?.variant ? { variant: parent.variant } : {}),
    }),
  );
}
