// Volume commands (create, ls, rm, prune) and the disk-usage ones (system df, system prune),
// printing what the docker CLI prints.

import { joinErrors, println, StatusError, type Cli } from '../cli';
import { CONTAINER_HEADERS, FormatError, IMAGE_HEADERS, containerContext, imageContexts, makeContext, renderRows, type ContainerSummary, type ImageSummary, type RowContext } from '../format/context';
import { humanSize } from '../format/size';
import { kvToMap, parseFilters } from '../opts';

export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Scope: string;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

const VOLUME_HEADERS: Record<string, string> = {
  Name: 'VOLUME NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Group: 'GROUP',
  Availability: 'AVAILABILITY',
  Status: 'STATUS',
};

/** The docker CLI's volumeContext. */
function volumeContext(v: Volume): RowContext {
  return makeContext('*formatter.volumeContext', {
    Name: () => v.Name,
    Driver: () => v.Driver,
    Scope: () => v.Scope,
    Mountpoint: () => v.Mountpoint,
    Labels: () =>
      Object.entries(v.Labels ?? {})
        .map(([k, val]) => `${k}=${val}`)
        .sort()
        .join(','),
    Label: (name: string) => v.Labels?.[name] ?? '',
    Links: () => (v.UsageData ? String(v.UsageData.RefCount) : 'N/A'),
    Size: () => (v.UsageData && v.UsageData.Size !== -1 ? humanSize(v.UsageData.Size) : 'N/A'),
    Group: () => 'N/A',
    Availability: () => 'N/A',
    Status: () => 'N/A',
  });
}

function render(cli: Cli, format: string, rows: RowContext[], headers: Record<string, string>): void {
  try {
    cli.out.write(renderRows(format, rows, headers));
  } catch (e) {
    if (e instanceof FormatError) throw new StatusError(64, e.message);
    throw e;
  }
}

/** sortorder.NaturalLess, as the docker CLI orders volume names. */
const natural = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

export async function volumeCreateCommand(cli: Cli, name: string | undefined, flags: { driver?: string; label?: string[]; opt?: string[]; name?: string }): Promise<void> {
  if (name && flags.name && name !== flags.name) throw new Error(`conflicting options: cannot specify a volume-name through both --name and as a positional arg`);
  const v = await cli.api.json<Volume>('POST', '/volumes/create', {
    body: { Name: name ?? flags.name ?? '', Driver: flags.driver ?? 'local', DriverOpts: kvToMap(flags.opt ?? []), Labels: kvToMap(flags.label ?? []) },
  });
  println(cli.out, v.Name);
}

export async function volumeLsCommand(cli: Cli, flags: { quiet?: boolean; format?: string; filter?: string[] }): Promise<void> {
  const res = await cli.api.json<{ Volumes: Volume[] | null }>('GET', '/volumes', { query: { filters: parseFilters(flags.filter ?? []) } });
  const list = [...(res.Volumes ?? [])].sort((a, b) => natural(a.Name, b.Name));
  let format = flags.format || 'table';
  if (flags.quiet) format = format === 'table' || !flags.format ? '{{.Name}}' : format;
  if (format === 'table') format = 'table {{.Driver}}\t{{.Name}}';
  render(cli, format, list.map(volumeContext), VOLUME_HEADERS);
}

export async function volumeRmCommand(cli: Cli, names: string[], flags: { force?: boolean }): Promise<void> {
  const errors: Error[] = [];
  for (const name of names) {
    try {
      const r = await cli.api.request('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: flags.force || undefined } });
      await r.body.text();
      println(cli.out, name);
    } catch (e) {
      errors.push(e as Error);
    }
  }
  joinErrors(errors);
}

/** Reads the answer to a [y/N] prompt; anything but y or Y declines. */
export async function confirm(cli: Cli, message: string): Promise<boolean> {
  cli.out.write(`${message}\nAre you sure you want to continue? [y/N] `);
  const answer = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (d: Buffer | string): void => {
      buf += d.toString();
      if (buf.includes('\n')) finish();
    };
    const finish = (): void => {
      cli.in.off('data', onData);
      cli.in.off('end', finish);
      cli.in.pause();
      resolve(buf.split('\n')[0].trim());
    };
    cli.in.on('data', onData);
    cli.in.on('end', finish);
    cli.in.resume();
  });
  return answer === 'y' || answer === 'Y';
}

interface PruneFlags {
  force?: boolean;
  all?: boolean;
  filter?: string[];
}

async function pruneVolumes(cli: Cli, flags: PruneFlags): Promise<{ reclaimed: number; output: string }> {
  const filterArgs = [...(flags.filter ?? [])];
  if (flags.all) {
    if (filterArgs.some((f) => f.startsWith('all='))) throw new Error('conflicting options: cannot specify both --all and --filter all=1');
    filterArgs.push('all=true');
  }
  const r = await cli.api.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters: parseFilters(filterArgs) } });
  const deleted = r.VolumesDeleted ?? [];
  return { reclaimed: r.SpaceReclaimed, output: deleted.length ? `Deleted Volumes:\n${deleted.map((d) => d + '\n').join('')}` : '' };
}

export async function volumePruneCommand(cli: Cli, flags: PruneFlags): Promise<void> {
  const what = flags.all ? 'all local volumes' : 'anonymous local volumes';
  if (!flags.force && !(await confirm(cli, `WARNING! This will remove ${what} not used by at least one container.`))) return;
  const { reclaimed, output } = await pruneVolumes(cli, flags);
  if (output) println(cli.out, output);
  println(cli.out, `Total reclaimed space: ${humanSize(reclaimed)}`);
}

// ---------------------------------------------------------------------------------------------
// system prune

interface PruneStep {
  path: string;
  heading: string;
  key: string;
  /** How one deleted item is printed (images report Untagged/Deleted objects). */
  line?: (item: unknown) => string;
}

export async function systemPruneCommand(cli: Cli, flags: PruneFlags & { volumes?: boolean }): Promise<void> {
  const lines = ['all stopped containers', 'all networks not used by at least one container'];
  if (flags.volumes) lines.push('all anonymous volumes not used by at least one container');
  lines.push(flags.all ? 'all images without at least one container associated to them' : 'all dangling images');
  lines.push(flags.all ? 'all build cache' : 'unused build cache');
  const warning = `WARNING! This will remove:\n${lines.map((l) => `  - ${l}\n`).join('')}`;
  if (!flags.force && !(await confirm(cli, warning))) return;
  const filters = parseFilters(flags.filter ?? []);
  const steps: PruneStep[] = [
    { path: '/containers/prune', heading: 'Deleted Containers:', key: 'ContainersDeleted' },
    { path: '/networks/prune', heading: 'Deleted Networks:', key: 'NetworksDeleted' },
  ];
  let reclaimed = 0;
  const outputs: string[] = [];
  const run = async (step: PruneStep, query: Record<string, string | undefined>): Promise<void> => {
    const r = await cli.api.json<Record<string, unknown>>('POST', step.path, { query });
    const items = (r[step.key] as unknown[] | null | undefined) ?? [];
    reclaimed += Number(r.SpaceReclaimed ?? 0);
    if (items.length) outputs.push(`${step.heading}\n${items.map((i) => (step.line ? step.line(i) : String(i)) + '\n').join('')}`);
  };
  for (const step of steps) await run(step, { filters });
  if (flags.volumes) {
    const v = await pruneVolumes(cli, { filter: flags.filter });
    reclaimed += v.reclaimed;
    if (v.output) outputs.push(v.output);
  }
  const imageFilters = parseFilters([...(flags.filter ?? []), `dangling=${flags.all ? 'false' : 'true'}`]);
  await run(
    {
      path: '/images/prune',
      heading: 'Deleted Images:',
      key: 'ImagesDeleted',
      line: (i) => {
        const item = i as { Untagged?: string; Deleted?: string };
        return item.Untagged ? `untagged: ${item.Untagged}` : `deleted: ${item.Deleted}`;
      },
    },
    { filters: imageFilters },
  );
  await run({ path: '/build/prune', heading: 'Deleted build cache objects:', key: 'CachesDeleted' }, { all: flags.all ? '1' : undefined });
  for (const o of outputs) println(cli.out, o);
  println(cli.out, `Total reclaimed space: ${humanSize(reclaimed)}`);
}

// ---------------------------------------------------------------------------------------------
// system df

interface DiskUsage {
  LayersSize?: number;
  Images?: Array<ImageSummary & { Size: number; SharedSize: number; Containers: number }> | null;
  Containers?: Array<ContainerSummary & { State?: string; SizeRw?: number }> | null;
  Volumes?: Volume[] | null;
  BuildCache?: Array<{ Size: number; InUse: boolean; Shared: boolean }> | null;
}

const DF_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

function reclaimable(reclaim: number, total: number): string {
  return total > 0 ? `${humanSize(reclaim)} (${Math.trunc((reclaim * 100) / total)}%)` : humanSize(reclaim);
}

function dfRow(type: string, total: number, active: number, size: number, reclaim: string): RowContext {
  return makeContext('*formatter.diskUsageContext', {
    Type: () => type,
    TotalCount: () => String(total),
    Active: () => String(active),
    Size: () => humanSize(size),
    Reclaimable: () => reclaim,
  });
}

export async function systemDfCommand(cli: Cli, flags: { verbose?: boolean; format?: string }): Promise<void> {
  const du = await cli.api.json<DiskUsage>('GET', '/system/df');
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];
  if (flags.verbose && !flags.format) return verboseDf(cli, images, containers, volumes, cache);
  if (flags.verbose) throw new Error('--format and --verbose cannot be combined');
  const layers = du.LayersSize ?? 0;
  const usedImages = images.filter((i) => i.Containers > 0 && i.Size !== -1 && i.SharedSize !== -1).reduce((a, i) => a + i.Size - i.SharedSize, 0);
  const active = (c: { State?: string }): boolean => ['running', 'paused', 'restarting'].includes(c.State ?? '');
  const cSize = containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const cReclaim = containers.filter((c) => !active(c)).reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const vSize = volumes.reduce((a, v) => a + Math.max(v.UsageData?.Size ?? 0, 0), 0);
  const vReclaim = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((a, v) => a + Math.max(v.UsageData?.Size ?? 0, 0), 0);
  const bSize = cache.filter((b) => !b.Shared).reduce((a, b) => a + b.Size, 0);
  const bReclaim = cache.filter((b) => !b.InUse && !b.Shared).reduce((a, b) => a + b.Size, 0);
  const rows = [
    dfRow('Images', images.length, images.filter((i) => i.Containers > 0).length, layers, reclaimable(layers - usedImages, layers)),
    dfRow('Containers', containers.length, containers.filter(active).length, cSize, reclaimable(cReclaim, cSize)),
    dfRow('Local Volumes', volumes.length, volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length, vSize, reclaimable(vReclaim, vSize)),
    dfRow('Build Cache', cache.length, cache.filter((b) => b.InUse).length, bSize, humanSize(bReclaim)),
  ];
  let format = flags.format || 'table';
  if (format === 'table') format = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
  render(cli, format, rows, DF_HEADERS);
}

function verboseDf(cli: Cli, images: NonNullable<DiskUsage['Images']>, containers: ContainerSummary[], volumes: Volume[], cache: NonNullable<DiskUsage['BuildCache']>): void {
  const now = Date.now();
  cli.out.write('Images space usage:\n\n');
  const imageRows = images.flatMap((img) => imageContexts(img, { trunc: true, digest: false, formatHasDigest: false }, now));
  render(cli, 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', imageRows, IMAGE_HEADERS);
  cli.out.write('\nContainers space usage:\n\n');
  // The docker CLI shows the writable layer alone here, without the "(virtual ...)" part.
  const rows = containers.map((c) => containerContext({ ...c, SizeRootFs: 0 }, true, now));
  render(cli, 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}', rows, CONTAINER_HEADERS);
  cli.out.write('\nLocal Volumes space usage:\n\n');
  render(cli, 'table {{.Name}}\t{{.Links}}\t{{.Size}}', volumes.map(volumeContext), VOLUME_HEADERS);
  cli.out.write(`\nBuild cache usage: ${humanSize(cache.reduce((a, b) => a + b.Size, 0))}\n\n`);
  // berthd never reports build cache records, so the section is its header alone.
  render(cli, 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}', [], {
    ID: 'CACHE ID',
    CacheType: 'CACHE TYPE',
    Size: 'SIZE',
    CreatedSince: 'CREATED',
    LastUsedSince: 'LAST USED',
    UsageCount: 'USAGE',
    Shared: 'SHARED',
  });
}
