// The config of an image a build step commits (Docker's NewChildImage: keys sorted, the step's
// run config as container_config, one history entry) and the build cache's comparison of run
// configs (Docker's image/cache compare).
import { BERTH_VERSION } from '../server/app';
import { EMPTY_TAR_DIFF_ID } from '../images/commit';
import { fullContainerConfig, type ImageContainerConfig, type OciImageConfig } from '../images/config';
import { hostPlatform } from '../registry/manifest';

export interface StepCommit {
  /** The image's config (the builder's run config). */
  config: ImageContainerConfig;
  /** What the step ran or recorded: its Cmd becomes the history's created_by. */
  containerConfig: ImageContainerConfig;
  /** The step's container ('' for COPY and ADD, which need none). */
  containerId: string;
  author: string;
}

export function stepConfig(parent: OciImageConfig | undefined, step: StepCommit, diffId: string, now: Date): Buffer {
  const empty = diffId === EMPTY_TAR_DIFF_ID;
  const created = now.toISOString();
  const platform = hostPlatform();
  const history = [
    ...(parent?.history ?? []),
    {
      created,
      ...(step.author ? { author: step.author } : {}),
      created_by: (step.containerConfig.Cmd ?? []).join(' '),
      ...(empty ? { empty_layer: true } : {}),
    },
  ];
  return Buffer.from(
    JSON.stringify({
      architecture: parent?.architecture || platform.architecture,
      ...(step.author ? { author: step.author } : {}),
      config: fullContainerConfig(step.config),
      ...(step.containerId ? { container: step.containerId } : {}),
      container_config: fullContainerConfig(step.containerConfig),
      created,
      docker_version: BERTH_VERSION,
      history,
      os: parent?.os || 'linux',
      rootfs: { type: 'layers', diff_ids: [...(parent?.rootfs.diff_ids ?? []), ...(empty ? [] : [diffId])] },
      ...((parent?.variant ?? platform.variant) ? { variant: parent?.variant ?? platform.variant } : {}),
    }),
  );
}

/** The fields Docker's cache compares, in a form where equal configs give equal strings. */
function cacheKey(c: ImageContainerConfig): string {
  const sortedKeys = (o: Record<string, unknown> | null | undefined): string[] => Object.keys(o ?? {}).sort();
  return JSON.stringify([
    c.Env ?? [],
    c.Cmd ?? [],
    c.Entrypoint ?? [],
    c.Shell ?? [],
    sortedKeys(c.ExposedPorts),
    sortedKeys(c.Volumes),
    sortedKeys(c.Labels).map((k) => [k, c.Labels?.[k]]),
    c.OnBuild ?? [],
    !!c.AttachStdin,
    !!c.AttachStdout,
    !!c.AttachStderr,
    !!c.NetworkDisabled,
    !!c.Tty,
    !!c.OpenStdin,
    !!c.StdinOnce,
    !!c.ArgsEscaped,
    c.User ?? '',
    c.WorkingDir ?? '',
    c.StopSignal ?? '',
    c.StopTimeout ?? null,
    c.Healthcheck ? [c.Healthcheck.Test ?? [], c.Healthcheck.Interval ?? 0, c.Healthcheck.Timeout ?? 0, c.Healthcheck.StartPeriod ?? 0, c.Healthcheck.Retries ?? 0] : null,
  ]);
}

export function sameRunConfig(a: ImageContainerConfig | undefined, b: ImageContainerConfig): boolean {
  return a !== undefined && cacheKey(a) === cacheKey(b);
}
