#!/usr/bin/env node
// berth: the bundled client. Commander wiring only: the command table (flags as the docker CLI
// names them), pflag-compatible argument handling, help text, and exit statuses.

import { Command, CommanderError } from 'commander';
import { ApiClient, CLIENT_VERSION, parseHost } from './api';
import { PROGRAM, StatusError, drain, type Cli, type InStream, type OutStream } from './cli';
import { createCommand, killCommand, logsCommand, psCommand, restartCommand, rmCommand, runCommand, startCommand, stopCommand, waitCommand } from './commands/containers';
import { cpCommand } from './commands/cp';
import { attachCommand, execCommand } from './commands/exec';
import { updateCommand, type UpdateFlags } from './commands/update';
import { containerPruneCommand, diffCommand, eventsCommand, pauseCommand, renameCommand, statsCommand, topCommand, unpauseCommand } from './commands/inspection';
import { importCommand, imagesCommand, loadCommand, pullCommand, rmiCommand } from './commands/images';
import { buildCommand } from './commands/build';
import { commitCommand, exportCommand, imagePruneCommand, saveCommand } from './commands/archive';
import { loginCommand, logoutCommand, pushCommand, searchCommand, tagCommand } from './commands/registry';
import { infoCommand, inspectCommand, versionCommand } from './commands/system';
import { networkConnectCommand, networkCreateCommand, networkDisconnectCommand, networkLsCommand, networkPruneCommand, networkRmCommand, portCommand } from './commands/networks';
import { systemDfCommand, systemPruneCommand, volumeCreateCommand, volumeLsCommand, volumePruneCommand, volumeRmCommand } from './commands/volumes';
import { ramInBytes } from './format/size';
import { parseGoDurationStrict } from './format/time';
import { parseMount, parseNanoCPUs, validateAttach, validateDevice, validateDeviceCgroupRule, validateEnv, validateExtraHost, validateIPAddress, validateLabel, validateLink } from './opts';

// ---------------------------------------------------------------------------------------------
// The command table

type Kind = 'bool' | 'string' | 'list' | 'int' | 'bytes' | 'decimal' | 'duration';

interface OptSpec {
  short?: string;
  long: string;
  kind: Kind;
  desc: string;
  /** pflag's type name in help ("string", "list", "filter"...). */
  typeName?: string;
  def?: string;
  hidden?: boolean;
  /** pflag value validation: throws the reason a value is refused. */
  validate?: (v: string) => unknown;
}

type Opts = Record<string, unknown>;

interface CmdSpec {
  name: string;
  aliases?: string[];
  use: string;
  short: string;
  args: { min?: number; max?: number; exact?: number; none?: boolean };
  options: OptSpec[];
  /** Stop flag parsing at the first positional argument (IMAGE for run/create). */
  interspersed?: boolean;
  /** No -h shorthand for help (run/create use -h for --hostname). */
  noShortHelp?: boolean;
  aliasLine?: string;
  run(cli: Cli, args: string[], opts: Opts, given: Set<string>): Promise<number | void>;
}

const o = (flags: string, kind: Kind, desc: string, extra: Partial<OptSpec> = {}): OptSpec => {
  const m = /^(?:-(\w), )?--([\w-]+)$/.exec(flags);
  if (!m) throw new Error(`bad flag spec ${flags}`);
  return { short: m[1], long: m[2], kind, desc, ...extra };
};

const containerFlags: OptSpec[] = [
  o('--add-host', 'list', 'Add a custom host-to-IP mapping (host:ip)', { validate: validateExtraHost }),
  o('-a, --attach', 'list', 'Attach to STDIN, STDOUT or STDERR', { validate: validateAttach }),
  o('--cap-add', 'list', 'Add Linux capabilities'),
  o('--cap-drop', 'list', 'Drop Linux capabilities'),
  o('--cgroup-parent', 'string', 'Optional parent cgroup for the container'),
  o('--cpu-period', 'int', 'Limit CPU CFS (Completely Fair Scheduler) period'),
  o('--cpu-quota', 'int', 'Limit CPU CFS (Completely Fair Scheduler) quota'),
  o('--cpu-rt-period', 'int', 'Limit CPU real-time period in microseconds'),
  o('--cpu-rt-runtime', 'int', 'Limit CPU real-time runtime in microseconds'),
  o('-c, --cpu-shares', 'int', 'CPU shares (relative weight)'),
  o('--cpus', 'decimal', 'Number of CPUs'),
  o('--cpuset-cpus', 'string', 'CPUs in which to allow execution (0-3, 0,1)'),
  o('--cpuset-mems', 'string', 'MEMs in which to allow execution (0-3, 0,1)'),
  o('--device', 'list', 'Add a host device to the container', { validate: validateDevice }),
  o('--device-cgroup-rule', 'list', 'Add a rule to the cgroup allowed devices list', { validate: validateDeviceCgroupRule }),
  o('--dns', 'list', 'Set custom DNS servers', { validate: validateIPAddress }),
  o('--dns-option', 'list', 'Set DNS options'),
  o('--dns-opt', 'list', 'Set DNS options', { hidden: true }),
  o('--dns-search', 'list', 'Set custom DNS search domains'),
  o('--domainname', 'string', 'Container NIS domain name'),
  o('--entrypoint', 'string', 'Overwrite the default ENTRYPOINT of the image'),
  o('-e, --env', 'list', 'Set environment variables', { validate: (v) => validateEnv(v, {}) }),
  o('--env-file', 'list', 'Read in a file of environment variables'),
  o('--expose', 'list', 'Expose a port or a range of ports'),
  o('--group-add', 'list', 'Add additional groups to join'),
  o('--health-cmd', 'string', 'Command to run to check health'),
  o('--health-interval', 'duration', 'Time between running the check (ms|s|m|h) (default 0s)'),
  o('--health-retries', 'int', 'Consecutive failures needed to report unhealthy'),
  o('--health-start-period', 'duration', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)'),
  o('--health-timeout', 'duration', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)'),
  o('--help', 'bool', 'Print usage'),
  o('-h, --hostname', 'string', 'Container host name'),
  o('--init', 'bool', 'Run an init inside the container that forwards signals and reaps processes'),
  o('-i, --interactive', 'bool', 'Keep STDIN open even if not attached'),
  o('--ip', 'string', 'IPv4 address (e.g., 172.30.100.104)'),
  o('--ipc', 'string', 'IPC mode to use'),
  o('-l, --label', 'list', 'Set meta data on a container', { validate: validateLabel }),
  o('--label-file', 'list', 'Read in a line delimited file of labels'),
  o('--link', 'list', 'Add link to another container', { validate: validateLink }),
  o('--log-driver', 'string', 'Logging driver for the container'),
  o('--log-opt', 'list', 'Log driver options'),
  o('--mac-address', 'string', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)'),
  o('-m, --memory', 'bytes', 'Memory limit'),
  o('--mount', 'list', 'Attach a filesystem mount to the container', { typeName: 'mount', validate: parseMount }),
  o('--memory-reservation', 'bytes', 'Memory soft limit'),
  o('--memory-swap', 'bytes', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),
  o('--memory-swappiness', 'int', 'Tune container memory swappiness (0 to 100)', { def: '-1' }),
  o('--name', 'string', 'Assign a name to the container'),
  o('--network', 'list', 'Connect a container to a network', { typeName: 'network' }),
  o('--net', 'list', 'Connect a container to a network', { hidden: true }),
  o('--network-alias', 'list', 'Add network-scoped alias for the container'),
  o('--net-alias', 'list', 'Add network-scoped alias for the container', { hidden: true }),
  o('--no-healthcheck', 'bool', 'Disable any container-specified HEALTHCHECK'),
  o('--oom-kill-disable', 'bool', 'Disable OOM Killer'),
  o('--pid', 'string', 'PID namespace to use'),
  o('--pids-limit', 'int', 'Tune container pids limit (set -1 for unlimited)'),
  o('--platform', 'string', 'Set platform if server is multi-platform capable'),
  o('--privileged', 'bool', 'Give extended privileges to this container'),
  o('-p, --publish', 'list', "Publish a container's port(s) to the host"),
  o('-P, --publish-all', 'bool', 'Publish all exposed ports to random ports'),
  o('--pull', 'string', 'Pull image before running ("always", "missing", "never")', { def: '"missing"' }),
  o('-q, --quiet', 'bool', 'Suppress the pull output'),
  o('--read-only', 'bool', "Mount the container's root filesystem as read only"),
  o('--restart', 'string', 'Restart policy to apply when a container exits', { def: '"no"' }),
  o('--rm', 'bool', 'Automatically remove the container and its associated anonymous volumes when it exits'),
  o('--runtime', 'string', 'Runtime to use for this container'),
  o('--security-opt', 'list', 'Security Options'),
  o('--shm-size', 'bytes', 'Size of /dev/shm'),
  o('--stop-signal', 'string', 'Signal to stop the container'),
  o('--stop-timeout', 'int', 'Timeout (in seconds) to stop a container'),
  o('--sysctl', 'list', 'Sysctl options', { typeName: 'map' }),
  o('--tmpfs', 'list', 'Mount a tmpfs directory'),
  o('-t, --tty', 'bool', 'Allocate a pseudo-TTY'),
  o('--ulimit', 'list', 'Ulimit options', { typeName: 'ulimit' }),
  o('-u, --user', 'string', 'Username or UID (format: <name|uid>[:<group|gid>])'),
  o('--uts', 'string', 'UTS namespace to use'),
  o('-v, --volume', 'list', 'Bind mount a volume'),
  o('--volumes-from', 'list', 'Mount volumes from the specified container(s)'),
  o('-w, --workdir', 'string', 'Working directory inside the container'),
];

const runOnlyFlags: OptSpec[] = [
  o('-d, --detach', 'bool', 'Run container in background and print container ID'),
  o('--detach-keys', 'string', 'Override the key sequence for detaching a container'),
  o('--sig-proxy', 'bool', 'Proxy received signals to the process', { def: 'true' }),
];

function mergeContainerOpts(opts: Opts): Opts {
  const list = (k: string): string[] => (opts[k] as string[] | undefined) ?? [];
  return {
    ...opts,
    network: [...list('network'), ...list('net')],
    networkAlias: [...list('networkAlias'), ...list('netAlias')],
    dnsOption: [...list('dnsOption'), ...list('dnsOpt')],
  };
}

const formatHelp = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;

const inspectFormatHelp = `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;

const psSpec = (name: string, aliases: string[], aliasLine: string): CmdSpec => ({
  name,
  aliases,
  use: `${name} [OPTIONS]`,
  short: 'List containers',
  aliasLine,
  args: { none: true },
  options: [
    o('-a, --all', 'bool', 'Show all containers (default shows just running)'),
    o('-f, --filter', 'list', 'Filter output based on conditions provided', { typeName: 'filter' }),
    o('--format', 'string', formatHelp),
    o('-n, --last', 'int', 'Show n last created containers (includes all states)', { def: '-1' }),
    o('-l, --latest', 'bool', 'Show the latest created container (includes all states)'),
    o('--no-trunc', 'bool', "Don't truncate output"),
    o('-q, --quiet', 'bool', 'Only display container IDs'),
    o('-s, --size', 'bool', 'Display total file sizes'),
  ],
  run: (cli, _args, opts, given) => psCommand(cli, opts, given.has('size')),
});

const imagesSpec = (name: string, aliases: string[], aliasLine: string): CmdSpec => ({
  name,
  aliases,
  use: `${name} [OPTIONS] [REPOSITORY[:TAG]]`,
  short: 'List images',
  aliasLine,
  args: { max: 1 },
  options: [
    o('-a, --all', 'bool', 'Show all images (default hides intermediate images)'),
    o('--digests', 'bool', 'Show digests'),
    o('-f, --filter', 'list', 'Filter output based on conditions provided', { typeName: 'filter' }),
    o('--format', 'string', formatHelp),
    o('--no-trunc', 'bool', "Don't truncate output"),
    o('-q, --quiet', 'bool', 'Only show image IDs'),
  ],
  run: (cli, args, opts) => imagesCommand(cli, args[0], opts, name),
});

const stopOpts = [
  o('-s, --signal', 'string', 'Signal to send to the container'),
  o('-t, --timeout', 'int', 'Seconds to wait before killing the container'),
  o('--time', 'int', 'Seconds to wait before killing the container (deprecated: use --timeout)', { hidden: true }),
];

function stopTime(cli: Cli, opts: Opts, given: Set<string>): string | undefined {
  // pflag announces deprecated flags on stdout.
  if (given.has('time')) cli.out.write('Flag --time has been deprecated, use --timeout instead\n');
  if (given.has('time') && given.has('timeout')) throw new Error('conflicting options: cannot specify both --timeout and --time');
  return (opts.timeout as string | undefined) ?? (opts.time as string | undefined);
}

const inspectSpec = (fixed?: 'container' | 'image'): CmdSpec => ({
  name: 'inspect',
  use: fixed ? `inspect [OPTIONS] ${fixed.toUpperCase()} [${fixed.toUpperCase()}...]` : 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
  short: fixed ? `Display detailed information on one or more ${fixed}s` : 'Return low-level information on Docker objects',
  args: { min: 1 },
  options: [
    o('-f, --format', 'string', inspectFormatHelp),
    ...(fixed === 'image' ? [] : [o('-s, --size', 'bool', fixed ? 'Display total file sizes' : 'Display total file sizes if the type is container')]),
    ...(fixed ? [] : [o('--type', 'string', 'Only inspect objects of the given type')]),
  ],
  run: (cli, args, opts) => inspectCommand(cli, args, opts, fixed),
});

const runSpec: CmdSpec = {
  name: 'run',
  use: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create and run a new container from an image',
  aliasLine: `${PROGRAM} container run, ${PROGRAM} run`,
  args: { min: 1 },
  interspersed: false,
  noShortHelp: true,
  options: [...containerFlags, ...runOnlyFlags].sort((a, b) => a.long.localeCompare(b.long)),
  run: (cli, args, opts) => runCommand(cli, args[0], args.slice(1), mergeContainerOpts(opts)),
};

const createSpec: CmdSpec = {
  name: 'create',
  use: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create a new container',
  aliasLine: `${PROGRAM} container create, ${PROGRAM} create`,
  args: { min: 1 },
  interspersed: false,
  noShortHelp: true,
  options: containerFlags,
  run: (cli, args, opts) => createCommand(cli, args[0], args.slice(1), mergeContainerOpts(opts)),
};

const containerCommands = (top: boolean): CmdSpec[] => [
  top ? runSpec : { ...runSpec },
  top ? createSpec : { ...createSpec },
  {
    name: 'start',
    use: 'start [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Start one or more stopped containers',
    args: { min: 1 },
    options: [
      o('-a, --attach', 'bool', 'Attach STDOUT/STDERR and forward signals'),
      o('--detach-keys', 'string', 'Override the key sequence for detaching a container'),
      o('-i, --interactive', 'bool', "Attach container's STDIN"),
    ],
    run: (cli, args, opts) => startCommand(cli, args, opts),
  },
  {
    name: 'stop',
    use: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Stop one or more running containers',
    args: { min: 1 },
    options: stopOpts,
    run: (cli, args, opts, given) => stopCommand(cli, args, { time: stopTime(cli, opts, given), signal: opts.signal as string | undefined }),
  },
  {
    name: 'restart',
    use: 'restart [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Restart one or more containers',
    args: { min: 1 },
    options: stopOpts,
    run: (cli, args, opts, given) => restartCommand(cli, args, { time: stopTime(cli, opts, given), signal: opts.signal as string | undefined }),
  },
  {
    name: 'kill',
    use: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Kill one or more running containers',
    args: { min: 1 },
    options: [o('-s, --signal', 'string', 'Signal to send to the container')],
    run: (cli, args, opts) => killCommand(cli, args, opts),
  },
  {
    name: 'rm',
    aliases: top ? [] : ['remove'],
    use: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Remove one or more containers',
    args: { min: 1 },
    options: [
      o('-f, --force', 'bool', 'Force the removal of a running container (uses SIGKILL)'),
      o('-l, --link', 'bool', 'Remove the specified link'),
      o('-v, --volumes', 'bool', 'Remove anonymous volumes associated with the container'),
    ],
    run: (cli, args, opts) => rmCommand(cli, args, opts),
  },
  top ? psSpec('ps', [], `${PROGRAM} container ls, ${PROGRAM} container list, ${PROGRAM} container ps, ${PROGRAM} ps`) : psSpec('ls', ['ps', 'list'], `${PROGRAM} container ls, ${PROGRAM} container list, ${PROGRAM} container ps, ${PROGRAM} ps`),
  {
    name: 'logs',
    use: 'logs [OPTIONS] CONTAINER',
    short: 'Fetch the logs of a container',
    args: { exact: 1 },
    options: [
      o('--details', 'bool', 'Show extra details provided to logs'),
      o('-f, --follow', 'bool', 'Follow log output'),
      o('--since', 'string', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
      o('-n, --tail', 'string', 'Number of lines to show from the end of the logs', { def: '"all"' }),
      o('-t, --timestamps', 'bool', 'Show timestamps'),
      o('--until', 'string', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
    ],
    run: (cli, args, opts) => logsCommand(cli, args[0], opts),
  },
  {
    name: 'wait',
    use: 'wait CONTAINER [CONTAINER...]',
    short: 'Block until one or more containers stop, then print their exit codes',
    args: { min: 1 },
    options: [],
    run: (cli, args) => waitCommand(cli, args),
  },
  ...inspectionCommands(top),
];

const eventsSpec: CmdSpec = {
  name: 'events',
  use: 'events [OPTIONS]',
  short: 'Get real time events from the server',
  args: { none: true },
  options: [
    o('-f, --filter', 'list', 'Filter output based on conditions provided', { typeName: 'filter' }),
    o('--format', 'string', inspectFormatHelp),
    o('--since', 'string', 'Show all events created since timestamp'),
    o('--until', 'string', 'Stream events until this timestamp'),
  ],
  run: (cli, _args, opts) => eventsCommand(cli, opts),
};

/** pause, unpause, rename, top, diff, cp, stats (top level and under `container`), prune (under `container`). */
function inspectionCommands(top: boolean): CmdSpec[] {
  const specs: CmdSpec[] = [
    {
      name: 'exec',
      use: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
      short: 'Execute a command in a running container',
      args: { min: 2 },
      interspersed: false,
      options: [
        o('-d, --detach', 'bool', 'Detached mode: run command in the background'),
        o('--detach-keys', 'string', 'Override the key sequence for detaching a container'),
        o('-e, --env', 'list', 'Set environment variables', { validate: (v) => validateEnv(v, {}) }),
        o('-i, --interactive', 'bool', 'Keep STDIN open even if not attached'),
        o('--privileged', 'bool', 'Give extended privileges to the command'),
        o('-t, --tty', 'bool', 'Allocate a pseudo-TTY'),
        o('-u, --user', 'string', 'Username or UID (format: "<name|uid>[:<group|gid>]")'),
        o('-w, --workdir', 'string', 'Working directory inside the container'),
      ],
      run: (cli, args, opts) => execCommand(cli, args[0], args.slice(1), { ...opts, env: ((opts.env as string[] | undefined) ?? []).map((e) => validateEnv(e)) }),
    },
    {
      name: 'attach',
      use: 'attach [OPTIONS] CONTAINER',
      short: "Attach local standard input, output, and error streams to a running container",
      args: { exact: 1 },
      options: [
        o('--detach-keys', 'string', 'Override the key sequence for detaching a container'),
        o('--no-stdin', 'bool', 'Do not attach STDIN'),
        o('--sig-proxy', 'bool', 'Proxy all received signals to the process', { def: 'true' }),
      ],
      run: (cli, args, opts) => attachCommand(cli, args[0], opts),
    },
    { name: 'pause', use: 'pause CONTAINER [CONTAINER...]', short: 'Pause all processes within one or more containers', args: { min: 1 }, options: [], run: (cli, args) => pauseCommand(cli, args) },
    { name: 'unpause', use: 'unpause CONTAINER [CONTAINER...]', short: 'Unpause all processes within one or more containers', args: { min: 1 }, options: [], run: (cli, args) => unpauseCommand(cli, args) },
    { name: 'rename', use: 'rename CONTAINER NEW_NAME', short: 'Rename a container', args: { exact: 2 }, options: [], run: (cli, args) => renameCommand(cli, args[0], args[1]) },
    {
      name: 'update',
      use: 'update [OPTIONS] CONTAINER [CONTAINER...]',
      short: 'Update configuration of one or more containers',
      args: { min: 1 },
      options: [
        o('--blkio-weight', 'int', 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)', { typeName: 'uint16' }),
        o('--cpu-period', 'int', 'Limit CPU CFS (Completely Fair Scheduler) period'),
        o('--cpu-quota', 'int', 'Limit CPU CFS (Completely Fair Scheduler) quota'),
        o('--cpu-rt-period', 'int', 'Limit the CPU real-time period in microseconds'),
        o('--cpu-rt-runtime', 'int', 'Limit the CPU real-time runtime in microseconds'),
        o('-c, --cpu-shares', 'int', 'CPU shares (relative weight)'),
        o('--cpus', 'decimal', 'Number of CPUs'),
        o('--cpuset-cpus', 'string', 'CPUs in which to allow execution (0-3, 0,1)'),
        o('--cpuset-mems', 'string', 'MEMs in which to allow execution (0-3, 0,1)'),
        o('-m, --memory', 'bytes', 'Memory limit'),
        o('--memory-reservation', 'bytes', 'Memory soft limit'),
        o('--memory-swap', 'bytes', "Swap limit equal to memory plus swap: -1 to enable unlimited swap"),
        o('--pids-limit', 'int', 'Tune container pids limit (set -1 for unlimited)'),
        o('--restart', 'string', 'Restart policy to apply when a container exits'),
      ],
      run: (cli, args, opts) => updateCommand(cli, args, opts as UpdateFlags),
    },
    {
      name: 'top',
      use: 'top CONTAINER [ps OPTIONS]',
      short: 'Display the running processes of a container',
      args: { min: 1 },
      interspersed: false,
      options: [],
      run: (cli, args) => topCommand(cli, args[0], args.slice(1)),
    },
    { name: 'diff', use: 'diff CONTAINER', short: "Inspect changes to files or directories on a container's filesystem", args: { exact: 1 }, options: [], run: (cli, args) => diffCommand(cli, args[0]) },
    {
      name: 'cp',
      use: `cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\t${PROGRAM} cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH`,
      short: 'Copy files/folders between a container and the local filesystem',
      args: { exact: 2 },
      options: [
        o('-a, --archive', 'bool', 'Archive mode (copy all uid/gid information)'),
        o('-L, --follow-link', 'bool', 'Always follow symbol link in SRC_PATH'),
        o('-q, --quiet', 'bool', 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached'),
      ],
      run: (cli, args, opts) => cpCommand(cli, args[0], args[1], opts),
    },
    {
      name: 'stats',
      use: 'stats [OPTIONS] [CONTAINER...]',
      short: 'Display a live stream of container(s) resource usage statistics',
      args: {},
      options: [
        o('-a, --all', 'bool', 'Show all containers (default shows just running)'),
        o('--format', 'string', formatHelp),
        o('--no-stream', 'bool', 'Disable streaming stats and only pull the first result'),
        o('--no-trunc', 'bool', "Don't truncate output"),
      ],
      run: (cli, args, opts) => statsCommand(cli, args, opts),
    },
  ];
  if (!top) {
    specs.push({
      name: 'prune',
      use: 'prune [OPTIONS]',
      short: 'Remove all stopped containers',
      args: { none: true },
      options: [o('--filter', 'list', "Provide filter values (e.g. 'until=<timestamp>')", { typeName: 'filter' }), o('-f, --force', 'bool', 'Do not prompt for confirmation')],
      run: (cli, _args, opts) => containerPruneCommand(cli, opts),
    });
  }
  return specs;
}

const rmiSpec = (name: string, aliases: string[]): CmdSpec => ({
  name,
  aliases,
  use: `${name} [OPTIONS] IMAGE [IMAGE...]`,
  short: 'Remove one or more images',
  args: { min: 1 },
  options: [o('-f, --force', 'bool', 'Force removal of the image'), o('--no-prune', 'bool', 'Do not delete untagged parents')],
  run: (cli, args, opts) => rmiCommand(cli, args, opts),
});

const imageCommands = (top: boolean): CmdSpec[] => [
  {
    name: 'build',
    use: 'build [OPTIONS] PATH | URL | -',
    short: 'Build an image from a Dockerfile',
    args: { exact: 1 },
    options: [
      o('--build-arg', 'list', 'Set build-time variables'),
      o('-f, --file', 'string', "Name of the Dockerfile (Default is 'PATH/Dockerfile')"),
      o('--label', 'list', 'Set metadata for an image'),
      o('--no-cache', 'bool', 'Do not use cache when building the image'),
      o('--pull', 'bool', 'Always attempt to pull a newer version of the image'),
      o('-q, --quiet', 'bool', 'Suppress the build output and print image ID on success'),
      o('-t, --tag', 'list', 'Name and optionally a tag in the \'name:tag\' format'),
      o('--target', 'string', 'Set the target build stage to build.'),
    ],
    run: (cli, args, opts) => buildCommand(cli, args[0], opts),
  },
  top ? imagesSpec('images', [], `${PROGRAM} image ls, ${PROGRAM} image list, ${PROGRAM} images`) : imagesSpec('ls', ['list'], `${PROGRAM} image ls, ${PROGRAM} image list, ${PROGRAM} images`),
  top ? rmiSpec('rmi', []) : rmiSpec('rm', ['rmi', 'remove']),
  {
    name: 'load',
    use: 'load [OPTIONS]',
    short: 'Load an image from a tar archive or STDIN',
    args: { none: true },
    options: [o('-i, --input', 'string', 'Read from tar archive file, instead of STDIN'), o('-q, --quiet', 'bool', 'Suppress the load output')],
    run: (cli, _args, opts) => loadCommand(cli, opts),
  },
  {
    name: 'import',
    use: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
    short: 'Import the contents from a tarball to create a filesystem image',
    args: { min: 1 },
    options: [
      o('-c, --change', 'list', 'Apply Dockerfile instruction to the created image'),
      o('-m, --message', 'string', 'Set commit message for imported image'),
      o('--platform', 'string', 'Set platform if server is multi-platform capable'),
    ],
    run: (cli, args, opts) => importCommand(cli, args[0], args[1], opts),
  },
  {
    name: 'pull',
    use: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
    short: 'Download an image from a registry',
    args: { exact: 1 },
    options: [
      o('-a, --all-tags', 'bool', 'Download all tagged images in the repository'),
      o('--platform', 'string', 'Set platform if server is multi-platform capable'),
      o('-q, --quiet', 'bool', 'Suppress verbose output'),
    ],
    run: (cli, args, opts) => pullCommand(cli, args[0], opts),
  },
  {
    name: 'push',
    use: 'push [OPTIONS] NAME[:TAG]',
    short: 'Upload an image to a registry',
    args: { exact: 1 },
    options: [o('-a, --all-tags', 'bool', 'Push all tags of an image to the repository'), o('-q, --quiet', 'bool', 'Suppress verbose output')],
    run: (cli, args, opts) => pushCommand(cli, args[0], opts),
  },
  {
    name: 'tag',
    use: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
    short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    args: { exact: 2 },
    options: [],
    run: (cli, args) => tagCommand(cli, args[0], args[1]),
  },
  {
    name: 'save',
    use: 'save [OPTIONS] IMAGE [IMAGE...]',
    short: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    args: { min: 1 },
    options: [o('-o, --output', 'string', 'Write to a file, instead of STDOUT')],
    run: (cli, args, opts) => saveCommand(cli, args, opts),
  },
  ...(top
    ? []
    : [
        {
          name: 'prune',
          use: 'prune [OPTIONS]',
          short: 'Remove unused images',
          args: { none: true },
          options: [o('-a, --all', 'bool', 'Remove all unused images, not just dangling ones'), o('--filter', 'list', 'Provide filter values (e.g. "until=<timestamp>")', { typeName: 'filter' }), o('-f, --force', 'bool', 'Do not prompt for confirmation')],
          run: (cli: Cli, _args: string[], opts: Opts) => imagePruneCommand(cli, opts),
        },
      ]),
];

/** Container snapshots, under `container` and at the top. */
const snapshotCommands: CmdSpec[] = [
  {
    name: 'commit',
    use: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
    short: "Create a new image from a container's changes",
    args: { min: 1, max: 2 },
    options: [
      o('-a, --author', 'string', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")'),
      o('-c, --change', 'list', 'Apply Dockerfile instruction to the created image'),
      o('-m, --message', 'string', 'Commit message'),
      o('-p, --pause', 'bool', 'Pause container during commit', { def: 'true' }),
    ],
    run: (cli, args, opts) => commitCommand(cli, args[0], args[1], opts),
  },
  {
    name: 'export',
    use: 'export [OPTIONS] CONTAINER',
    short: "Export a container's filesystem as a tar archive",
    args: { exact: 1 },
    options: [o('-o, --output', 'string', 'Write to a file, instead of STDOUT')],
    run: (cli, args, opts) => exportCommand(cli, args[0], opts),
  },
];

const registryCommands: CmdSpec[] = [
  {
    name: 'login',
    use: 'login [OPTIONS] [SERVER]',
    short: 'Log in to a registry',
    args: { max: 1 },
    options: [o('-p, --password', 'string', 'Password'), o('--password-stdin', 'bool', 'Take the password from stdin'), o('-u, --username', 'string', 'Username')],
    run: (cli, args, opts) => loginCommand(cli, args[0], opts),
  },
  {
    name: 'logout',
    use: 'logout [SERVER]',
    short: 'Log out from a registry',
    args: { max: 1 },
    options: [],
    run: async (cli, args) => logoutCommand(cli, args[0]),
  },
  {
    name: 'search',
    use: 'search [OPTIONS] TERM',
    short: 'Search Docker Hub for images',
    args: { exact: 1 },
    options: [o('-f, --filter', 'list', 'Filter output based on conditions provided', { typeName: 'filter' }), o('--limit', 'int', 'Max number of search results'), o('--no-trunc', 'bool', "Don't truncate output")],
    run: (cli, args, opts) => searchCommand(cli, args[0], opts),
  },
];

const versionSpec: CmdSpec = {
  name: 'version',
  use: 'version [OPTIONS]',
  short: `Show the ${PROGRAM} version information`,
  args: { none: true },
  options: [o('-f, --format', 'string', inspectFormatHelp)],
  run: (cli, _args, opts) => versionCommand(cli, opts),
};

const infoSpec: CmdSpec = {
  name: 'info',
  use: 'info [OPTIONS]',
  short: 'Display system-wide information',
  args: { none: true },
  options: [o('-f, --format', 'string', inspectFormatHelp)],
  run: (cli, _args, opts) => infoCommand(cli, opts),
};

const volumeCommands: CmdSpec[] = [
  {
    name: 'create',
    use: 'create [OPTIONS] [VOLUME]',
    short: 'Create a volume',
    args: { max: 1 },
    options: [
      o('-d, --driver', 'string', 'Specify volume driver name', { def: '"local"' }),
      o('--label', 'list', 'Set metadata for a volume', { validate: validateLabel }),
      o('--name', 'string', 'Specify volume name', { hidden: true }),
      o('-o, --opt', 'list', 'Set driver specific options', { typeName: 'map' }),
    ],
    run: (cli, args, opts) => volumeCreateCommand(cli, args[0], opts),
  },
  {
    name: 'inspect',
    use: 'inspect [OPTIONS] VOLUME [VOLUME...]',
    short: 'Display detailed information on one or more volumes',
    args: { min: 1 },
    options: [o('-f, --format', 'string', inspectFormatHelp)],
    run: (cli, args, opts) => inspectCommand(cli, args, opts, 'volume'),
  },
  {
    name: 'ls',
    aliases: ['list'],
    use: 'ls [OPTIONS]',
    short: 'List volumes',
    args: { none: true },
    options: [
      o('-f, --filter', 'list', "Provide filter values (e.g. 'dangling=true')", { typeName: 'filter' }),
      o('--format', 'string', formatHelp),
      o('-q, --quiet', 'bool', 'Only display volume names'),
    ],
    run: (cli, _args, opts) => volumeLsCommand(cli, opts),
  },
  {
    name: 'prune',
    use: 'prune [OPTIONS]',
    short: 'Remove unused local volumes',
    args: { none: true },
    options: [
      o('-a, --all', 'bool', 'Remove all unused volumes, not just anonymous ones'),
      o('--filter', 'list', "Provide filter values (e.g. 'label=<label>')", { typeName: 'filter' }),
      o('-f, --force', 'bool', 'Do not prompt for confirmation'),
    ],
    run: (cli, _args, opts) => volumePruneCommand(cli, opts),
  },
  {
    name: 'rm',
    aliases: ['remove'],
    use: 'rm [OPTIONS] VOLUME [VOLUME...]',
    short: 'Remove one or more volumes',
    args: { min: 1 },
    options: [o('-f, --force', 'bool', 'Force the removal of one or more volumes')],
    run: (cli, args, opts) => volumeRmCommand(cli, args, opts),
  },
];

const networkCommands: CmdSpec[] = [
  {
    name: 'connect',
    use: 'connect [OPTIONS] NETWORK CONTAINER',
    short: 'Connect a container to a network',
    args: { exact: 2 },
    options: [
      o('--alias', 'list', 'Add network-scoped alias for the container'),
      o('--driver-opt', 'list', 'driver options for the network'),
      o('--ip', 'string', 'IPv4 address (e.g., "172.30.100.104")', { validate: validateIPAddress }),
      o('--link', 'list', 'Add link to another container', { validate: validateLink }),
    ],
    run: (cli, args, opts) => networkConnectCommand(cli, args[0], args[1], opts),
  },
  {
    name: 'create',
    use: 'create [OPTIONS] NETWORK',
    short: 'Create a network',
    args: { exact: 1 },
    options: [
      o('--attachable', 'bool', 'Enable manual container attachment'),
      o('-d, --driver', 'string', 'Driver to manage the Network', { def: '"bridge"' }),
      o('--gateway', 'list', 'IPv4 or IPv6 Gateway for the master subnet', { typeName: 'strings' }),
      o('--internal', 'bool', 'Restrict external access to the network'),
      o('--ip-range', 'list', 'Allocate container ip from a sub-range', { typeName: 'strings' }),
      o('--ipam-driver', 'string', 'IP Address Management Driver', { def: '"default"' }),
      o('--ipam-opt', 'list', 'Set IPAM driver specific options', { typeName: 'map' }),
      o('--ipv6', 'bool', 'Enable IPv6 networking'),
      o('--label', 'list', 'Set metadata on a network', { validate: validateLabel }),
      o('-o, --opt', 'list', 'Set driver specific options', { typeName: 'map' }),
      o('--subnet', 'list', 'Subnet in CIDR format that represents a network segment', { typeName: 'strings' }),
    ],
    run: (cli, args, opts) => networkCreateCommand(cli, args[0], opts),
  },
  {
    name: 'disconnect',
    use: 'disconnect [OPTIONS] NETWORK CONTAINER',
    short: 'Disconnect a container from a network',
    args: { exact: 2 },
    options: [o('-f, --force', 'bool', 'Force the container to disconnect from a network')],
    run: (cli, args, opts) => networkDisconnectCommand(cli, args[0], args[1], opts),
  },
  {
    name: 'inspect',
    use: 'inspect [OPTIONS] NETWORK [NETWORK...]',
    short: 'Display detailed information on one or more networks',
    args: { min: 1 },
    options: [o('-f, --format', 'string', inspectFormatHelp), o('-v, --verbose', 'bool', 'Verbose output for diagnostics')],
    run: (cli, args, opts) => inspectCommand(cli, args, opts, 'network'),
  },
  {
    name: 'ls',
    aliases: ['list'],
    use: 'ls [OPTIONS]',
    short: 'List networks',
    args: { none: true },
    options: [
      o('-f, --filter', 'list', "Provide filter values (e.g. 'driver=bridge')", { typeName: 'filter' }),
      o('--format', 'string', formatHelp),
      o('--no-trunc', 'bool', 'Do not truncate the output'),
      o('-q, --quiet', 'bool', 'Only display network IDs'),
    ],
    run: (cli, _args, opts) => networkLsCommand(cli, opts),
  },
  {
    name: 'prune',
    use: 'prune [OPTIONS]',
    short: 'Remove all unused networks',
    args: { none: true },
    options: [
      o('--filter', 'list', "Provide filter values (e.g. 'until=<timestamp>')", { typeName: 'filter' }),
      o('-f, --force', 'bool', 'Do not prompt for confirmation'),
    ],
    run: (cli, _args, opts) => networkPruneCommand(cli, opts),
  },
  {
    name: 'rm',
    aliases: ['remove'],
    use: 'rm NETWORK [NETWORK...]',
    short: 'Remove one or more networks',
    args: { min: 1 },
    options: [o('-f, --force', 'bool', 'Do not error if the network does not exist')],
    run: (cli, args, opts) => networkRmCommand(cli, args, opts),
  },
];

const portSpec: CmdSpec = {
  name: 'port',
  use: 'port CONTAINER [PRIVATE_PORT[/PROTO]]',
  short: 'List port mappings or a specific mapping for the container',
  args: { min: 1, max: 2 },
  options: [],
  run: (cli, args) => portCommand(cli, args[0], args[1]),
};

const systemCommands: CmdSpec[] = [
  {
    name: 'df',
    use: 'df [OPTIONS]',
    short: 'Show docker disk usage',
    args: { none: true },
    options: [o('--format', 'string', formatHelp), o('-v, --verbose', 'bool', 'Show detailed information on space usage')],
    run: (cli, _args, opts) => systemDfCommand(cli, opts),
  },
  {
    name: 'prune',
    use: 'prune [OPTIONS]',
    short: 'Remove unused data',
    args: { none: true },
    options: [
      o('-a, --all', 'bool', 'Remove all unused images not just dangling ones'),
      o('--filter', 'list', "Provide filter values (e.g. 'label=<key>=<value>')", { typeName: 'filter' }),
      o('-f, --force', 'bool', 'Do not prompt for confirmation'),
      o('--volumes', 'bool', 'Prune anonymous volumes'),
    ],
    run: (cli, _args, opts) => systemPruneCommand(cli, opts),
  },
];

interface GroupSpec {
  name: string;
  short: string;
  commands: CmdSpec[];
}

const groups: GroupSpec[] = [
  { name: 'container', short: 'Manage containers', commands: [...containerCommands(false), ...snapshotCommands, inspectSpec('container'), portSpec] },
  { name: 'image', short: 'Manage images', commands: [...imageCommands(false), inspectSpec('image')] },
  { name: 'system', short: `Manage ${PROGRAM}`, commands: [...systemCommands, { ...infoSpec }, { ...eventsSpec }] },
  { name: 'volume', short: 'Manage volumes', commands: volumeCommands },
  { name: 'network', short: 'Manage networks', commands: networkCommands },
];

const topCommands: CmdSpec[] = [...containerCommands(true), ...imageCommands(true), ...snapshotCommands, ...registryCommands, inspectSpec(), portSpec, versionSpec, infoSpec, eventsSpec];
const COMMON = ['run', 'ps', 'pull', 'images', 'version', 'info'];

// ---------------------------------------------------------------------------------------------
// Errors and help, docker style

/** A bad flag or flag value: printed with the usage line, exit status 125. */
class FlagError extends Error {}

const camel = (long: string): string => long.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
const internal = (long: string): string => (long === 'help' ? 'help' : `f-${long}`);
const flagName = (s: OptSpec): string => (s.short ? `-${s.short}, --${s.long}` : `--${s.long}`);

function typeName(s: OptSpec): string {
  if (s.typeName) return s.typeName;
  switch (s.kind) {
    case 'bool':
      return '';
    case 'bytes':
      return 'bytes';
    case 'decimal':
      return 'decimal';
    case 'duration':
      return 'duration';
    default:
      return s.kind;
  }
}

function optionsHelp(options: OptSpec[]): string {
  const rows = options
    .filter((s) => !s.hidden)
    .map((s) => {
      const t = typeName(s);
      const left = (s.short ? `  -${s.short}, --${s.long}` : `      --${s.long}`) + (t ? ` ${t}` : '');
      const desc = s.desc + (s.def !== undefined ? ` (default ${s.def})` : '');
      return { left, desc };
    });
  const width = Math.max(0, ...rows.map((r) => r.left.length));
  return rows.map((r) => r.left.padEnd(width) + '   ' + r.desc.split('\n').join('\n' + ' '.repeat(width + 3))).join('\n');
}

function commandHelp(spec: CmdSpec, path: string): string {
  let s = `\nUsage:  ${path} ${spec.use.slice(spec.use.indexOf(' ') + 1)}\n\n${spec.short}\n`;
  if (spec.aliasLine || spec.aliases?.length) {
    s += `\nAliases:\n  ${spec.aliasLine ?? [spec.name, ...(spec.aliases ?? [])].map((a) => `${path.slice(0, path.lastIndexOf(' '))} ${a}`).join(', ')}\n`;
  }
  const visible = spec.options.filter((x) => !x.hidden);
  const help = spec.noShortHelp ? [] : [o('-h, --help', 'bool', 'Print usage')];
  if (visible.length || help.length) s += `\nOptions:\n${optionsHelp([...spec.options.filter((x) => x.long !== 'help' || spec.noShortHelp), ...help].sort((a, b) => a.long.localeCompare(b.long)))}\n`;
  return s;
}

const globalOptions: OptSpec[] = [
  o('--config', 'string', 'Location of client config files'),
  o('-c, --context', 'string', 'Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var)'),
  o('-D, --debug', 'bool', 'Enable debug mode'),
  o('-H, --host', 'string', 'Daemon socket to connect to', { typeName: 'list' }),
  o('-l, --log-level', 'string', 'Set the logging level ("debug", "info", "warn", "error", "fatal")', { def: '"info"' }),
  o('-v, --version', 'bool', 'Print version information and quit'),
];

function topHelp(): string {
  const line = (name: string, short: string): string => `  ${name.padEnd(11)} ${short}`;
  const byName = new Map(topCommands.map((c) => [c.name, c]));
  let s = `\nUsage:  ${PROGRAM} [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n\nCommon Commands:\n`;
  s += COMMON.map((n) => line(n, byName.get(n)!.short)).join('\n');
  s += '\n\nManagement Commands:\n' + groups.map((g) => line(g.name, g.short)).join('\n');
  s += '\n\nCommands:\n' + topCommands.filter((c) => !COMMON.includes(c.name)).sort((a, b) => a.name.localeCompare(b.name)).map((c) => line(c.name, c.short)).join('\n');
  s += `\n\nGlobal Options:\n${optionsHelp([...globalOptions, o('-h, --help', 'bool', 'Print usage')].sort((a, b) => a.long.localeCompare(b.long)))}\n`;
  s += `\nRun '${PROGRAM} COMMAND --help' for more information on a command.\n`;
  return s;
}

function groupHelp(g: GroupSpec): string {
  const lines = g.commands
    .map((c) => `  ${c.name.padEnd(11)} ${c.short}`)
    .sort()
    .join('\n');
  return `Usage:  ${PROGRAM} ${g.name} COMMAND\n\n${g.short}\n\nCommands:\n${lines}\n\nRun '${PROGRAM} ${g.name} COMMAND --help' for more information on a command.\n`;
}

function usageTail(spec: CmdSpec, path: string): string {
  return `\n\nUsage:  ${path} ${spec.use.slice(spec.use.indexOf(' ') + 1)}\n\nRun '${path} --help' for more information`;
}

function checkArgs(spec: CmdSpec, path: string, args: string[]): void {
  const a = spec.args;
  const usage = `Usage:  ${path} ${spec.use.slice(spec.use.indexOf(' ') + 1)}`;
  if (a.none && args.length > 0) throw new Error(`${PROGRAM}: '${path}' accepts no arguments\n\n${usage}\n\nRun '${path} --help' for more information`);
  if (a.exact !== undefined && args.length !== a.exact) {
    throw new Error(`${PROGRAM}: '${path}' requires ${a.exact} argument${a.exact === 1 ? '' : 's'}\n\n${usage}\n\nRun '${path} --help' for more information`);
  }
  if (a.min !== undefined && args.length < a.min) {
    throw new Error(`${PROGRAM}: '${path}' requires at least ${a.min} argument${a.min === 1 ? '' : 's'}\n\n${usage}\n\nSee '${path} --help' for more information`);
  }
  if (a.max !== undefined && args.length > a.max) {
    throw new Error(`${PROGRAM}: '${path}' requires at most ${a.max} argument${a.max === 1 ? '' : 's'}\n\n${usage}\n\nRun '${path} --help' for more information`);
  }
}

/** Value checks pflag does while parsing (exit 125 with usage on failure). */
function checkValues(spec: CmdSpec, opts: Opts): void {
  for (const s of spec.options) {
    const v = opts[camel(s.long)];
    if (v === undefined) continue;
    const values = Array.isArray(v) ? (v as string[]) : [v];
    for (const value of values) {
      if (typeof value !== 'string') continue;
      const bad = (why: string): never => {
        throw new FlagError(`invalid argument ${JSON.stringify(value)} for "${flagName(s)}" flag: ${why}`);
      };
      if (s.kind === 'int' && !/^[+-]?\d+$/.test(value)) bad(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
      if (s.kind === 'bytes' && value !== '-1') {
        try {
          ramInBytes(value);
        } catch (e) {
          bad((e as Error).message);
        }
      }
      if (s.validate) {
        try {
          s.validate(value);
        } catch (e) {
          bad((e as Error).message);
        }
      }
      if (s.kind === 'duration') {
        try {
          parseGoDurationStrict(value);
        } catch (e) {
          bad((e as Error).message);
        }
      }
      if (s.kind === 'decimal') {
        try {
          parseNanoCPUs(value);
        } catch (e) {
          bad((e as Error).message);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// pflag-compatible argument pre-processing

const TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/**
 * Rewrites what pflag accepts and commander does not: `--bool=false`, `-x=value`. Returns the
 * rewritten args, the booleans explicitly set to false, and the names of every flag given.
 */
function preprocess(args: string[], spec: CmdSpec): { args: string[]; falses: Set<string>; given: Set<string> } {
  const byLong = new Map(spec.options.map((s) => [s.long, s]));
  const byShort = new Map(spec.options.filter((s) => s.short).map((s) => [s.short!, s]));
  const out: string[] = [];
  const falses = new Set<string>();
  const given = new Set<string>();
  const boolValue = (s: OptSpec, v: string): boolean => {
    if (TRUE.includes(v)) return true;
    if (FALSE.includes(v)) return false;
    throw new FlagError(`invalid argument ${JSON.stringify(v)} for "${flagName(s)}" flag: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
  };
  let i = 0;
  while (i < args.length) {
    const a = args[i];
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const s = byLong.get(name);
      if (s) given.add(camel(s.long));
      if (s && s.kind === 'bool' && eq >= 0) {
        if (boolValue(s, a.slice(eq + 1))) out.push(`--${internal(name)}`);
        else falses.add(camel(s.long));
        i++;
        continue;
      }
      out.push(s ? `--${internal(name)}${eq < 0 ? '' : a.slice(eq)}` : a);
      if (s && s.kind !== 'bool' && eq < 0) {
        if (i + 1 >= args.length) throw new FlagError(`flag needs an argument: --${name}`);
        out.push(args[i + 1]);
        i += 2;
        continue;
      }
      i++;
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // Shorthand cluster: -dit, -qf value, -e=X, -ePATH=/x.
      let j = 1;
      const parts: string[] = [];
      let consumedNext = false;
      while (j < a.length) {
        const c = a[j];
        const s = byShort.get(c);
        if (!s) {
          if (c === 'h' && !spec.noShortHelp && !byLong.has('help')) {
            parts.push('--help');
            j++;
            continue;
          }
          throw new FlagError(`unknown shorthand flag: '${c}' in ${a}`);
        }
        given.add(camel(s.long));
        if (s.kind === 'bool') {
          if (a[j + 1] === '=') {
            if (boolValue(s, a.slice(j + 2))) parts.push(`--${internal(s.long)}`);
            else falses.add(camel(s.long));
            j = a.length;
            break;
          }
          parts.push(`--${internal(s.long)}`);
          j++;
          continue;
        }
        let value = a.slice(j + 1);
        if (value.startsWith('=')) value = value.slice(1);
        else if (value === '') {
          if (i + 1 >= args.length) throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
          value = args[i + 1];
          consumedNext = true;
        }
        parts.push(`--${internal(s.long)}`, value);
        j = a.length;
      }
      out.push(...parts);
      i += consumedNext ? 2 : 1;
      continue;
    }
    // A positional argument.
    if (spec.interspersed === false) {
      out.push('--', ...args.slice(i));
      break;
    }
    out.push(a);
    i++;
  }
  return { args: out, falses, given };
}

// ---------------------------------------------------------------------------------------------
// Wiring

interface Outcome {
  status: number;
}

/** What pre-processing learned about the addressed command's flags. */
const flagMeta = new Map<CmdSpec, { falses: Set<string>; given: Set<string> }>();

function addCommand(parent: Command, spec: CmdSpec, path: string, cliFor: () => Cli, outcome: Outcome): void {
  const cmd = new Command(spec.name);
  if (spec.aliases) for (const a of spec.aliases) cmd.alias(a);
  cmd.helpOption(false);
  cmd.allowExcessArguments(true);
  cmd.argument('[args...]');
  cmd.exitOverride();
  cmd.showSuggestionAfterError(false);
  cmd.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  // Options are registered under mangled names (--f-<long>): commander would read --no-trunc
  // as the negation of --trunc. Pre-processing rewrites every known flag to this form.
  for (const s of spec.options) {
    const flags = `--${internal(s.long)}${s.kind === 'bool' ? '' : ' <value>'}`;
    if (s.kind === 'list') cmd.option(flags, s.desc, (v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    else cmd.option(flags, s.desc);
  }
  if (!spec.options.some((s) => s.long === 'help')) cmd.option('--help', 'Print usage');
  const fullPath = `${path} ${spec.name}`;
  cmd.action(async (args: string[], raw: Opts) => {
    const opts: Opts = { help: raw.help };
    for (const s of spec.options) {
      const v = raw[camel(internal(s.long))];
      if (v !== undefined) opts[camel(s.long)] = v;
    }
    const meta = flagMeta.get(spec) ?? { falses: new Set<string>(), given: new Set<string>() };
    if (opts.help) {
      const cli = cliFor();
      cli.out.write(commandHelp(spec, fullPath));
      return;
    }
    for (const f of meta.falses) opts[f] = false;
    try {
      checkValues(spec, opts);
    } catch (e) {
      if (e instanceof FlagError) throw new StatusError(125, e.message + usageTail(spec, fullPath));
      throw e;
    }
    checkArgs(spec, fullPath, args);
    const r = await spec.run(cliFor(), args, opts, meta.given);
    if (typeof r === 'number') outcome.status = r;
  });
  parent.addCommand(cmd);
}

/** Finds the command spec an argv addresses, to pre-process its flags. */
function locate(argv: string[]): { index: number; spec?: CmdSpec; path: string; group?: GroupSpec } {
  // Skip global options.
  let i = 0;
  while (i < argv.length && argv[i].startsWith('-') && argv[i] !== '--') {
    const a = argv[i];
    const takesValue = ['-H', '--host', '--config', '-c', '--context', '-l', '--log-level'].includes(a);
    i += takesValue ? 2 : 1;
  }
  const name = argv[i];
  if (name === undefined) return { index: i, path: PROGRAM };
  const group = groups.find((g) => g.name === name);
  if (group) {
    const sub = argv[i + 1];
    const spec = group.commands.find((c) => c.name === sub || c.aliases?.includes(sub));
    return { index: i + 2, spec, path: `${PROGRAM} ${group.name}`, group };
  }
  const spec = topCommands.find((c) => c.name === name || c.aliases?.includes(name));
  return { index: i + 1, spec, path: PROGRAM };
}

export interface MainIO {
  env?: NodeJS.ProcessEnv;
  stdin?: InStream;
  stdout?: OutStream;
  stderr?: OutStream;
}

/** Runs one berth command line (argv without the program) and returns the exit status. */
export async function main(argv: string[], io: MainIO = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const stdin = io.stdin ?? process.stdin;
  const outcome: Outcome = { status: 0 };
  let api: ApiClient | undefined;
  let hostValue: string | undefined;
  const cliFor = (): Cli => {
    if (!api) api = new ApiClient(parseHost(hostValue ?? env.DOCKER_HOST));
    return { api, in: stdin, out: stdout, err: stderr, env };
  };

  const program = new Command(PROGRAM);
  program.enablePositionalOptions();
  program.passThroughOptions();
  program.helpOption(false);
  program.exitOverride();
  program.showSuggestionAfterError(false);
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  program.option('-H, --host <value>');
  program.option('--config <value>');
  program.option('-c, --context <value>');
  program.option('-D, --debug');
  program.option('-l, --log-level <value>');
  program.option('-v, --version');
  program.option('-h, --help');
  program.allowExcessArguments(true);
  program.argument('[command...]');
  program.action((args: string[], opts: Opts) => {
    if (opts.version) {
      stdout.write(`${PROGRAM} version ${CLIENT_VERSION}, build unknown\n`);
      return;
    }
    if (opts.help) {
      stdout.write(topHelp());
      return;
    }
    if (args.length === 0) {
      // Like the docker CLI: bare `berth` shows the help on stderr.
      stderr.write(topHelp());
      return;
    }
    throw new Error(`${PROGRAM}: unknown command: ${PROGRAM} ${args[0]}\n\nRun '${PROGRAM} --help' for more information`);
  });

  for (const spec of topCommands) addCommand(program, spec, PROGRAM, cliFor, outcome);
  for (const g of groups) {
    const gc = new Command(g.name);
    gc.enablePositionalOptions();
    gc.helpOption(false);
    gc.exitOverride();
    gc.showSuggestionAfterError(false);
    gc.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    gc.allowExcessArguments(true);
    gc.option('-h, --help');
    gc.argument('[command...]');
    gc.action((args: string[], opts: Opts) => {
      if (opts.help) {
        stdout.write(groupHelp(g));
        return;
      }
      if (args.length === 0) {
        stderr.write(groupHelp(g));
        return;
      }
      throw new Error(`${PROGRAM}: unknown command: ${PROGRAM} ${g.name} ${args[0]}\n\nUsage:  ${PROGRAM} ${g.name}\n\nRun '${PROGRAM} ${g.name} --help' for more information`);
    });
    for (const spec of g.commands) addCommand(gc, spec, `${PROGRAM} ${g.name}`, cliFor, outcome);
    program.addCommand(gc);
  }

  // pflag semantics for the addressed command's flags.
  const loc = locate(argv);
  let args = argv;
  if (loc.spec) {
    try {
      const pre = preprocess(argv.slice(loc.index), loc.spec);
      args = [...argv.slice(0, loc.index), ...pre.args];
      flagMeta.set(loc.spec, { falses: pre.falses, given: pre.given });
    } catch (e) {
      if (e instanceof FlagError) {
        stderr.write(e.message + usageTail(loc.spec, `${loc.path} ${loc.spec.name}`) + '\n');
        return 125;
      }
      throw e;
    }
  }
  // The host flag is needed before any command runs.
  const hostIdx = argv.slice(0, loc.index).findIndex((a) => a === '-H' || a === '--host' || a.startsWith('--host=') || (a.startsWith('-H') && a.length > 2));
  if (hostIdx >= 0) {
    const a = argv[hostIdx];
    hostValue = a === '-H' || a === '--host' ? argv[hostIdx + 1] : a.startsWith('--host=') ? a.slice(7) : a.slice(2).replace(/^=/, '');
  }

  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    return report(e, loc, stderr);
  } finally {
    await api?.close();
  }
  return outcome.status;
}

function report(e: unknown, loc: { spec?: CmdSpec; path: string }, stderr: OutStream): number {
  if (e instanceof StatusError) {
    if (e.message) stderr.write(e.message + '\n');
    return e.status === 0 ? 1 : e.status;
  }
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.exitCode === 0) return 0;
    let msg = e.message.replace(/^error: /, '');
    const unknown = /unknown option '([^']+)'/.exec(msg);
    if (unknown) msg = `unknown flag: ${unknown[1]}`;
    const missing = /option '([^']+)' argument missing/.exec(msg);
    if (missing) msg = `flag needs an argument: ${missing[1].split(' ')[0]}`;
    const tail = loc.spec ? usageTail(loc.spec, `${loc.path} ${loc.spec.name}`) : `\n\nUsage:  ${PROGRAM} [OPTIONS] COMMAND\n\nRun '${PROGRAM} --help' for more information`;
    stderr.write(msg + tail + '\n');
    return 125;
  }
  const msg = (e as Error)?.message ?? String(e);
  if (msg) stderr.write(msg + '\n');
  return 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    async (code) => {
      await Promise.all([drain(process.stdout), drain(process.stderr)]);
      process.exit(code);
    },
    async (e: unknown) => {
      process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
      await drain(process.stderr);
      process.exit(1);
    },
  );
}
