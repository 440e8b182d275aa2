// Runs inside the cgroup v2 VM (see ../run-v2.sh): starts the real berthd, runs containers with
// limits over the Engine API and checks what lands in /sys/fs/cgroup. Plain CommonJS, no build step.
// Prints `BERTH-VM-RESULT: PASS` or `BERTH-VM-RESULT: FAIL <reasons>` as its last line.
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const http = require('http');

const BERTH = process.env.BERTH_DIR || '/berth';
const SOCK = '/run/berth.sock';
const CG = '/sys/fs/cgroup';
const PARENT = 'berth-vm';
const IMAGE_TAR = '/berth-busybox.tar';
// Where berthd itself runs, as systemd would put a service: not the root cgroup.
const SERVICE_CG = `${CG}/system.slice/berthd.service`;

const failures = [];
const warnings = [];
const t0 = Date.now();
const log = (msg) => console.log(`berth-vm: [${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
function check(name, ok, detail) {
  log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail === undefined ? '' : `: ${detail}`}`);
  if (!ok) failures.push(`${name}${detail === undefined ? '' : ` (${detail})`}`);
  return ok;
}
function warn(msg) {
  log(`WARN ${msg}`);
  warnings.push(msg);
}
class Fatal extends Error {}
function must(name, ok, detail) {
  if (!check(name, ok, detail)) throw new Fatal(name);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const read = (p) => {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch (e) {
    return `<${e.code}>`;
  }
};

function api(method, path, body, opts = {}) {
  return new Promise((resolve, reject) => {
    const headers = {};
    let payload;
    if (body !== undefined && !opts.stream) {
      payload = Buffer.from(JSON.stringify(body));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = payload.length;
    }
    if (opts.stream) headers['Content-Type'] = opts.contentType;
    const req = http.request({ socketPath: SOCK, method, path, headers, timeout: opts.timeout ?? 120_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        let json;
        try {
          json = JSON.parse(raw.toString());
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, raw, text: raw.toString(), json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    if (opts.stream) opts.stream.pipe(req);
    else req.end(payload);
  });
}

async function waitFor(what, fn, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return v;
    await sleep(200);
  }
}

/** runc's conversion of v1 cpu.shares to v2 cpu.weight, computed here independently of limits.ts. */
const runcWeight = (shares) => (shares === 0 ? 100 : 1 + Math.floor(((shares - 2) * 9999) / 262142));

let daemon;
let daemonOut = '';

async function startDaemon() {
  fs.writeFileSync('/berth-empty.json', '{}');
  // As on a systemd host: controllers enabled from the root down to system.slice, berthd in a service cgroup.
  fs.mkdirSync(SERVICE_CG, { recursive: true });
  const ctl = fs.readFileSync(`${CG}/cgroup.controllers`, 'utf8').trim().split(/\s+/);
  const systemdLike = ['cpu', 'io', 'memory', 'pids'].filter((c) => ctl.includes(c)).map((c) => `+${c}`).join(' ');
  fs.writeFileSync(`${CG}/cgroup.subtree_control`, systemdLike);
  fs.writeFileSync(`${CG}/system.slice/cgroup.subtree_control`, systemdLike);
  const args = [
    `${BERTH}/dist/daemon/main.js`,
    '-H', `unix://${SOCK}`,
    '--data-root', '/var/lib/berth',
    '--exec-root', '/run/berth',
    '--bridge', 'berthvm0',
    '--bip', '10.99.0.1/24',
    '--cgroup-parent', PARENT,
    '--config-file', '/berth-empty.json',
    '--log-level', 'debug',
  ];
  daemon = spawn('/bin/sh', ['-c', `echo $$ > ${SERVICE_CG}/cgroup.procs && exec "$0" "$@"`, process.execPath, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = fs.createWriteStream('/tmp/berthd.log', { flags: 'a' });
  for (const s of [daemon.stdout, daemon.stderr])
    s.on('data', (b) => {
      daemonOut += b.toString();
      out.write(b);
    });
  daemon.exited = new Promise((resolve) => daemon.on('exit', (code, signal) => resolve({ code, signal })));
  const up = await waitFor(
    'ping',
    async () => {
      if (daemon.exitCode !== null) return false;
      try {
        return (await api('GET', '/_ping', undefined, { timeout: 5000 })).text === 'OK';
      } catch {
        return false;
      }
    },
    90_000,
  );
  must('berthd answers /_ping', up, up ? undefined : `exit=${daemon.exitCode}`);
  check('berthd runs in its service cgroup', read(`/proc/${daemon.pid}/cgroup`) === '0::/system.slice/berthd.service', read(`/proc/${daemon.pid}/cgroup`));
  const info = await api('GET', '/info');
  check('/info CgroupVersion is 2', info.json && info.json.CgroupVersion === '2', info.json && info.json.CgroupVersion);
}

async function loadImage() {
  const res = await api('POST', '/images/load?quiet=1', undefined, { stream: fs.createReadStream(IMAGE_TAR), contentType: 'application/x-tar' });
  must('POST /images/load', res.status === 200 && !/errorDetail/.test(res.text), `${res.status} ${res.text.slice(0, 300)}`);
  const img = await api('GET', '/images/busybox:latest/json');
  must('busybox:latest is present after load', img.status === 200, `${img.status} ${img.text.slice(0, 200)}`);
}

async function createStart(body) {
  const c = await api('POST', '/containers/create', body);
  must('create', c.status === 201 && c.json && c.json.Id, `${c.status} ${c.text.slice(0, 300)}`);
  const id = c.json.Id;
  const s = await api('POST', `/containers/${id}/start`);
  must(`start ${id.slice(0, 12)}`, s.status === 204, `${s.status} ${s.text.slice(0, 500)}`);
  return id;
}

const inspect = async (id) => (await api('GET', `/containers/${id}/json`)).json;

async function limitsContainer() {
  const MEM = 67108864;
  const id = await createStart({
    Image: 'busybox',
    // Longer than the brief's 30 s: TCG is slow, and the container must still run when it is force-removed below.
    Cmd: ['sleep', '600'],
    HostConfig: { Memory: MEM, NanoCpus: 500000000, PidsLimit: 50, CpuShares: 512 },
  });
  const info = await inspect(id);
  const pid = info && info.State && info.State.Pid;
  must('limits container is running with a pid', info && info.State.Running && pid > 0, JSON.stringify(info && info.State));
  const dir = `${CG}/${PARENT}/${id}`;
  must(`cgroup ${PARENT}/<id> exists`, fs.existsSync(dir));
  const parentCtl = read(`${CG}/${PARENT}/cgroup.subtree_control`).split(/\s+/);
  check(`${PARENT}/cgroup.subtree_control enables cpu memory pids`, ['cpu', 'memory', 'pids'].every((c) => parentCtl.includes(c)), parentCtl.join(' '));
  check('memory.max', read(`${dir}/memory.max`) === String(MEM), read(`${dir}/memory.max`));
  if (fs.existsSync(`${dir}/memory.swap.max`)) {
    // Docker: MemorySwap unset with Memory set means memory+swap = 2 x memory, so swap = memory.
    check('memory.swap.max', read(`${dir}/memory.swap.max`) === String(MEM), read(`${dir}/memory.swap.max`));
  } else warn('kernel has no memory.swap.max');
  check('cpu.max', read(`${dir}/cpu.max`) === '50000 100000', read(`${dir}/cpu.max`));
  check('pids.max', read(`${dir}/pids.max`) === '50', read(`${dir}/pids.max`));
  const { sharesToWeight } = require(`${BERTH}/dist/daemon/cgroups/limits.js`);
  check('limits.ts sharesToWeight(512) matches runc', sharesToWeight(512) === runcWeight(512), `${sharesToWeight(512)} vs ${runcWeight(512)}`);
  check('cpu.weight', read(`${dir}/cpu.weight`) === String(runcWeight(512)), `${read(`${dir}/cpu.weight`)}, want ${runcWeight(512)}`);
  const procs = read(`${dir}/cgroup.procs`).split(/\s+/);
  check('container pid is in cgroup.procs', procs.includes(String(pid)), `pid ${pid}, procs [${procs.join(' ')}]`);
  check('container pid /proc/<pid>/cgroup', read(`/proc/${pid}/cgroup`) === `0::/${PARENT}/${id}`, read(`/proc/${pid}/cgroup`));
  // The container gets a cgroup namespace of its own (rooted at its cgroup).
  let ns;
  try {
    ns = fs.readlinkSync(`/proc/${pid}/ns/cgroup`) !== fs.readlinkSync('/proc/self/ns/cgroup') ? 'own' : 'host';
  } catch (e) {
    ns = e.code;
  }
  check('container has its own cgroup namespace', ns === 'own', ns);
  // Its /sys/fs/cgroup (seen through its mount namespace): cgroup2, read-only, rooted at its own cgroup.
  check('container sees its memory.max at /sys/fs/cgroup', read(`/proc/${pid}/root/sys/fs/cgroup/memory.max`) === String(MEM), read(`/proc/${pid}/root/sys/fs/cgroup/memory.max`));
  const cgMount = read(`/proc/${pid}/mountinfo`).split('\n').find((l) => l.split(' ')[4] === '/sys/fs/cgroup') || '';
  check('container /sys/fs/cgroup is a read-only cgroup2', / - cgroup2 /.test(cgMount) && cgMount.split(' ')[5].split(',').includes('ro'), cgMount);
  return id;
}

async function oomContainer() {
  const id = await createStart({
    Image: 'busybox',
    Cmd: ['sh', '-c', 'x=$(head -c 50000000 /dev/zero | tr "\\0" a); echo survived'],
    HostConfig: { Memory: 8388608 },
  });
  const dir = `${CG}/${PARENT}/${id}`;
  // Usually still running here: the shell needs a while under TCG to fill 8 MiB.
  if (fs.existsSync(`${dir}/memory.max`)) check('oom container memory.max', read(`${dir}/memory.max`) === '8388608', read(`${dir}/memory.max`));
  const done = await waitFor('exit', async () => {
    const i = await inspect(id);
    return i && !i.State.Running && i.State.Status === 'exited' ? i : null;
  }, 180_000);
  must('oom container exits within 180 s', !!done);
  const logs = await api('GET', `/containers/${id}/logs?stdout=1&stderr=1`);
  check('oom container did not print "survived"', !logs.text.includes('survived'), JSON.stringify(logs.text.slice(-200)));
  check('oom container exit code is 137', done.State.ExitCode === 137, done.State.ExitCode);
  // Docker reports OOMKilled; berth never reads memory.events (v2) or memory.oom_control (v1).
  check('State.OOMKilled is true after an OOM kill', done.State.OOMKilled === true, `OOMKilled ${done.State.OOMKilled}`);
  // inspect says "exited" as soon as the state is saved; the cgroup goes a moment later (after the network).
  const gone = await waitFor('rmdir', () => !fs.existsSync(dir), 10_000);
  check('oom container cgroup removed within 10 s of its exit', gone);
  const kmsg = spawnSync('dmesg', [], { encoding: 'utf8' }).stdout || '';
  const oomLine = kmsg.split('\n').find((l) => /Memory cgroup out of memory|oom-kill/.test(l));
  check('kernel logged a memory cgroup OOM kill', !!oomLine, oomLine);
  return id;
}

/** The other paths through the limits: swap unlimited, an explicit CFS quota and period, and pids.max enforced. */
async function quotaPidsContainer() {
  const id = await createStart({
    Image: 'busybox',
    // The inner shell forks until pids.max refuses (and dies of it); the outer one then stays, without forking.
    Cmd: ['sh', '-c', "sh -c 'i=0; while [ $i -lt 20 ]; do sleep 600 & i=$((i+1)); done'; echo forked; exec sleep 600"],
    HostConfig: { Memory: 33554432, MemorySwap: -1, CpuQuota: 25000, CpuPeriod: 50000, PidsLimit: 8 },
  });
  const dir = `${CG}/${PARENT}/${id}`;
  check('MemorySwap -1: memory.swap.max', !fs.existsSync(`${dir}/memory.swap.max`) || read(`${dir}/memory.swap.max`) === 'max', read(`${dir}/memory.swap.max`));
  check('CpuQuota 25000 CpuPeriod 50000: cpu.max', read(`${dir}/cpu.max`) === '25000 50000', read(`${dir}/cpu.max`));
  check('no CpuShares: cpu.weight stays 100', read(`${dir}/cpu.weight`) === '100', read(`${dir}/cpu.weight`));
  const logs = await waitFor('fork failure', async () => {
    const l = await api('GET', `/containers/${id}/logs?stdout=1&stderr=1`);
    return l.text.includes('forked') ? l.text : null;
  }, 30_000);
  check('PidsLimit 8: the shell cannot fork past pids.max', !!logs && /can't fork|Resource temporarily unavailable/.test(logs), JSON.stringify((logs || '').slice(-200)));
  const current = Number(read(`${dir}/pids.current`));
  check('pids.current <= pids.max 8 in the running container', current > 1 && current <= 8, `pids.current ${read(`${dir}/pids.current`)}, pids.max ${read(`${dir}/pids.max`)}`);
  const events = read(`${dir}/pids.events`);
  check('pids.events counts the refused forks', /^max [1-9]/.test(events), events);
  return id;
}

/** Docker clamps CpuShares to [2, 262144] (with a warning); runc's conversion then gives a cpu.weight in [1, 10000]. */
async function sharesRange() {
  for (const [shares, weight] of [[1, 1], [1000000, 10000]]) {
    const c = await api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '600'], HostConfig: { CpuShares: shares } });
    must('create', c.status === 201 && c.json && c.json.Id, `${c.status} ${c.text.slice(0, 300)}`);
    const st = await api('POST', `/containers/${c.json.Id}/start`);
    const got = st.status === 204 ? read(`${CG}/${PARENT}/${c.json.Id}/cpu.weight`) : `start ${st.status} ${st.text.trim().slice(0, 300)}`;
    check(`CpuShares ${shares} starts with cpu.weight ${weight}`, got === String(weight), got);
    await remove(c.json.Id, `CpuShares ${shares} container`);
  }
}

/** berthd killed outright: its successor must not leave the old containers' processes and cgroups behind. */
async function crashRecovery() {
  const id = await createStart({ Image: 'busybox', Cmd: ['sleep', '600'], HostConfig: { Memory: 67108864 } });
  const pid = (await inspect(id)).State.Pid;
  const dir = `${CG}/${PARENT}/${id}`;
  daemon.kill('SIGKILL');
  await daemon.exited;
  daemon = null;
  await startDaemon();
  const alive = () => fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(read(`/proc/${pid}/status`));
  const i = await inspect(id);
  check('after a crash and restart the container is exited', i && i.State.Status === 'exited' && !i.State.Running, JSON.stringify(i && i.State));
  check("after a crash and restart the container's process is gone", !alive(), `pid ${pid} still runs in ${read(`/proc/${pid}/cgroup`)}`);
  check("after a crash and restart the container's cgroup is gone", !fs.existsSync(dir), `cgroup.procs=[${read(`${dir}/cgroup.procs`)}]`);
  const r = await api('DELETE', `/containers/${id}?force=1`);
  check('DELETE the crashed container', r.status === 204, `${r.status} ${r.text.slice(0, 300)}`);
  check('crashed container: process and cgroup gone when DELETE returns', !alive() && !fs.existsSync(dir), `pid alive=${alive()}, cgroup=${fs.existsSync(dir)}`);
  // Clean up by hand what berthd left, so that the shutdown check below tests shutdown alone.
  if (alive()) {
    process.kill(pid, 'SIGKILL');
    await waitFor('reap', () => !alive(), 5000);
  }
  if (fs.existsSync(dir)) await waitFor('rmdir', () => {
    try {
      fs.rmdirSync(dir);
      return true;
    } catch {
      return false;
    }
  }, 5000);
}

async function remove(id, label) {
  const r = await api('DELETE', `/containers/${id}?force=1`);
  check(`DELETE ${label} ?force=1`, r.status === 204, `${r.status} ${r.text.slice(0, 300)}`);
  const dir = `${CG}/${PARENT}/${id}`;
  if (fs.existsSync(dir)) {
    const later = await waitFor('rmdir', () => !fs.existsSync(dir), 5000);
    check(`${label} cgroup gone when DELETE returns`, false, later ? 'only gone some time after DELETE returned' : `still there: cgroup.procs=[${read(`${dir}/cgroup.procs`)}]`);
  } else check(`${label} cgroup gone when DELETE returns`, true);
}

/** pause/unpause through cgroup.freeze, stats and top from the v2 files, on the running limits container. */
async function pauseStatsTop(id) {
  const dir = `${CG}/${PARENT}/${id}`;
  const pid = (await inspect(id)).State.Pid;
  const p = await api('POST', `/containers/${id}/pause`);
  check('POST pause', p.status === 204, `${p.status} ${p.text.slice(0, 300)}`);
  check('paused: cgroup.freeze is 1', read(`${dir}/cgroup.freeze`) === '1', read(`${dir}/cgroup.freeze`));
  check('paused: cgroup.events says frozen 1', /^frozen 1$/m.test(read(`${dir}/cgroup.events`)), read(`${dir}/cgroup.events`));
  check('paused: State.Status paused', (await inspect(id)).State.Status === 'paused');
  const ex = await api('POST', `/containers/${id}/exec`, { Cmd: ['true'] });
  check('exec into a paused container is 409', ex.status === 409, `${ex.status} ${ex.text.slice(0, 200)}`);
  const u = await api('POST', `/containers/${id}/unpause`);
  check('POST unpause', u.status === 204 && read(`${dir}/cgroup.freeze`) === '0', `${u.status} freeze=${read(`${dir}/cgroup.freeze`)}`);
  const st = await api('GET', `/containers/${id}/stats?stream=false&one-shot=true`);
  const s = st.json || {};
  check('stats: memory_stats.limit is memory.max', s.memory_stats && s.memory_stats.limit === 67108864, JSON.stringify(s.memory_stats && s.memory_stats.limit));
  check('stats: memory_stats.usage from memory.current', s.memory_stats && s.memory_stats.usage > 0, JSON.stringify(s.memory_stats && s.memory_stats.usage));
  check('stats: cpu total_usage from cpu.stat', s.cpu_stats && s.cpu_stats.cpu_usage.total_usage > 0, JSON.stringify(s.cpu_stats));
  check('stats: pids_stats current and limit 50', s.pids_stats && s.pids_stats.current >= 1 && s.pids_stats.limit === 50, JSON.stringify(s.pids_stats));
  check('stats: memory_stats.stats has memory.stat keys', s.memory_stats && s.memory_stats.stats && 'anon' in s.memory_stats.stats, Object.keys((s.memory_stats && s.memory_stats.stats) || {}).slice(0, 5).join(','));
  // top runs the host's ps, which the minbase guest does not have.
  if (!['/bin/ps', '/usr/bin/ps'].some((p) => fs.existsSync(p))) return warn('no ps in the guest: top not checked');
  const top = await api('GET', `/containers/${id}/top?ps_args=-o%20pid,comm`);
  const pids = ((top.json && top.json.Processes) || []).map((r) => r[0]);
  check('top lists the container process from cgroup.procs', pids.includes(String(pid)), `${top.status} ${top.text.slice(0, 300)}`);
}

/** An exec joins the container's v2 cgroup; its init waits back in berthd's service cgroup. */
async function execCgroup(id) {
  const ex = await api('POST', `/containers/${id}/exec`, { Cmd: ['sleep', '30'] });
  check('exec create', ex.status === 201, `${ex.status} ${ex.text.slice(0, 200)}`);
  if (ex.status !== 201) return;
  const execId = ex.json.Id;
  const st = await api('POST', `/exec/${execId}/start`, { Detach: true });
  check('exec start detached', st.status === 200, `${st.status} ${st.text.slice(0, 200)}`);
  let pid = 0;
  await waitFor('exec pid', async () => {
    const j = (await api('GET', `/exec/${execId}/json`)).json;
    pid = j && j.Running ? j.Pid : 0;
    return pid > 0;
  }, 10_000);
  if (!pid) return check('exec reports its pid', false);
  check('exec process in the container cgroup', read(`/proc/${pid}/cgroup`) === `0::/${PARENT}/${id}`, read(`/proc/${pid}/cgroup`));
  const parent = Number(/^PPid:\s+(\d+)/m.exec(read(`/proc/${pid}/status`))[1]);
  const home = await waitFor('exec init back home', () => read(`/proc/${parent}/cgroup`) === '0::/system.slice/berthd.service', 5000);
  check("exec init waits in berthd's cgroup", home, read(`/proc/${parent}/cgroup`));
  process.kill(pid, 'SIGKILL');
  let code = null;
  await waitFor('exec end', async () => {
    const j = (await api('GET', `/exec/${execId}/json`)).json;
    code = j && !j.Running ? j.ExitCode : null;
    return code !== null;
  }, 10_000);
  check('exec exit code 137 after SIGKILL', code === 137, String(code));
}

/** docker update of the running limits container: the new values land in its cgroup files and inspect. */
async function updateLimits(id) {
  const dir = `${CG}/${PARENT}/${id}`;
  const bad = await api('POST', `/containers/${id}/update`, { Memory: 4194304 });
  check('update Memory 4 MiB is 400 with dockerd message', bad.status === 400 && bad.json && bad.json.message === 'Minimum memory limit allowed is 6MB', `${bad.status} ${bad.text}`);
  check('a refused update leaves memory.max', read(`${dir}/memory.max`) === '67108864', read(`${dir}/memory.max`));
  const r = await api('POST', `/containers/${id}/update`, { Memory: 33554432, MemorySwap: 67108864, NanoCpus: 250000000, PidsLimit: 20, CpuShares: 1024 });
  check('POST update', r.status === 200 && r.json && Array.isArray(r.json.Warnings), `${r.status} ${r.text.slice(0, 300)}`);
  check('updated memory.max', read(`${dir}/memory.max`) === '33554432', read(`${dir}/memory.max`));
  if (fs.existsSync(`${dir}/memory.swap.max`)) check('updated memory.swap.max (swap above memory)', read(`${dir}/memory.swap.max`) === '33554432', read(`${dir}/memory.swap.max`));
  check('updated cpu.max', read(`${dir}/cpu.max`) === '25000 100000', read(`${dir}/cpu.max`));
  check('updated pids.max', read(`${dir}/pids.max`) === '20', read(`${dir}/pids.max`));
  check('updated cpu.weight', read(`${dir}/cpu.weight`) === String(runcWeight(1024)), `${read(`${dir}/cpu.weight`)}, want ${runcWeight(1024)}`);
  const hc = (await inspect(id)).HostConfig;
  check('inspect shows the updated HostConfig', hc.Memory === 33554432 && hc.MemorySwap === 67108864 && hc.NanoCpus === 250000000 && hc.PidsLimit === 20 && hc.CpuShares === 1024, JSON.stringify(hc).slice(0, 300));
}

/** --cpuset-cpus/--cpuset-mems: the cpuset controller for the parent's children, the lists written at start and by an update. */
async function cpusetContainer() {
  const allowed = (pid) => (/^Cpus_allowed_list:\s+(\S+)/m.exec(read(`/proc/${pid}/status`)) || [])[1];
  const host = read(`${CG}/cpuset.cpus.effective`);
  const id = await createStart({ Image: 'busybox', Cmd: ['sleep', '600'], HostConfig: { CpusetCpus: '1', CpusetMems: '0' } });
  const dir = `${CG}/${PARENT}/${id}`;
  const pid = (await inspect(id)).State.Pid;
  const parentCtl = read(`${CG}/${PARENT}/cgroup.subtree_control`).split(/\s+/);
  check(`${PARENT}/cgroup.subtree_control enables cpuset`, parentCtl.includes('cpuset'), parentCtl.join(' '));
  check('cpuset.cpus 1', read(`${dir}/cpuset.cpus`) === '1', read(`${dir}/cpuset.cpus`));
  check('cpuset.mems 0', read(`${dir}/cpuset.mems`) === '0', read(`${dir}/cpuset.mems`));
  check('container pid runs on CPU 1 alone', allowed(pid) === '1', allowed(pid));
  const bad = await api('POST', `/containers/${id}/update`, { CpusetCpus: '5' });
  const want = `Requested CPUs are not available - requested 5, available: ${host}`;
  check('update CpusetCpus 5 is 400 with dockerd message', bad.status === 400 && bad.json && bad.json.message === want, `${bad.status} ${bad.text}`);
  const r = await api('POST', `/containers/${id}/update`, { CpusetCpus: '0' });
  check('POST update CpusetCpus 0', r.status === 200, `${r.status} ${r.text.slice(0, 300)}`);
  check('updated cpuset.cpus', read(`${dir}/cpuset.cpus`) === '0', read(`${dir}/cpuset.cpus`));
  check('container pid moved to CPU 0', allowed(pid) === '0', allowed(pid));
  const hc = (await inspect(id)).HostConfig;
  check('inspect shows CpusetCpus 0, CpusetMems 0', hc.CpusetCpus === '0' && hc.CpusetMems === '0', `${hc.CpusetCpus} ${hc.CpusetMems}`);
  return id;
}

/** Runs a container to its end; its exit code and its output (stdout and stderr, frame headers and all). */
async function runToEnd(label, body) {
  const id = await createStart({ Image: 'busybox', ...body });
  const w = await api('POST', `/containers/${id}/wait`, undefined, { timeout: 120_000 });
  const logs = await api('GET', `/containers/${id}/logs?stdout=1&stderr=1`);
  await remove(id, label);
  return { code: w.json && w.json.StatusCode, out: logs.text };
}

/**
 * The device cgroup as an eBPF program on the container's cgroup: opens refused or let through
 * to the driver (major 42 has none: ENXIO once the filter allows it), as the rules say.
 */
async function devicesContainers() {
  const EPERM = 'Operation not permitted';
  const ENXIO = 'No such device or address';
  const d42 = 'mknod /tmp/d42 c 42 0 && echo made';
  // `true`, not `:`: a failed redirection of a special builtin ends a non-interactive shell.
  const std = await runToEnd('standard devices container', {
    Cmd: ['sh', '-c', `${d42}; true < /tmp/d42; mknod /tmp/blk b 7 0; head -c1 /tmp/blk; echo x > /dev/null && head -c3 /dev/zero | wc -c && head -c2 /dev/urandom | wc -c && exec 3<>/dev/ptmx && echo std-ok`],
  });
  check('default rules: mknod allowed', std.out.includes('made'), JSON.stringify(std.out));
  check('default rules: open of a made char device refused (EPERM)', std.out.includes(`/tmp/d42: ${EPERM}`), JSON.stringify(std.out));
  check('default rules: open of a made block device refused (EPERM)', std.out.includes(`/tmp/blk: ${EPERM}`), JSON.stringify(std.out));
  check('default rules: /dev/null, zero, urandom, ptmx open', std.out.includes('std-ok') && std.code === 0, JSON.stringify(std.out));
  const rule = await runToEnd('cgroup rule container', {
    Cmd: ['sh', '-c', `${d42}; true < /tmp/d42; echo > /tmp/d42`],
    HostConfig: { DeviceCgroupRules: ['c 42:* rm'] },
  });
  check('DeviceCgroupRules c 42:* rm: read open reaches the driver (ENXIO)', rule.out.includes(`/tmp/d42: ${ENXIO}`), JSON.stringify(rule.out));
  check('DeviceCgroupRules c 42:* rm: write open refused (EPERM)', rule.out.includes(`/tmp/d42: ${EPERM}`), JSON.stringify(rule.out));
  const mapped = await runToEnd('mapped device container', {
    Cmd: ['sh', '-c', "echo $(stat -c '%t:%T' /dev/myzero) $(head -c2 /dev/myzero | wc -c)"],
    HostConfig: { Devices: [{ PathOnHost: '/dev/zero', PathInContainer: '/dev/myzero', CgroupPermissions: 'r' }] },
  });
  check('Devices /dev/zero:/dev/myzero: node 1:5 that reads', mapped.out.includes('1:5 2') && mapped.code === 0, JSON.stringify(mapped.out));
  const held = /^CapPrm:\s*(\S+)$/m.exec(read(`/proc/${daemon.pid}/status`))[1];
  const priv = await runToEnd('privileged container', {
    Cmd: ['sh', '-c', `${d42}; true < /tmp/d42; echo $(grep CapEff /proc/self/status) $(grep ' /sys ' /proc/mounts)`],
    HostConfig: { Privileged: true },
  });
  check('privileged: any device open reaches the driver (ENXIO)', priv.out.includes(`/tmp/d42: ${ENXIO}`), JSON.stringify(priv.out));
  check("privileged: CapEff is the daemon's CapPrm", new RegExp(`CapEff:\\s*${held}`).test(priv.out), `${held} in ${JSON.stringify(priv.out)}`);
  check('privileged: /sys mounted rw', / \/sys sysfs rw,/.test(priv.out), JSON.stringify(priv.out));
  // docker update writes limits only: the filter stays.
  const id = await createStart({ Image: 'busybox', Cmd: ['sh', '-c', `sleep 5; ${d42}; true < /tmp/d42; sleep 300`] });
  const u = await api('POST', `/containers/${id}/update`, { Memory: 33554432, MemorySwap: 67108864, PidsLimit: 30 });
  check('update of the devices container', u.status === 200, `${u.status} ${u.text.slice(0, 200)}`);
  const after = await waitFor('open after update', async () => {
    const l = await api('GET', `/containers/${id}/logs?stdout=1&stderr=1`);
    return l.text.includes('/tmp/d42:') && l.text;
  }, 60_000);
  check('after docker update: the open is still refused (EPERM)', !!after && after.includes(`/tmp/d42: ${EPERM}`), JSON.stringify(after));
  await remove(id, 'updated devices container');
}

/** dockerd on v2: real-time values are a 400 at create (no CPU real-time scheduler there), stored by update (runc ignores them), refused as daemon flags. */
async function realtime(id) {
  const c = await api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { CpuRealtimeRuntime: 1000 } });
  check('create with CpuRealtimeRuntime is 400 with dockerd message', c.status === 400 && c.json && c.json.message === 'Your kernel does not support CPU real-time scheduler', `${c.status} ${c.text}`);
  const u = await api('POST', `/containers/${id}/update`, { CpuRealtimeRuntime: 1000 });
  check('update CpuRealtimeRuntime is stored, as dockerd does', u.status === 200 && (await inspect(id)).HostConfig.CpuRealtimeRuntime === 1000, `${u.status} ${u.text.slice(0, 300)}`);
  const flags = spawnSync(process.execPath, [`${BERTH}/dist/daemon/main.js`, '-H', 'unix:///run/berth-rt.sock', '--config-file', '/berth-empty.json', '--cpu-rt-runtime', '1000'], { encoding: 'utf8', timeout: 60_000 });
  check(
    'berthd --cpu-rt-runtime refuses to start on v2',
    flags.status === 1 && flags.stderr.includes('daemon-scoped cpu-rt-period and cpu-rt-runtime are not implemented for cgroup v2'),
    `${flags.status} ${flags.stderr.slice(0, 300)}`,
  );
}

async function stopDaemon() {
  daemon.kill('SIGTERM');
  const end = await Promise.race([daemon.exited, sleep(60_000).then(() => null)]);
  must('berthd exits within 60 s of SIGTERM', !!end);
  check('berthd exit status 0', end.code === 0, JSON.stringify(end));
  check(`${PARENT} parent cgroup removed at shutdown`, !fs.existsSync(`${CG}/${PARENT}`), fs.existsSync(`${CG}/${PARENT}`) ? fs.readdirSync(`${CG}/${PARENT}`).filter((f) => !f.includes('.')).join(' ') : undefined);
  daemon = null;
}

async function main() {
  log(`kernel ${read('/proc/sys/kernel/osrelease')}, controllers: ${read(`${CG}/cgroup.controllers`)}`);
  must('cgroup v2 mounted at /sys/fs/cgroup', fs.existsSync(`${CG}/cgroup.controllers`));
  await startDaemon();
  await loadImage();
  const c1 = await limitsContainer();
  const c2 = await oomContainer();
  const c3 = await quotaPidsContainer();
  await pauseStatsTop(c1);
  await execCgroup(c1);
  await updateLimits(c1);
  await realtime(c1);
  const c4 = await cpusetContainer();
  await remove(c1, 'running limits container');
  await remove(c4, 'running cpuset container');
  await remove(c2, 'exited oom container');
  await remove(c3, 'running pids container');
  await sharesRange();
  await devicesContainers();
  await crashRecovery();
  await stopDaemon();
}

main()
  .catch((e) => {
    if (!(e instanceof Fatal)) failures.push(`error: ${e.stack || e}`);
  })
  .then(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await Promise.race([daemon.exited, sleep(20_000)]);
    }
    if (failures.length) {
      console.log('berth-vm: ---- berthd output (last 6000 chars) ----');
      console.log(daemonOut.slice(-6000));
    }
    log(`done: ${failures.length} failure(s), ${warnings.length} warning(s)`);
    for (const w of warnings) console.log(`BERTH-VM-WARN: ${w}`);
    console.log(failures.length ? `BERTH-VM-RESULT: FAIL ${failures.join('; ')}` : 'BERTH-VM-RESULT: PASS');
    process.exit(failures.length ? 1 : 0);
  });
