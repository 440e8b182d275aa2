// The client's pure formatting against what the docker CLI prints: go-units durations and
// sizes (expected values from docker/go-units' own tests), Go's %g, the tabwriter (docker
// CLI goldens), command ellipsis, ports, and whole `ps`/`images` tables.
import { describe, expect, it } from 'vitest';
import { bytesSize, formatG, fromHumanSize, humanSize, humanSizeWithPrecision, ramInBytes } from '../../client/format/size';
import { ansic, getTimestamp, goTimeString, humanDuration, parseGoDuration, timeAgo } from '../../client/format/time';
import { TabWriter, ellipsis, stringWidth, tabulate } from '../../client/format/table';
import {
  CONTAINER_HEADERS,
  IMAGE_HEADERS,
  containerContext,
  containerFormat,
  displayablePorts,
  goQuote,
  imageContexts,
  imageFormat,
  preFormat,
  renderRows,
  type ContainerSummary,
} from '../../client/format/context';
import { familiarString, parseNormalizedNamed, tagNameOnly, truncateID } from '../../client/format/reference';
import { compactJSON, indentJSON } from '../../client/format/json';
import { infoText, sortMapFields, versionText } from '../../client/commands/system';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 365 * DAY;

describe('humanDuration (go-units HumanDuration)', () => {
  it.each([
    [450, 'Less than a second'],
    [1 * SEC, '1 second'],
    [45 * SEC, '45 seconds'],
    [59 * SEC, '59 seconds'],
    [60 * SEC, 'About a minute'],
    [3 * MIN, '3 minutes'],
    [35 * MIN + 40 * SEC, '35 minutes'],
    [59 * MIN, '59 minutes'],
    [1 * HOUR, 'About an hour'],
    [1 * HOUR + 29 * MIN, 'About an hour'],
    [1 * HOUR + 31 * MIN, '2 hours'],
    [3 * HOUR + 29 * MIN, '3 hours'],
    [3 * HOUR + 31 * MIN, '4 hours'],
    [24 * HOUR, '24 hours'],
    [DAY + 12 * HOUR, '36 hours'],
    [2 * DAY, '2 days'],
    [13 * DAY + 5 * HOUR, '13 days'],
    [2 * WEEK, '2 weeks'],
    [2 * WEEK + 4 * DAY, '2 weeks'],
    [1 * MONTH, '4 weeks'],
    [MONTH + 2 * WEEK, '6 weeks'],
    [2 * MONTH, '2 months'],
    [5 * MONTH + 2 * WEEK, '5 months'],
    [24 * MONTH, '24 months'],
    [24 * MONTH + 2 * WEEK, '2 years'],
    [3 * YEAR + 2 * MONTH, '3 years'],
  ])('%d ms is %s', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });

  it('treats a negative duration (clock skew) as less than a second', () => {
    expect(humanDuration(-5000)).toBe('Less than a second');
  });

  it('says "N units ago" relative to now', () => {
    const now = Date.UTC(2024, 0, 1);
    expect(timeAgo(now / 1000 - 20 * 3600, now)).toBe('20 hours ago');
    expect(timeAgo(now / 1000 - 14 * 86400, now)).toBe('2 weeks ago');
  });
});

describe('sizes (go-units)', () => {
  it.each([
    [1000, '1kB'],
    [1024, '1.024kB'],
    [1000000, '1MB'],
    [1048576, '1.049MB'],
    [2e6, '2MB'],
    [3.42e9, '3.42GB'],
    [5.372e12, '5.372TB'],
    [2.22e15, '2.22PB'],
    [1e13 * 1e15, '1e+04YB'],
  ])('HumanSize(%d) = %s', (n, want) => {
    expect(humanSize(n)).toBe(want);
  });

  it.each([
    [1024, '1KiB'],
    [2 * 1024 * 1024, '2MiB'],
    [3.42 * 1024 ** 3, '3.42GiB'],
    [5.372 * 1024 ** 4, '5.372TiB'],
    [1024 ** 5 * 1024 ** 5, '1.049e+06YiB'],
    [16654548992, '15.51GiB'],
  ])('BytesSize(%d) = %s', (n, want) => {
    expect(bytesSize(n)).toBe(want);
  });

  it('prints image sizes with 3 significant digits as `docker images` does', () => {
    expect(humanSizeWithPrecision(4_261_000, 3)).toBe('4.26MB');
    expect(humanSizeWithPrecision(1_240_000, 3)).toBe('1.24MB');
    expect(humanSizeWithPrecision(541_000_000, 3)).toBe('541MB');
    expect(humanSizeWithPrecision(302_000_000, 3)).toBe('302MB');
    expect(humanSizeWithPrecision(0, 3)).toBe('0B');
    expect(humanSizeWithPrecision(999, 3)).toBe('999B');
    // Go rounds 999.5 kB up to 1000 and then needs the exponent form.
    expect(humanSizeWithPrecision(999_500, 3)).toBe('1e+03kB');
  });

  it('formats like Go %g, rounding an exact tie to even', () => {
    expect(formatG(1.125, 3)).toBe('1.12');
    expect(formatG(1.375, 3)).toBe('1.38');
    expect(formatG(100, 3)).toBe('100');
    expect(formatG(1000, 3)).toBe('1e+03');
    expect(formatG(0.0001234, 3)).toBe('0.000123');
    expect(formatG(0.00001234, 3)).toBe('1.23e-05');
    expect(formatG(4.2, 3)).toBe('4.2');
  });

  it('parses RAM sizes (binary) and human sizes (decimal)', () => {
    expect(ramInBytes('32')).toBe(32);
    expect(ramInBytes('32k')).toBe(32 * 1024);
    expect(ramInBytes('32KIB')).toBe(32 * 1024);
    expect(ramInBytes('512m')).toBe(512 * 1024 * 1024);
    expect(ramInBytes('32.3 mb')).toBe(Math.trunc(32.3 * 1024 * 1024));
    expect(fromHumanSize('32.5 kB')).toBe(32500);
    expect(fromHumanSize('0.3 K')).toBe(300);
    for (const bad of ['', 'hello', '-32', ' 32 ', '32m b', '32bm']) expect(() => ramInBytes(bad), bad).toThrow();
    expect(() => ramInBytes('12x')).toThrow("invalid suffix: 'x'");
  });
});

describe('times', () => {
  it("renders Go's time.String() in the local zone", () => {
    const s = goTimeString(1_700_000_000);
    expect(s).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} \S+$/);
    if (new Date(0).getTimezoneOffset() === 0) expect(s).toBe('2023-11-14 22:13:20 +0000 UTC');
  });

  it('reformats RFC 3339 build times as ANSIC', () => {
    expect(ansic('2023-10-26T09:08:01.000000000+00:00')).toBe('Thu Oct 26 09:08:01 2023');
    expect(ansic('2024-05-06T07:08:09Z')).toBe('Mon May  6 07:08:09 2024');
    expect(ansic('not a time')).toBe('not a time');
  });

  it('parses Go durations and turns relative --since values into timestamps', () => {
    expect(parseGoDuration('1h30m')).toBe(90 * MIN);
    expect(parseGoDuration('42m')).toBe(42 * MIN);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('abc')).toBeUndefined();
    const now = Date.UTC(2024, 0, 1, 12);
    expect(getTimestamp('10m', now)).toBe(`${now / 1000 - 600}.000000000`);
    expect(getTimestamp('1700000000', now)).toBe('1700000000');
    expect(getTimestamp('2013-01-02T13:23:37Z', now)).toBe('1357133017.000000000');
  });
});

describe('tabwriter', () => {
  it('pads an empty `docker ps` header exactly as docker prints it', () => {
    expect(tabulate('CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n')).toBe(
      'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n',
    );
  });

  it('pads an empty `docker images` header as the docker CLI golden file', () => {
    expect(tabulate('REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n')).toBe('REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n');
  });

  it('sizes columns by their widest cell plus padding, with a minimum width', () => {
    expect(tabulate('a\tbb\tc\naaaaaaaaaaaa\tb\tc\n')).toBe('a              bb        c\naaaaaaaaaaaa   b         c\n');
  });

  it('does not align cells across a line without tabs (column blocks)', () => {
    expect(tabulate('a\tb\nno tabs here\nlonger-cell-here\tb\n')).toBe('a         b\nno tabs here\nlonger-cell-here   b\n');
  });

  it('measures wide characters as two columns', () => {
    expect(stringWidth('日本語')).toBe(6);
    expect(tabulate('日本語の名前\tx\nab\tx\n')).toBe('日本語の名前   x\nab             x\n');
  });

  it("uses docker version's (20, 1, 1) settings", () => {
    const w = new TabWriter(20, 1, 1, ' ');
    w.write('Client:\n Version:\t0.1.0\n API version:\t1.43\n');
    expect(w.flush()).toBe('Client:\n Version:           0.1.0\n API version:       1.43\n');
  });
});

describe('ellipsis (docker CLI displayutils)', () => {
  it.each([
    ['t🐳ststring', 0, ''],
    ['t🐳ststring', 1, 't'],
    ['t🐳ststring', 2, 't…'],
    ['t🐳ststring', 6, 't🐳st…'],
    ['t🐳ststring', 20, 't🐳ststring'],
    ['你好世界teststring', 1, '你'],
    ['你好世界teststring', 3, '你…'],
    ['你好世界teststring', 6, '你好…'],
    ['你好世界teststring', 20, '你好世界teststring'],
  ])('Ellipsis(%s, %d) = %s', (s, w, want) => {
    expect(ellipsis(s, w)).toBe(want);
  });

  it('cuts COMMAND to 20 columns and quotes it like `docker ps`', () => {
    const c = containerContext({ Id: 'x', Command: 'docker-entrypoint.sh redis-server' }, true);
    expect((c.Command as () => string)()).toBe('"docker-entrypoint.s…"');
    const full = containerContext({ Id: 'x', Command: 'sh -c "echo hi"' }, false);
    expect((full.Command as () => string)()).toBe('"sh -c \\"echo hi\\""');
  });

  it("quotes like Go's strconv.Quote", () => {
    expect(goQuote('a\tb\x01\x7f"\\')).toBe('"a\\tb\\x01\\x7f\\"\\\\"');
    expect(goQuote('日本語')).toBe('"日本語"');
    expect(goQuote('\u2028')).toBe('"\\u2028"');
  });
});

describe('displayablePorts (docker CLI test table)', () => {
  it.each([
    [[{ PrivatePort: 9988, Type: 'tcp' }], '9988/tcp'],
    [[{ IP: '0.0.0.0', PrivatePort: 9988, Type: 'tcp' }], '0.0.0.0:0->9988/tcp'],
    [[{ IP: '::', PrivatePort: 9988, Type: 'tcp' }], '[::]:0->9988/tcp'],
    [[{ PrivatePort: 9988, PublicPort: 8899, Type: 'tcp' }], '9988/tcp'],
    [[{ IP: '4.3.2.1', PrivatePort: 9988, PublicPort: 8899, Type: 'tcp' }], '4.3.2.1:8899->9988/tcp'],
    [[{ IP: '::1', PrivatePort: 9988, PublicPort: 9988, Type: 'tcp' }], '[::1]:9988->9988/tcp'],
    [
      [
        { PrivatePort: 9988, Type: 'udp' },
        { PrivatePort: 9988, Type: 'udp' },
      ],
      '9988/udp, 9988/udp',
    ],
    [
      [
        { IP: '1.2.3.4', PublicPort: 9998, PrivatePort: 9998, Type: 'udp' },
        { IP: '1.2.3.4', PublicPort: 9999, PrivatePort: 9999, Type: 'udp' },
      ],
      '1.2.3.4:9998-9999->9998-9999/udp',
    ],
    [
      [
        { PrivatePort: 80, Type: 'tcp' },
        { PrivatePort: 81, Type: 'tcp' },
        { PrivatePort: 82, Type: 'tcp' },
      ],
      '80-82/tcp',
    ],
    [
      [
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { PrivatePort: 443, Type: 'tcp' },
      ],
      '443/tcp, 0.0.0.0:8080->80/tcp',
    ],
  ])('%j → %s', (ports, want) => {
    expect(displayablePorts(ports)).toBe(want);
  });
});

describe('references', () => {
  it('normalises names like distribution/reference', () => {
    expect(parseNormalizedNamed('busybox')).toEqual({ domain: 'docker.io', path: 'library/busybox', tag: undefined, digest: undefined });
    expect(familiarString(tagNameOnly(parseNormalizedNamed('busybox')))).toBe('busybox:latest');
    expect(familiarString(tagNameOnly(parseNormalizedNamed('docker.io/library/nginx:1.25')))).toBe('nginx:1.25');
    expect(familiarString(parseNormalizedNamed('localhost:5000/foo/bar:dev'))).toBe('localhost:5000/foo/bar:dev');
    expect(familiarString(parseNormalizedNamed('kuangshen/centos'))).toBe('kuangshen/centos');
    expect(() => parseNormalizedNamed('UPPER')).toThrow('invalid reference format: repository name (library/UPPER) must be lowercase');
  });

  it('truncates IDs to 12 characters without the algorithm', () => {
    expect(truncateID('sha256:' + 'ab'.repeat(32))).toBe('abababababab');
    expect(truncateID('abc')).toBe('abc');
  });
});

describe('list rendering', () => {
  const now = Date.UTC(2024, 0, 1, 12);
  const t = (agoMs: number): number => Math.floor((now - agoMs) / 1000);

  it('renders the docker CLI golden `container-list-without-format` table', () => {
    const base = { Image: 'busybox:latest', ImageID: 'sha256:aaa', Command: 'top', Created: t(90 * SEC), Status: 'Up 1 minute', State: 'running' };
    const list: ContainerSummary[] = [
      { ...base, Id: 'container_id', Names: ['/c1'] },
      { ...base, Id: 'container_id', Names: ['/c2'] },
      { ...base, Id: 'container_id', Names: ['/c3'], Ports: [80, 81, 82].map((p) => ({ PrivatePort: p, Type: 'tcp' })) },
      { ...base, Id: 'container_id', Names: ['/c4'], Ports: [{ PrivatePort: 81, PublicPort: 81, Type: 'udp' }] },
      { ...base, Id: 'container_id', Names: ['/c5'], Ports: [{ IP: '8.8.8.8', PrivatePort: 82, PublicPort: 82, Type: 'tcp' }] },
    ];
    const out = renderRows(containerFormat('', false, false), list.map((c) => containerContext(c, true, now)), CONTAINER_HEADERS);
    expect(out).toBe(
      [
        'CONTAINER ID   IMAGE            COMMAND   CREATED              STATUS        PORTS                NAMES',
        'container_id   busybox:latest   "top"     About a minute ago   Up 1 minute                        c1',
        'container_id   busybox:latest   "top"     About a minute ago   Up 1 minute                        c2',
        'container_id   busybox:latest   "top"     About a minute ago   Up 1 minute   80-82/tcp            c3',
        'container_id   busybox:latest   "top"     About a minute ago   Up 1 minute   81/udp               c4',
        'container_id   busybox:latest   "top"     About a minute ago   Up 1 minute   8.8.8.8:82->82/tcp   c5',
        '',
      ].join('\n'),
    );
  });

  it('shows link names only with --no-trunc and the 12-hex ID otherwise', () => {
    const c: ContainerSummary = { Id: 'f'.repeat(64), Names: ['/web/redis', '/redis'], Image: 'docker.io/library/redis:latest', ImageID: 'sha256:1' };
    const short = containerContext(c, true);
    expect((short.ID as () => string)()).toBe('ffffffffffff');
    expect((short.Names as () => string)()).toBe('redis');
    expect((short.Image as () => string)()).toBe('redis:latest');
    const long = containerContext(c, false);
    expect((long.Names as () => string)()).toBe('web/redis,redis');
    expect((long.Image as () => string)()).toBe('docker.io/library/redis:latest');
  });

  it('prints {{json .}} rows with sorted keys and json.Marshal escaping', () => {
    const c: ContainerSummary = { Id: 'a'.repeat(64), Names: ['/x'], Image: 'nginx', Command: 'nginx', Created: t(5 * SEC), State: 'running', Status: 'Up', Labels: { b: '2', a: '1' }, Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }] };
    const line = renderRows('json', [containerContext(c, true, now)], CONTAINER_HEADERS).trim();
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Platform', 'Ports', 'RunningFor', 'Size', 'State', 'Status']);
    expect(line).toContain('"Ports":"0.0.0.0:8080-\\u003e80/tcp"');
    expect(parsed.Labels).toBe('a=1,b=2');
    expect(parsed.Size).toBe('0B');
  });

  it('renders images with <none> rows, one row per tag, and digests on request', () => {
    const imgs = [
      { Id: 'sha256:' + 'b'.repeat(64), RepoTags: ['nginx:latest', 'nginx:1.25'], RepoDigests: ['nginx@sha256:' + '3'.repeat(64)], Created: t(12 * DAY), Size: 187_000_000 },
      { Id: 'sha256:' + '4'.repeat(64), RepoTags: [], RepoDigests: [], Created: t(5 * SEC), Size: 1_240_000 },
    ];
    const rows = imgs.flatMap((i) => imageContexts(i, { trunc: true, digest: false, formatHasDigest: false }, now));
    expect(renderRows(imageFormat('table', false, false), rows, IMAGE_HEADERS)).toBe(
      [
        'REPOSITORY   TAG       IMAGE ID       CREATED         SIZE',
        'nginx        latest    bbbbbbbbbbbb   12 days ago     187MB',
        'nginx        1.25      bbbbbbbbbbbb   12 days ago     187MB',
        '<none>       <none>    444444444444   5 seconds ago   1.24MB',
        '',
      ].join('\n'),
    );
    const digestRows = imageContexts(imgs[0], { trunc: true, digest: true, formatHasDigest: false }, now);
    expect(renderRows(imageFormat('table', false, true), digestRows, IMAGE_HEADERS).split('\n')[1]).toBe(
      `nginx        latest    sha256:${'3'.repeat(64)}   bbbbbbbbbbbb   12 days ago   187MB`,
    );
    expect(renderRows(imageFormat('table', true, false), rows, IMAGE_HEADERS)).toBe('bbbbbbbbbbbb\nbbbbbbbbbbbb\n444444444444\n');
  });

  it('prepares --format strings as formatter.Context does', () => {
    expect(preFormat('table {{.ID}}\\t{{.Names}}')).toEqual({ template: '{{.ID}}\t{{.Names}}', table: true });
    expect(preFormat('json')).toEqual({ template: '{{json .}}', table: false });
    expect(renderRows('table {{.ID}}\\t{{.Label "com.example.my-label"}}', [], CONTAINER_HEADERS)).toBe('CONTAINER ID   my label\n');
  });
});

describe('inspect JSON (Go json.Indent)', () => {
  it('indents the daemon bytes with 4 spaces and keeps escapes and key order', () => {
    const raw = '[{"Id":"x","Env":["A=\\u003cb\\u003e"],"Empty":{},"List":[],"Z":1,"A":{"b":null}}\n]';
    expect(indentJSON(raw)).toBe(
      ['[', '    {', '        "Id": "x",', '        "Env": [', '            "A=\\u003cb\\u003e"', '        ],', '        "Empty": {},', '        "List": [],', '        "Z": 1,', '        "A": {', '            "b": null', '        }', '    }', ']'].join('\n'),
    );
  });

  it('compacts for --format json', () => {
    expect(compactJSON('[{"a": [1, 2], "b": "x y"}\n]')).toBe('[{"a":[1,2],"b":"x y"}]');
  });
});

describe('version and info text', () => {
  it('aligns `version` like the docker CLI template through tabwriter (20, 1, 1)', () => {
    const client = { Version: '0.1.0', ApiVersion: '1.43', DefaultAPIVersion: '1.43', GoVersion: 'v20', GitCommit: 'abc', BuildTime: 'Mon May  6 07:08:09 2024', Os: 'linux', Arch: 'amd64', Context: 'default' };
    const server: Parameters<typeof versionText>[1] = {
      Platform: { Name: 'Berth Engine' },
      Components: [
        { Name: 'Engine', Version: '0.1.0', Details: { ApiVersion: '1.43', MinAPIVersion: '1.24', GoVersion: 'v20', GitCommit: 'abc', BuildTime: 'x', Os: 'linux', Arch: 'amd64', Experimental: 'false' } },
        { Name: 'runtime', Version: '1.0', Details: { b: '2', a: '1' } },
      ],
    };
    const w = new TabWriter(20, 1, 1, ' ');
    w.write(versionText(client, server));
    expect(w.flush()).toBe(
      [
        'Client:',
        ' Version:           0.1.0',
        ' API version:       1.43',
        ' Node version:      v20',
        ' Git commit:        abc',
        ' Built:             Mon May  6 07:08:09 2024',
        ' OS/Arch:           linux/amd64',
        ' Context:           default',
        '',
        'Server: Berth Engine',
        ' Engine:',
        '  Version:          0.1.0',
        '  API version:      1.43 (minimum version 1.24)',
        '  Go version:       v20',
        '  Git commit:       abc',
        '  Built:            x',
        '  OS/Arch:          linux/amd64',
        '  Experimental:     false',
        ' runtime:',
        '  Version:          1.0',
        '  a:                1',
        '  b:                2',
        '',
      ].join('\n'),
    );
  });

  it("prints `info`'s key lines", () => {
    const text = infoText({
      Containers: 4,
      ContainersRunning: 1,
      ContainersPaused: 0,
      ContainersStopped: 3,
      Images: 5,
      ServerVersion: '0.1.0',
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'extfs']],
      CgroupDriver: 'cgroupfs',
      CgroupVersion: '2',
      KernelVersion: '6.1.0',
      OperatingSystem: 'Debian GNU/Linux 12 (bookworm)',
      OSType: 'linux',
      NCPU: 8,
      MemTotal: 16654548992,
      Name: 'host1',
      DockerRootDir: '/var/lib/berth',
      SecurityOptions: ['name=seccomp,profile=builtin'],
    });
    const lines = text.split('\n');
    expect(lines.slice(0, 9)).toEqual([' Containers: 4', '  Running: 1', '  Paused: 0', '  Stopped: 3', ' Images: 5', ' Server Version: 0.1.0', ' Storage Driver: overlay2', '  Backing Filesystem: extfs', ' Cgroup Driver: cgroupfs']);
    for (const l of [' Cgroup Version: 2', ' Kernel Version: 6.1.0', ' Operating System: Debian GNU/Linux 12 (bookworm)', ' CPUs: 8', ' Total Memory: 15.51GiB', ' Name: host1', ' Docker Root Dir: /var/lib/berth', '  seccomp', '   Profile: builtin', ' Swarm: inactive']) {
      expect(lines).toContain(l);
    }
    expect(text.endsWith('\n\n')).toBe(true);
  });

  it('sorts the keys of map-typed inspect fields only', () => {
    const sorted = sortMapFields({ Z: 1, Config: { Labels: { b: '1', a: '2' }, Env: ['x'] }, A: 2 }) as Record<string, unknown>;
    expect(Object.keys(sorted)).toEqual(['Z', 'Config', 'A']);
    expect(Object.keys((sorted.Config as { Labels: object }).Labels)).toEqual(['a', 'b']);
  });
});
