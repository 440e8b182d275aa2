// Docker's classic builder: a Dockerfile run step by step, each step committed as an image on
// the last (so the next build can reuse it: the build cache), RUN in a real container from the
// current image, COPY and ADD into a layer directory, the output as `docker build` prints it.
import { existsSync, readFileSync, rmSync } from 'fs';
import type { Readable } from 'stream';
import { posix } from 'path';
import type { Logger } from 'pino';
import type { ContainerRecord } from '../containers/record';
import type { OutputListener, WaitResult } from '../containers/manager';
import { applyInstruction, type InstructionContext } from '../images/changes';
import type { ImageContainerConfig, OciImageConfig } from '../images/config';
import type { Reference } from '../images/reference';
import type { ImageRecord, ImageStore } from '../images/store';
import { mergedTree, runtimeMade, upperDiff } from '../images/tree';
import { extractLayer } from '../images/extract';
import { badRequest, ApiError } from '../server/errors';
import { shortId } from '../util/ids';
import { BuildArgs } from './args';
import { copyInto, copySources, type CopySource, LayerTarget, sourcesHash } from './copy';
import { DockerfileError, type Instruction, parseDockerfile, parseInstructionLine, splitStages, type Stage } from './dockerfile';
import { processWord } from './lex';
import { sameRunConfig, stepConfig } from './image-config';
import { download } from './remote';

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface BuildOptions {
  tags: Reference[];
  dockerfile: string;
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target: string;
  noCache: boolean;
  /** Remove intermediate containers after a successful step (Docker's `rm`, on by default). */
  remove: boolean;
  /** Remove them after a failed one too. */
  forceRemove: boolean;
  pull: boolean;
}

/** The containers side: RUN and the other steps' containers, made and removed through the container manager. */
export interface BuildContainers {
  create(body: Record<string, unknown>): ContainerRecord;
  start(c: ContainerRecord): Promise<void>;
  listen(c: ContainerRecord, l: OutputListener): () => void;
  wait(c: ContainerRecord): Promise<WaitResult>;
  remove(c: ContainerRecord): Promise<void>;
  upperDir(c: ContainerRecord): string;
}

export interface BuildDeps {
  images: ImageStore;
  containers: BuildContainers;
  /** Pulls a base image that is not present, its progress messages into the build output. */
  pull(ref: string, emit: (m: Record<string, unknown>) => void): Promise<void>;
  log: Logger;
}

/** Where the build writes: text for `{"stream": ...}` (stderr in red, as Docker), aux and raw messages. */
export interface BuildOutput {
  stdout(text: string): void;
  stderr(text: string): void;
  message(m: Record<string, unknown>): void;
}

/** A failed RUN: Docker's message with the exit code (the CLI exits with it). */
export class RunFailed extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

interface StageResult {
  imageId: string;
  config: ImageContainerConfig;
}

interface State {
  imageId: string;
  config: ImageContainerConfig;
  /** The stage began with FROM scratch (a commit needs no parent). */
  fromScratch: boolean;
  maintainer: string;
  cmdSet: boolean;
  stageName: string;
  args: BuildArgs;
}

const clone = (c: ImageContainerConfig): ImageContainerConfig => structuredClone(c);
const shellOf = (c: ImageContainerConfig): string[] => (c.Shell?.length ? [...c.Shell] : [...DEFAULT_SHELL]);

export class Build {
  private readonly stages: StageResult[] = [];
  private readonly named = new Map<string, StageResult>();
  private cacheBusted = false;
  private readonly temps: string[] = [];
  private cancelled = false;
  /** The RUN container running now, killed when the build is cancelled. */
  private running?: ContainerRecord;
  private escape = '\\';

  constructor(
    private readonly deps: BuildDeps,
    private readonly opts: BuildOptions,
    private readonly contextDir: string,
    private readonly out: BuildOutput,
  ) {}

  /** The client went away: the step in flight is stopped (its container removed) and no other runs, as Docker's "Build cancelled". */
  cancel(): void {
    this.cancelled = true;
    if (this.running) void this.deps.containers.remove(this.running).catch(() => undefined);
  }

  private checkCancelled(): void {
    if (!this.cancelled) return;
    this.out.stdout('Build cancelled\n');
    throw new Error('Build cancelled');
  }

  /** Runs the Dockerfile; returns the final image ID. Intermediate images stay as the build cache. */
  async run(dockerfileText: string): Promise<string> {
    const args = new BuildArgs(this.opts.buildArgs);
    let parsed;
    try {
      const file = parseDockerfile(dockerfileText);
      this.escape = file.escape;
      parsed = splitStages(file);
    } catch (e) {
      if (e instanceof DockerfileError) throw badRequest(e.message.startsWith('dockerfile parse error') || e.message === 'no build stage in current context' ? e.message : `failed to parse ${this.opts.dockerfile}: ${e.message}`);
      throw e;
    }
    let { stages } = parsed;
    if (this.opts.target) {
      const ix = stages.findIndex((s) => s.name === this.opts.target.toLowerCase());
      if (ix < 0) throw badRequest(`failed to reach build target ${this.opts.target} in Dockerfile`);
      stages = stages.slice(0, ix + 1);
    }
    this.addLabelOptions(stages);
    const total = parsed.metaArgs.length + stages.reduce((n, s) => n + 1 + s.commands.length, 0);
    let step = 1;
    const printStep = (ins: Instruction): void => this.out.stdout(`Step ${step++}/${total} : ${ins.original}\n`);
    for (const meta of parsed.metaArgs) {
      printStep(meta);
      for (const [k, v] of this.argPairs(meta, args.allowedEnv())) {
        args.add(k, v);
        args.addMeta(k, v);
      }
    }
    let state: State | undefined;
    try {
      for (const stage of stages) {
        if (stage.name && this.named.has(stage.name)) throw badRequest(`${stage.name} stage name already used`);
        printStep(stage.from);
        state = await this.beginStage(stage, args);
        this.out.stdout(` ---> ${shortId(state.imageId)}\n`);
        for (const ins of stage.commands) {
          this.checkCancelled();
          printStep(ins);
          await this.dispatch(state, ins);
          this.out.stdout(` ---> ${shortId(state.imageId)}\n`);
        }
        if (state.imageId) this.out.message({ aux: { ID: state.imageId } });
        const result = { imageId: state.imageId, config: state.config };
        this.stages.push(result);
        if (stage.name) this.named.set(stage.name, result);
      }
    } finally {
      for (const t of this.temps) rmSync(t, { recursive: true, force: true });
    }
    const warning = args.unusedWarning();
    if (warning) this.out.stdout(warning);
    if (!state?.imageId) throw new ApiError(500, 'No image was generated. Is your Dockerfile empty?');
    return state.imageId;
  }

  /** `--label` options: one LABEL step at the end of the last stage, not expanded (sorted keys, as Docker). */
  private addLabelOptions(stages: Stage[]): void {
    const keys = Object.keys(this.opts.labels).sort();
    const last = stages[stages.length - 1];
    if (!last) return;
    for (const k of keys) {
      const quote = (s: string): string => `"${s.replace(/[\\"$]/g, '\\$&')}"`;
      const ins = parseInstructionLine(`LABEL ${quote(k)}=${quote(this.opts.labels[k])}`, 0, '\\');
      last.commands.push({ ...ins, original: `LABEL ${k}=${this.opts.labels[k]}` });
    }
  }

  /** The `k=v` and `k` words of an ARG, expanded. */
  private argPairs(ins: Instruction, env: string[]): Array<[string, string | null]> {
    return ins.args.map((w) => {
      const eq = w.indexOf('=');
      const key = processWord(eq < 0 ? w : w.slice(0, eq), env, this.escape);
      return [key, eq < 0 ? null : processWord(w.slice(eq + 1), env, this.escape)];
    });
  }

  private async beginStage(stage: Stage, baseArgs: BuildArgs): Promise<State> {
    this.cacheBusted = false;
    const args = baseArgs;
    args.resetAllowed();
    const name = processWord(stage.base, args.metaEnv(), this.escape);
    if (!name) throw badRequest(`base name (${stage.base}) should not be blank`);
    let imageId = '';
    let config: ImageContainerConfig = {};
    const fromStage = this.named.get(name.toLowerCase());
    if (fromStage) {
      imageId = fromStage.imageId;
      config = clone(this.deps.images.get(imageId)?.config.config ?? {});
    } else if (name !== 'scratch') {
      const img = await this.image(name);
      imageId = img.id;
      config = clone(img.config ?? {});
    }
    if (!(config.Env ?? []).some((e) => e.startsWith('PATH='))) config.Env = [...(config.Env ?? []), `PATH=${DEFAULT_PATH}`];
    config.OpenStdin = false;
    config.StdinOnce = false;
    config.Image = imageId;
    const state: State = { imageId, config, fromScratch: imageId === '', maintainer: '', cmdSet: false, stageName: stage.name, args };
    const triggers = config.OnBuild ?? [];
    if (triggers.length) {
      config.OnBuild = null;
      this.out.stdout(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      for (const t of triggers) {
        const ins = parseInstructionLine(t, stage.from.line, '\\');
        await this.dispatch(state, ins);
      }
    }
    return state;
  }

  /** A local image, pulled first when missing (or when `pull` is set and it is not present). */
  private async image(name: string): Promise<{ id: string; config: ImageContainerConfig | null | undefined }> {
    let img = this.deps.images.resolve(name);
    if (!img) {
      await this.deps.pull(name, (m) => this.out.message(m));
      img = this.deps.images.resolve(name);
      if (!img) throw new ApiError(404, `No such image: ${name}`);
    }
    return { id: img.id, config: img.config.config };
  }

  private envFor(state: State): string[] {
    const env = state.config.Env ?? [];
    return [...env, ...state.args.filterAllowed(env)];
  }

  private async dispatch(state: State, ins: Instruction): Promise<void> {
    const ctx: InstructionContext = { env: this.envFor(state), cmdSet: state.cmdSet, escape: this.escape };
    switch (ins.name) {
      case 'run':
        return this.runStep(state, ins);
      case 'copy':
      case 'add':
        return this.copyStep(state, ins);
      case 'workdir': {
        const { comment } = applyInstruction(state.config, 'WORKDIR', ins.afterName, ctx);
        return this.commitStep(state, [...shellOf(state.config), `#(nop) ${comment}`], (upper) => {
          const target = new LayerTarget(upper, this.deps.images.layerDirs(state.imageId));
          target.ensureDir(target.resolve(state.config.WorkingDir ?? '/'));
        });
      }
      case 'arg': {
        const pairs = this.argPairs(ins, ctx.env);
        for (const [k, v] of pairs) state.args.add(k, v);
        return this.commitMeta(state, `ARG ${pairs.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join(' ')}`);
      }
      case 'maintainer':
        state.maintainer = ins.rest;
        return this.commitMeta(state, `MAINTAINER ${ins.rest}`);
      case 'shell':
        state.config.Shell = ins.args;
        return this.commitMeta(state, `SHELL [${ins.args.join(' ')}]`);
      case 'healthcheck': {
        const old = state.config.Healthcheck?.Test;
        if (old?.length && old[0] !== 'NONE') this.out.stdout(`Note: overriding previous HEALTHCHECK: [${old.join(' ')}]\n`);
        break;
      }
      case 'from':
        throw badRequest('FROM is not allowed here');
    }
    const { comment } = applyInstruction(state.config, ins.name, ins.afterName, ctx);
    state.cmdSet = ctx.cmdSet;
    return this.commitMeta(state, comment);
  }

  /** A step that only changes the config: Docker still makes (and removes) a container for it. */
  private commitMeta(state: State, comment: string): Promise<void> {
    return this.commitStep(state, [...shellOf(state.config), '#(nop) ', comment]);
  }

  /** The cached image of this step: a child of the current image made from the same run config. */
  private probeCache(state: State, runConfig: ImageContainerConfig): boolean {
    if (this.opts.noCache || this.cacheBusted) return false;
    const images = this.deps.images;
    const candidates = images
      .children(state.imageId)
      .map((id) => images.get(id))
      .filter((img) => img !== undefined && sameRunConfig(img.config.container_config, runConfig))
      .sort((a, b) => ((a?.created ?? '') < (b?.created ?? '') ? 1 : -1)) as ImageRecord[];
    if (candidates.length === 0) {
      this.cacheBusted = true;
      return false;
    }
    this.out.stdout(' ---> Using cache\n');
    state.imageId = candidates[0].id;
    state.config.Image = state.imageId;
    return true;
  }

  /** Creates the step's container (Docker's " ---> Running in"), lets `fill` change its layer, commits it. */
  private async commitStep(state: State, cmd: string[], fill?: (upper: string) => void): Promise<void> {
    const runConfig = { ...clone(state.config), Cmd: cmd };
    if (this.probeCache(state, runConfig)) return;
    const c = this.createContainer(state, { ...runConfig, Entrypoint: [''] });
    try {
      fill?.(this.deps.containers.upperDir(c));
      await this.commit(state, upperDiff(this.deps.containers.upperDir(c), runtimeMade), runConfig, c.Id);
    } finally {
      await this.removeContainer(c);
    }
  }

  private createContainer(state: State, config: ImageContainerConfig): ContainerRecord {
    const c = this.deps.containers.create({
      ...config,
      Image: state.imageId,
      HostConfig: { LogConfig: { Type: 'none', Config: {} } },
    });
    this.out.stdout(` ---> Running in ${shortId(c.Id)}\n`);
    return c;
  }

  private async removeContainer(c: ContainerRecord): Promise<void> {
    try {
      await this.deps.containers.remove(c);
      this.out.stdout(`Removing intermediate container ${shortId(c.Id)}\n`);
    } catch (e) {
      this.out.stdout(`Error removing intermediate container ${shortId(c.Id)}: ${(e as Error).message}\n`);
    }
  }

  private async commit(state: State, diff: Readable, containerConfig: ImageContainerConfig, containerId: string): Promise<void> {
    const images = this.deps.images;
    const parent: OciImageConfig | undefined = state.imageId ? images.configOf(state.imageId) : undefined;
    const config = clone(state.config);
    const id = await images.commitDiff(
      state.imageId,
      diff,
      (diffId) => stepConfig(parent, { config, containerConfig, containerId, author: state.maintainer }, diffId, new Date()),
      [],
      { recordParent: true },
    );
    state.imageId = id;
    state.config.Image = id;
  }

  private async runStep(state: State, ins: Instruction): Promise<void> {
    if (ins.flags.length) {
      const flag = ins.flags[0].replace(/^--/, '').split('=')[0];
      throw badRequest(`the --${flag} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`);
    }
    const cmd = ins.json ? ins.args : [...shellOf(state.config), ...ins.args];
    const buildArgs = state.args.filterAllowed(state.config.Env ?? []);
    let saveCmd = cmd;
    if (buildArgs.length) {
      const keyed = buildArgs.filter((e) => state.args.inCacheKey(e.split('=')[0]));
      saveCmd = [`|${keyed.length}`, ...keyed, ...cmd];
    }
    const probeConfig: ImageContainerConfig = { ...clone(state.config), Cmd: saveCmd, Entrypoint: saveCmd.length ? null : state.config.Entrypoint };
    if (this.probeCache(state, probeConfig)) return;
    const c = this.createContainer(state, {
      ...clone(state.config),
      Cmd: cmd,
      Env: [...(state.config.Env ?? []), ...buildArgs],
      Entrypoint: [''],
      Healthcheck: { Test: ['NONE'] },
    });
    let ok = false;
    try {
      const ended = new Promise<void>((resolve) => {
        this.deps.containers.listen(c, {
          data: (stream, chunk) => (stream === 'stderr' ? this.out.stderr(chunk.toString()) : this.out.stdout(chunk.toString())),
          end: resolve,
        });
      });
      this.running = c;
      this.checkCancelled();
      await this.deps.containers.start(c);
      const { StatusCode: code } = await this.deps.containers.wait(c);
      await ended;
      this.running = undefined;
      this.checkCancelled();
      if (code !== 0) throw new RunFailed(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`, code);
      await this.commit(state, upperDiff(this.deps.containers.upperDir(c), runtimeMade), probeConfig, c.Id);
      ok = true;
    } finally {
      this.running = undefined;
      // A failed step's container goes too: nothing of a failed build is left behind.
      if (ok ? this.opts.remove : this.opts.remove || this.opts.forceRemove) await this.removeContainer(c);
    }
  }

  /** The files of a stage or image for COPY --from, unpacked once per build. */
  private async filesOf(from: string): Promise<string> {
    let imageId: string;
    const stage = this.named.get(from.toLowerCase());
    if (stage) imageId = stage.imageId;
    else if (/^\d+$/.test(from)) {
      const ix = Number(from);
      if (ix === this.stages.length) throw badRequest(`invalid from flag value ${from}: refers to current build stage`);
      if (ix > this.stages.length) throw badRequest(`invalid from flag value ${from}: index out of bounds`);
      imageId = this.stages[ix].imageId;
    } else imageId = (await this.image(from)).id;
    const dir = this.deps.images.makeTemp('from');
    this.temps.push(dir);
    if (imageId) await extractLayer(mergedTree([...this.deps.images.layerDirs(imageId)].reverse()), dir);
    return dir;
  }

  private async copyStep(state: State, ins: Instruction): Promise<void> {
    const cmdName = ins.name.toUpperCase();
    const flags = new Map(ins.flags.map((f) => [f.replace(/^--/, '').split('=')[0], f.slice(f.indexOf('=') + 1)] as const));
    if (flags.has('chmod')) throw badRequest('the --chmod option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled');
    const env = this.envFor(state);
    const words = ins.args.map((a) => processWord(a, env, this.escape));
    const dest = words[words.length - 1];
    const srcs = words.slice(0, -1);
    const chown = flags.has('chown') ? processWord(flags.get('chown') as string, env, this.escape) : '';
    const from = cmdName === 'COPY' ? (flags.get('from') ?? '') : '';
    const sources: CopySource[] = [];
    const root = from ? await this.filesOf(from) : this.contextDir;
    for (const s of srcs) {
      if (/^https?:\/\//.test(s)) {
        if (cmdName === 'COPY') throw badRequest('COPY failed: source can\'t be a URL for COPY');
        const dir = this.deps.images.makeTemp('add');
        this.temps.push(dir);
        const name = await download(s, dir, dest.endsWith('/'));
        sources.push(...copySources(dir, [name], cmdName, false).map((x) => ({ ...x, remote: true })));
      } else sources.push(...copySources(root, [s], cmdName, !!from));
    }
    if (sources.length > 1 && !dest.endsWith('/')) throw badRequest(`When using ${cmdName} with more than one source file, the destination must be a directory and end with a /`);
    const chownComment = chown ? `--chown=${chown}` : '';
    const comment = `${cmdName} ${chownComment}${sourcesHash(sources)} in ${dest} `;
    const runConfig = { ...clone(state.config), Cmd: [...shellOf(state.config), `#(nop) ${comment}`] };
    if (this.probeCache(state, runConfig)) return;
    const workdir = state.config.WorkingDir || '/';
    let absDest = dest.startsWith('/') ? dest : posix.join('/', workdir, dest) + (dest.endsWith('/') ? '/' : '');
    if (absDest !== '/' && dest.endsWith('/') && !absDest.endsWith('/')) absDest += '/';
    const upper = this.deps.images.makeTemp('copy');
    try {
      const layers = this.deps.images.layerDirs(state.imageId);
      const identity = chown ? this.identity(chown, layers) : from ? undefined : ([0, 0] as [number, number]);
      await copyInto(new LayerTarget(upper, layers), absDest, sources, { identity, decompress: cmdName === 'ADD' });
      await this.commit(state, upperDiff(upper, () => false), runConfig, '');
    } finally {
      rmSync(upper, { recursive: true, force: true });
    }
  }

  /** `--chown=user:group`: numbers, or names looked up in the image's /etc/passwd and /etc/group. */
  private identity(chown: string, layers: string[]): [number, number] {
    const parts = chown.split(':');
    const prefix = 'unable to convert uid/gid chown string to host mapping';
    if (parts.length > 2 || !parts[0]) throw badRequest(`${prefix}: invalid chown string format: ${chown}`);
    const [user, group] = parts;
    const lookup = (file: string, name: string, what: string): number => {
      if (/^\d+$/.test(name)) return Number(name);
      const text = readMerged(layers, file);
      const line = text?.split('\n').find((l) => l.split(':')[0] === name);
      if (!line) throw badRequest(`${prefix}: can't find ${what} ${name}: no such ${what.split(' ').pop()}: ${name}`);
      return Number(line.split(':')[2]);
    };
    const uid = lookup('/etc/passwd', user, 'uid for user');
    let gid: number;
    if (group !== undefined) gid = lookup('/etc/group', group, 'gid for group');
    else if (/^\d+$/.test(user)) gid = uid;
    else gid = Number(readMerged(layers, '/etc/passwd')?.split('\n').find((l) => l.split(':')[0] === user)?.split(':')[3] ?? uid);
    return [uid, gid];
  }
}

/** A small file of the image (topmost layer that has it). */
function readMerged(layers: string[], path: string): string | undefined {
  for (const l of [...layers].reverse()) if (existsSync(l + path)) return readFileSync(l + path, 'utf8');
  return undefined;
}
