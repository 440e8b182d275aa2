// pause/unpause, top, stats, rename, wait conditions and container prune through the real docker CLI.
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDocker, type TestDaemon, startDaemonWithImage, stopAndCheck } from '../helpers/daemon';

const IMG = 'berthproc/busybox:latest';
// The fields of StatsJSON the tests read.
interface Stats {
  name: string;
  read: string;
  preread: string;
  memory_stats: { limit: number };
  pids_stats: { current: number };
  cpu_stats: { cpu_usage: { total_usage: number }; online_cpus: number };
  precpu_stats: { cpu_usage: { total_usage: number } };
  networks: Record<string, { tx_packets: number; rx_bytes: number }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasDocker)('processes and resources', () => {
  let d: TestDaemon;

  beforeAll(async () => {
    d = await startDaemonWithImage(IMG);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
  });

  const counter = (name: string): number => Number(d.docker(['exec', name, 'cat', '/tmp/n']).stdout.trim());

  it('pauses: the counter stops, state is paused, exec and attach get 409; unpause resumes it', async () => {
    const loop = 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done';
    expect(d.docker(['run', '-d', '--name', 'count', IMG, 'sh', '-c', loop]).status).toBe(0);
    await sleep(500);
    expect(d.docker(['pause', 'count'])).toMatchObject({ status: 0, stdout: 'count\n' });
    expect(d.docker(['inspect', '-f', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}', 'count']).stdout).toBe('paused true true\n');
    expect(d.docker(['ps', '--format', '{{.Names}} {{.Status}}']).stdout).toMatch(/^count Up .* \(Paused\)$/m);
    const exec = d.docker(['exec', 'count', 'true']);
    expect(exec.status).not.toBe(0);
    expect(exec.stderr).toMatch(/Container [0-9a-f]{64} is paused, unpause the container before exec/);
    const attach = await d.api<{ message: string }>('POST', '/containers/count/attach?stream=1&stdout=1');
    expect(attach.status).toBe(409);
    expect(attach.body.message).toBe('You cannot attach to a paused container, unpause it first');
    expect(d.docker(['pause', 'count']).stderr).toMatch(/is already paused/);
    // Frozen: the file the loop writes keeps its content (read from the host, through the container's root).
    const pid = d.docker(['inspect', '-f', '{{.State.Pid}}', 'count']).stdout.trim();
    const file = `/proc/${pid}/root/tmp/n`;
    const read = (): string => readFileSync(file, 'utf8');
    const a = read();
    await sleep(800);
    expect(read()).toBe(a);
    expect(d.docker(['unpause', 'count'])).toMatchObject({ status: 0, stdout: 'count\n' });
    const b = counter('count');
    await sleep(600);
    expect(counter('count')).toBeGreaterThan(b);
    expect(d.docker(['unpause', 'count']).stderr).toMatch(/is not paused/);
  });

  it('starts processes with default signal dispositions: a pipe reader that leaves ends the writer', () => {
    expect(d.docker(['run', '--rm', IMG, 'grep', 'SigIgn', '/proc/self/status']).stdout).toBe('SigIgn:\t0000000000000000\n');
    const r = d.docker(['run', '--rm', IMG, 'sh', '-c', 'yes line | head -c 1000 | wc -c']);
    expect(r.stdout.trim()).toBe('1000');
  });

  it('stops and kills a paused container as Docker does', () => {
    expect(d.docker(['run', '-d', '--name', 'p1', IMG, 'sleep', '300']).status).toBe(0);
    expect(d.docker(['pause', 'p1']).status).toBe(0);
    expect(d.docker(['kill', 'p1']).status).toBe(0);
    expect(d.docker(['wait', 'p1']).stdout).toBe('137\n');
    expect(d.docker(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'p1']).stdout).toBe('exited false\n');
    expect(d.docker(['run', '-d', '--name', 'p2', IMG, 'sleep', '300']).status).toBe(0);
    expect(d.docker(['pause', 'p2']).status).toBe(0);
    expect(d.docker(['stop', '-t', '1', 'p2']).status).toBe(0);
    expect(d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'p2']).stdout).toBe('exited 137\n');
    expect(d.docker(['pause', 'p2']).stderr).toMatch(/is not running/);
    expect(d.docker(['run', '-d', '--name', 'p3', IMG, 'sleep', '300']).status).toBe(0);
    expect(d.docker(['pause', 'p3']).status).toBe(0);
    expect(d.docker(['rm', '-f', 'p3'])).toMatchObject({ status: 0, stdout: 'p3\n' });
  });

  it('top lists the container processes with ps_args', async () => {
    // busybox sh execs its last command: the container runs `sleep 302` as PID 1 and `sleep 301`.
    expect(d.docker(['run', '-d', '--name', 'tops', IMG, 'sh', '-c', 'sleep 301 & sleep 302']).status).toBe(0);
    await sleep(200);
    const r = d.docker(['top', 'tops']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(lines.length).toBe(3);
    const api = await d.api<{ Titles: string[]; Processes: string[][] }>('GET', '/containers/tops/top');
    expect(api.body.Titles).toEqual(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    expect(api.body.Processes.map((p) => p[7]).sort()).toEqual(['sleep 301', 'sleep 302']);
    const pid1 = d.docker(['inspect', '-f', '{{.State.Pid}}', 'tops']).stdout.trim();
    expect(api.body.Processes.map((p) => p[1])).toContain(pid1);
    const custom = d.docker(['top', 'tops', '-o', 'pid,comm']);
    expect(custom.stdout.split('\n')[0]).toMatch(/^PID\s+COMMAND$/);
    expect(custom.stdout.trim().split('\n').length).toBe(3);
    const renamedPid = await d.api<{ message: string }>('GET', `/containers/tops/top?ps_args=${encodeURIComponent('-o user=PID')}`);
    expect(renamedPid.status).toBe(400);
    const stopped = d.docker(['top', 'p1']);
    expect(stopped.stderr).toMatch(/Container [0-9a-f]{64} is not running/);
  });

  it('stats --no-stream prints CPU %, a MiB usage against the limit, NET and BLOCK I/O, PIDS', async () => {
    // 20 MB held in a shell variable: anonymous memory, which the CLI counts (page cache it does not).
    const hold = 'x=$(head -c 20000000 /dev/zero | tr "\\0" a); touch /tmp/ready; sleep 300; echo ${#x}';
    expect(d.docker(['run', '-d', '--name', 'st', '-m', '64m', IMG, 'sh', '-c', hold]).status).toBe(0);
    for (let i = 0; i < 100 && d.docker(['exec', 'st', 'test', '-e', '/tmp/ready']).status !== 0; i++) await sleep(100);
    const r = d.docker(['stats', '--no-stream', 'st']);
    expect(r.status).toBe(0);
    const [head, row] = r.stdout.trim().split('\n');
    expect(head).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    expect(row).toMatch(/^[0-9a-f]{12}\s+st\s+\d+\.\d\d%\s+\d+(\.\d+)?MiB \/ 64MiB\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\S+ \/ \S+\s+2$/);
    const mib = Number(/\s([\d.]+)MiB \//.exec(row)?.[1]);
    expect(mib).toBeGreaterThan(15);
    const api = await d.api<Stats>('GET', '/containers/st/stats?stream=false&one-shot=true');
    const s = api.body;
    expect(Object.keys(s)).toEqual(['read', 'preread', 'pids_stats', 'blkio_stats', 'num_procs', 'storage_stats', 'cpu_stats', 'precpu_stats', 'memory_stats', 'name', 'id', 'networks']);
    expect(s.name).toBe('/st');
    expect(s.memory_stats.limit).toBe(64 * 1024 * 1024);
    expect(s.pids_stats.current).toBe(2);
    expect(s.cpu_stats.cpu_usage.total_usage).toBeGreaterThan(0);
    expect(s.cpu_stats.online_cpus).toBeGreaterThan(0);
    expect(s.precpu_stats.cpu_usage.total_usage).toBe(0);
    expect(Object.keys(s.networks)).toEqual(['eth0']);
    const gw = d.gateway;
    expect(d.docker(['exec', 'st', 'ping', '-c', '2', '-W', '1', gw]).status).toBe(0);
    const after = (await d.api<Stats>('GET', '/containers/st/stats?stream=false&one-shot=true')).body;
    expect(after.networks.eth0.tx_packets).toBeGreaterThanOrEqual(2);
    expect(after.networks.eth0.rx_bytes).toBeGreaterThan(0);
  });

  it('streams stats once a second with the previous sample as precpu', async () => {
    const { request } = await import('http');
    const got: Array<Stats> = [];
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: d.socket, path: '/containers/st/stats' }, (res) => {
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            got.push(JSON.parse(buf.slice(0, nl)) as Stats);
            buf = buf.slice(nl + 1);
            if (got.length === 3) {
              req.destroy();
              resolve();
            }
          }
        });
      });
      req.on('error', (e) => (got.length === 3 ? resolve() : reject(e)));
      req.end();
    });
    expect(got[1].preread).toBe(got[0].read);
    expect(got[2].precpu_stats.cpu_usage.total_usage).toBe(got[1].cpu_stats.cpu_usage.total_usage);
    expect(Date.parse(got[2].read) - Date.parse(got[1].read)).toBeGreaterThanOrEqual(900);
  });

  it('renames, with Docker errors for taken, same and invalid names; events carry the old name', () => {
    expect(d.docker(['rename', 'st', 'st2']).status).toBe(0);
    expect(d.docker(['inspect', '-f', '{{.Name}}', 'st2']).stdout).toBe('/st2\n');
    expect(d.docker(['rename', 'st2', 'tops']).stderr).toContain('Error when allocating new name: Conflict. The container name "/tops" is already in use by container');
    expect(d.docker(['rename', 'st2', 'st2']).stderr).toContain('Renaming a container with the same name as its current name');
    expect(d.docker(['rename', 'st2', 'bad name']).stderr).toContain('Invalid container name (/bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    expect(d.docker(['rename', 'nosuch', 'x']).stderr).toContain('No such container: nosuch');
    const ev = d.docker(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'event=rename', '--format', '{{.Actor.Attributes.oldName}} {{.Actor.Attributes.name}}']);
    expect(ev.stdout).toBe('/st st2\n');
  });

  it('waits for next-exit and removed', async () => {
    expect(d.docker(['run', '-d', '--name', 'w1', IMG, 'sleep', '300']).status).toBe(0);
    const waitRemoved = d.api<{ StatusCode: number }>('POST', '/containers/w1/wait?condition=removed');
    const waitExit = d.api<{ StatusCode: number }>('POST', '/containers/w1/wait?condition=next-exit');
    await sleep(200);
    expect(d.docker(['kill', '-s', 'KILL', 'w1']).status).toBe(0);
    expect((await waitExit).body.StatusCode).toBe(137);
    let removedDone = false;
    void waitRemoved.then(() => (removedDone = true));
    await sleep(200);
    expect(removedDone).toBe(false);
    expect(d.docker(['rm', 'w1']).status).toBe(0);
    expect((await waitRemoved).body.StatusCode).toBe(137);
    const bad = await d.api<{ message: string }>('POST', '/containers/tops/wait?condition=sometime');
    expect(bad.status).toBe(400);
  });

  it('container prune removes stopped containers by until and label, and reports the space', async () => {
    expect(d.docker(['run', '--name', 'keepme', '-l', 'keep=yes', IMG, 'true']).status).toBe(0);
    expect(d.docker(['run', '--name', 'junk', IMG, 'sh', '-c', 'head -c 5000 /dev/zero > /junk']).status).toBe(0);
    const recent = await d.api<{ ContainersDeleted: string[] | null }>('POST', `/containers/prune?filters=${encodeURIComponent('{"until":["1h"]}')}`);
    expect(recent.body.ContainersDeleted).toBeNull();
    const junkId = d.docker(['inspect', '-f', '{{.Id}}', 'junk']).stdout.trim();
    const r = d.docker(['container', 'prune', '-f', '--filter', 'label!=keep=yes']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(junkId);
    expect(r.stdout).toMatch(/Total reclaimed space: 5(\.\d+)?kB/);
    expect(existsSync(join(d.dataRoot, 'containers', junkId))).toBe(false);
    const names = d.docker(['ps', '-a', '--format', '{{.Names}}']).stdout.split('\n');
    expect(names).toContain('keepme');
    expect(names).toContain('count');
    expect(names).not.toContain('p1');
    const bad = await d.api<{ message: string }>('POST', `/containers/prune?filters=${encodeURIComponent('{"colour":["x"]}')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe("invalid filter 'colour'");
  });
});
