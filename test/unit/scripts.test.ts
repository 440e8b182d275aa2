// The install, test and provisioning scripts and the Vagrantfile cannot run here in full: lint them.
import { spawnSync } from 'child_process';
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');
const scripts = [
  ...readdirSync(join(ROOT, 'scripts')).filter((f) => f.endsWith('.sh')).map((f) => `scripts/${f}`),
  ...readdirSync(join(ROOT, 'scripts/lib')).map((f) => `scripts/lib/${f}`),
  '.ci/run',
];
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

describe('scripts', () => {
  it.each(scripts)('%s parses as bash', (f) => {
    const r = spawnSync('bash', ['-n', join(ROOT, f)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!has('shellcheck'))('passes shellcheck', () => {
    const r = spawnSync('shellcheck', ['-x', ...scripts.map((f) => join(ROOT, f))], { encoding: 'utf8', cwd: ROOT });
    expect(r.stdout).toBe('');
  });

  it.skipIf(!has('ruby'))('Vagrantfile is valid Ruby and provisions with the plain script', () => {
    const r = spawnSync('ruby', ['-c', join(ROOT, 'Vagrantfile')], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('Syntax OK');
    expect(readFileSync(join(ROOT, 'Vagrantfile'), 'utf8')).toContain('scripts/vagrant-provision.sh');
  });

  it('CI runs the README test command', () => {
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toContain('bash scripts/test.sh');
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('sudo ./scripts/test.sh');
  });
});
