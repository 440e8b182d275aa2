// `docker top`: ps runs on the host and only the container's processes are kept, as dockerd does.
import { spawn } from 'child_process';
import { badRequest, serverError } from '../server/errors';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** dockerd refuses `-o x=PID` style renames of the PID column, other than `pid=`. */
export function validatePsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    if (m[1] !== 'pid') throw badRequest(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

/** Splits ps output into columns; the last column (the command) keeps its spaces. */
export function parsePsOutput(output: string, pids: Set<number>): TopResult {
  const lines = output.split('\n');
  const titles = lines[0].trim().split(/[ \t]+/).filter(Boolean);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw serverError("Couldn't find PID field in ps output");
  const processes: string[][] = [];
  const add = (fields: string[]): void => {
    processes.push([...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')]);
  };
  // Thread lines (`ps m`) carry "-" as PID and belong to the process line above them.
  let previousKept = false;
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const fields = line.trim().split(/[ \t]+/);
    if (fields[pidIndex] === '-') {
      if (previousKept) add(fields);
      continue;
    }
    const pid = Number(fields[pidIndex]);
    if (!Number.isInteger(pid)) throw serverError(`Unexpected pid '${fields[pidIndex]}': strconv.Atoi: parsing "${fields[pidIndex]}": invalid syntax`);
    previousKept = pids.has(pid);
    if (previousKept) add(fields);
  }
  return { Titles: titles, Processes: processes };
}

function ps(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ps', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

export async function top(pids: number[], psArgs: string): Promise<TopResult> {
  validatePsArgs(psArgs);
  const args = psArgs.split(' ');
  // `-q` with the PIDs keeps ps short; some options (f) refuse it, then ps lists everything.
  let r = await ps([...args, `-q${pids.join(',')}`]);
  if (r.code !== 0) r = await ps(args);
  if (r.code !== 0) throw serverError(`ps: ${r.err.split('\n')[0] || `exit status ${r.code}`}`);
  return parsePsOutput(r.out, new Set(pids));
}
